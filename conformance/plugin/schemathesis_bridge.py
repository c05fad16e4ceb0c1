"""Schemathesis' check results become records, through schemathesis' own schema hooks.

- `after_validate` sees every check run on an answer (the contract tests' and the hand-written tests'):
  a failing check is a `fail` record for the requirements of its rule; a passing check is a `pass` only
  where it applied to the answer (schemathesis counts "not applicable" as success for its built-in checks,
  so their applicability is decided here, from the case and the answer).
- `filter_failure` drops what is no failure: a 0-byte body where the spec allows one, and a `RuleWarning`,
  which becomes a `warn` record instead.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure
from schemathesis.engine import Status

from ..checks import RuleViolation, RuleWarning, examined_by
from ..outcomes import FAIL, PASS, WARN, Record, SuiteBug
from ..traceability import response_definition, response_requirements, response_schema, schema_evaluation

if TYPE_CHECKING:
    from ..run import Run

MESSAGE_LIMIT = 1500

# The requirements whose findings `filter_failure` recorded and dropped on the answer being validated, per thread:
# schemathesis then counts the check a success, and its pass must not claim the very rule that answer breached.
_dropped = threading.local()


def install(run: Run) -> None:
    schema = run.schema

    validators: dict[tuple[str, int], Any] = {}

    # The hooks only hand over: their bodies are module functions, which mutation testing can reach.
    @schema.hook
    def filter_failure(context: Any, failure: Failure, case: Any, response: Any) -> bool:
        return _filter_failure(run, validators, failure, case, response)

    @schema.hook
    def after_validate(context: Any, case: Any, response: Any, results: list[Any]) -> None:
        _after_validate(run, validators, case, response, results)


def _filter_failure(
    run: Run, validators: dict[tuple[str, int], Any], failure: Failure, case: Any, response: Any
) -> bool:
    """Keep only failures of documented rules: an advisory finding is recorded as such and never stops a test."""
    if isinstance(failure, RuleWarning):
        ids = _rule_ids(run, (failure.rule,))
        _record(run, WARN, ids, failure.rule, failure)
        _drop(response, ids)
        return False
    check = failure.rule if isinstance(failure, RuleViolation) else next(iter(type(failure).checks), "")
    if check == "response_schema_conformance":
        if not response.content:  # a 0-byte body is not JSON, but `x-empty-body: allowed` answers may be empty
            return _definition(run, case, response.status_code).get("x-empty-body") != "allowed"
        found = _schema_failures(run, validators, case, response)
        if found is None:
            return True
        if not found:  # the documented schema, read as JSON Schema 2020-12, holds: no failure
            return False
        ids = {i for failure_ids, _, _ in found for i in failure_ids}
        return not _advisory_only(run, ids)  # recorded, every error, by after_validate
    if isinstance(failure, RuleViolation):
        ids = set(_rule_ids(run, (failure.rule,)))
    elif check:
        ids = set(failure_requirements(run, check, failure, case, response))
    else:
        return True
    if _advisory_only(run, ids):
        _record(run, FAIL, tuple(ids), check, failure, response.status_code)
        _drop(response, ids)
        return False
    return True


def _drop(response: Any, ids: Any) -> None:
    """Note that the answer breached `ids` (recorded, then dropped as advice)."""
    if getattr(_dropped, "response", None) is not response:
        _dropped.response, _dropped.ids = response, set()
    _dropped.ids.update(ids)


def _breached(response: Any) -> set[str]:
    """The requirements `_drop` noted for this answer, forgotten once read (the answer's validation is over)."""
    ids: set[str] = _dropped.ids if getattr(_dropped, "response", None) is response else set()
    _dropped.response, _dropped.ids = None, set()
    return ids


def _after_validate(
    run: Run, validators: dict[tuple[str, int], Any], case: Any, response: Any, results: list[Any]
) -> None:
    """Every check run on an answer becomes records: a failure, or a pass where the check applied."""
    run.recorder.note_operation(case.operation.label, response.request, response.status_code)
    breached = _breached(response)
    for result in results:
        if result.name == "response_schema_conformance" and _evaluate_schema(run, validators, case, response):
            continue  # every error of the body recorded, and the evidence of the rest
        if result.status == Status.SUCCESS:
            if applies(run, result.name, case, response):
                what = examined_by(result.name) or f"{case.operation.label} answered {response.status_code}"
                held = tuple(i for i in pass_requirements(run, result.name, case, response) if i not in breached)
                if held:  # a check whose every finding was advice recorded above holds nothing on this answer
                    _record(run, PASS, held, result.name, examined=what)
        elif result.failure is not None and not isinstance(result.failure, RuleWarning):
            ids = failure_requirements(run, result.name, result.failure, case, response)
            _record(run, FAIL, ids, result.name, result.failure, response.status_code)


def _advisory_only(run: Run, ids: set[str]) -> bool:
    requirements = run.profile.requirements
    return bool(ids) and all(requirements[i].level == "advisory" for i in ids if i in requirements)


def _schema_failures(
    run: Run, validators: dict[tuple[str, int], Any], case: Any, response: Any
) -> list[tuple[tuple[str, ...], str, list[str | int]]] | None:
    evaluation = _schema_evaluation(run, validators, case, response)
    return None if evaluation is None else evaluation[0]


def _schema_evaluation(run: Run, validators: dict[tuple[str, int], Any], case: Any, response: Any) -> Any:
    """(errors with their ids, ids passed) of a JSON body against its documented schema; None: nothing to judge."""
    operation, status = case.operation.definition.raw, response.status_code
    if not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    key = (case.operation.label, status)
    if key not in validators:
        schema = response_schema(run.profile.spec, operation, status)
        validators[key] = None if schema is None else jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    if validators[key] is None:
        return [], ()  # the documents give this answer no body schema: nothing to judge, no evidence
    return schema_evaluation(run.profile.spec, operation, status, body, validators[key])


def _evaluate_schema(run: Run, validators: dict[tuple[str, int], Any], case: Any, response: Any) -> bool:
    """Record every schema error of a JSON body and the evidence of the rest. False: no JSON body to judge."""
    evaluation = _schema_evaluation(run, validators, case, response)
    if evaluation is None:
        return False
    failures, passed = evaluation
    status = response.status_code
    recorder = run.recorder
    for ids, message, path in failures:
        where = "/" + "/".join(str(step) for step in path)
        recorder.add(
            Record(
                ids or _rule_ids(run, ("response_schema_conformance",)),
                FAIL,
                recorder.current_test,
                "response_schema_conformance",
                reason=run.masker.text(f"{case.operation.label} {status}: at {where}: {message}")[:MESSAGE_LIMIT],
                title=run.masker.text(f"Response violates the schema at {_generic(path)}"),
                exchange=recorder.last_exchange,
                signature=run.masker.text(f"schema {_generic(path)}"),
            )
        )
    if passed:
        recorder.add(Record(passed, PASS, recorder.current_test, "response_schema_conformance"))
    return True


def _generic(path: list[str | int]) -> str:
    """/card/items/3/name -> /card/items/*/name: one finding per place, whichever item broke it."""
    return "/" + "/".join("*" if isinstance(step, int) else str(step) for step in path)


def _definition(run: Run, case: Any, status: int) -> dict[str, Any]:
    return dict(response_definition(run.profile.spec, case.operation.definition.raw, status))


def applies(run: Run, check: str, case: Any, response: Any) -> bool:
    """Whether a check that succeeded really examined something this answer could have broken."""
    mode = case.meta.generation.mode if case.meta is not None else None
    if check == "negative_data_rejection":
        return mode == GenerationMode.NEGATIVE
    if check == "positive_data_acceptance":
        return mode == GenerationMode.POSITIVE
    if check in ("response_schema_conformance", "content_type_conformance"):
        return bool(response.content) and bool(_definition(run, case, response.status_code).get("content"))
    return True


def _rule_ids(run: Run, rules: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for rule in rules for i in run.profile.rule_requirements.get(rule, ())))


def _check_rules(run: Run, check: str) -> tuple[str, ...]:
    function = next((c for c in run.profile.checks if c.__name__ == check), None)
    return tuple(getattr(function, "rules", (check,)))


def pass_requirements(run: Run, check: str, case: Any, response: Any) -> tuple[str, ...]:
    operation = case.operation.definition.raw
    if check == "response_schema_conformance":
        return ()  # a body that is not JSON, or an allowed empty one: no evidence for the schema's rules
    if check in operation.get("x-check-requirements", {}):  # the spec may say it per operation
        return tuple(operation["x-check-requirements"][check])
    return _rule_ids(run, _check_rules(run, check))


def failure_requirements(run: Run, check: str, failure: Failure, case: Any, response: Any) -> tuple[str, ...]:
    spec, operation, status = run.profile.spec, case.operation.definition.raw, response.status_code
    if check == "response_schema_conformance":  # a body that is not JSON at all (a JSON one is evaluated above)
        return response_requirements(spec, operation, status) or _rule_ids(run, ("response_schema_conformance",))
    if isinstance(failure, RuleViolation):
        return _rule_ids(run, (failure.rule,))
    if check == "negative_data_rejection" and not breaks_documented_constraint(run, case):
        return _rule_ids(run, ("negative-data-preferred",)) or _rule_ids(run, (check,))
    if check in operation.get("x-check-requirements", {}):
        return tuple(operation["x-check-requirements"][check])
    return _rule_ids(run, _check_rules(run, check))


_documented_validators: dict[str, Any] = {}


def breaks_documented_constraint(run: Run, case: Any) -> bool:
    """Whether a negative case breaks a constraint the documents state, rather than only a generation hint.

    Schemathesis negates every keyword it knows, `format: int64` included; JSON Schema validation ignores that
    format, so a body it accepts is valid as documented, and refusing it is only the suite's preference. Only
    bodies are re-read this way; a negative case anywhere else counts as documented.
    """
    negative = {location for location, info in case.meta.components.items() if info.mode == GenerationMode.NEGATIVE}
    if not negative or {str(getattr(location, "value", location)) for location in negative} != {"body"}:
        return True
    body_schema = (case.operation.definition.raw.get("requestBody") or {}).get("content", {}).get("application/json")
    if not body_schema or "schema" not in body_schema or case.body is None:
        return True
    key = f"{run.profile.name}:{case.operation.label}"
    if key not in _documented_validators:
        document = {**body_schema["schema"], "components": run.profile.spec.get("components", {})}
        _documented_validators[key] = jsonschema_rs.Draft202012Validator(document, validate_formats=True)
    try:
        return not _documented_validators[key].is_valid(case.body)
    except (ValueError, TypeError):  # not a JSON value at all (schemathesis may send raw bytes): documented
        return True


def _title(check: str, failure: Failure, status: int | None) -> str:
    """Schemathesis' title, unless it would mislead: an invalid request that was refused was not 'accepted'."""
    if check == "negative_data_rejection" and status is not None:
        if 200 <= status < 300:
            return f"Invalid request accepted with {status}"
        return f"Invalid request answered {status}, not the documented refusal"
    if check == "positive_data_acceptance" and status is not None:
        return f"Valid request refused with {status}"
    return failure.title


def _record(
    run: Run,
    status: str,
    ids: tuple[str, ...],
    check: str,
    failure: Failure | None = None,
    answered: int | None = None,
    *,
    examined: str = "",
) -> None:
    if not ids:
        if status == PASS:
            return  # e.g. a schema pass on a body that reached no rule: no evidence
        rule = failure.rule if isinstance(failure, RuleViolation) else check
        raise SuiteBug(
            f"the {check} check found a breach of {rule!r}, which the {run.profile.name} profile maps to no rule"
        )
    recorder = run.recorder
    if failure is None:
        recorder.add(Record(ids, status, recorder.current_test, check, reason=examined))  # type: ignore[arg-type]
        return
    recorder.add(
        Record(
            ids,
            status,  # type: ignore[arg-type]
            recorder.current_test,
            check,
            reason=run.masker.text(str(failure.message))[:MESSAGE_LIMIT],
            title=run.masker.text(_title(check, failure, answered)),
            exchange=recorder.last_exchange,
            signature=run.masker.text(f"{failure.rule}: {failure.title}") if isinstance(failure, RuleViolation) else "",
        )
    )


__all__ = ["FAIL", "PASS", "WARN", "install"]
