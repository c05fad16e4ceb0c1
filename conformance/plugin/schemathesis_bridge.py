"""Schemathesis' check results become records, through schemathesis' own schema hooks.

- `after_validate` sees every check run on an answer (the contract tests' and the hand-written tests'):
  a failing check is a `fail` record for the requirements of its rule; a passing check is a `pass` only
  where it applied to the answer (schemathesis counts "not applicable" as success for its built-in checks,
  so their applicability is decided here, from the case and the answer).
- `filter_failure` drops what is no failure: a 0-byte body where the spec allows one, and a `RuleWarning`,
  which becomes a `warn` record instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsonschema_rs
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure
from schemathesis.engine import Status

from ..checks import RuleViolation, RuleWarning
from ..outcomes import FAIL, PASS, WARN, Record
from ..traceability import response_definition, response_requirements, response_schema, schema_evaluation

if TYPE_CHECKING:
    from ..run import Run

MESSAGE_LIMIT = 1500


def install(run: Run) -> None:
    schema = run.schema

    @schema.hook
    def filter_failure(context: Any, failure: Failure, case: Any, response: Any) -> bool:
        if isinstance(failure, RuleWarning):
            _record(run, WARN, run.profile.rule_requirements[failure.rule], failure.rule, failure)
            return False
        # A 0-byte body is not JSON, but `x-empty-body: allowed` responses may be empty.
        if response.content or "response_schema_conformance" not in type(failure).checks:
            return True
        return _definition(run, case, response.status_code).get("x-empty-body") != "allowed"

    validators: dict[tuple[str, int], Any] = {}

    @schema.hook
    def after_validate(context: Any, case: Any, response: Any, results: list[Any]) -> None:
        run.recorder.note_operation(case.operation.label, response.request, response.status_code)
        for result in results:
            if result.name == "response_schema_conformance" and _evaluate_schema(run, validators, case, response):
                continue  # every error of the body recorded, and the evidence of the rest
            if result.status == Status.SUCCESS:
                if applies(run, result.name, case, response):
                    _record(run, PASS, pass_requirements(run, result.name, case, response), result.name)
            elif result.failure is not None and not isinstance(result.failure, RuleWarning):
                ids = failure_requirements(run, result.name, result.failure, case, response)
                _record(run, FAIL, ids, result.name, result.failure)


def _evaluate_schema(run: Run, validators: dict[tuple[str, int], Any], case: Any, response: Any) -> bool:
    """Validate a JSON body against its documented schema, all errors at once. False: no JSON body to judge."""
    operation, status = case.operation.definition.raw, response.status_code
    if not response.content:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    key = (case.operation.label, status)
    if key not in validators:
        schema = response_schema(run.profile.spec, operation, status)
        validators[key] = None if schema is None else jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    if validators[key] is None:
        return True  # the documents give this answer no body schema: nothing to judge, no evidence
    failures, passed = schema_evaluation(run.profile.spec, operation, status, body, validators[key])
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
    return tuple(dict.fromkeys(i for rule in rules for i in run.profile.rule_requirements[rule]))


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
    if check in operation.get("x-check-requirements", {}):
        return tuple(operation["x-check-requirements"][check])
    return _rule_ids(run, _check_rules(run, check))


def _record(run: Run, status: str, ids: tuple[str, ...], check: str, failure: Failure | None = None) -> None:
    if not ids:
        return  # e.g. a schema pass on a body that reached no rule: no evidence
    recorder = run.recorder
    if failure is None:
        recorder.add(Record(ids, status, recorder.current_test, check))  # type: ignore[arg-type]
        return
    recorder.add(
        Record(
            ids,
            status,  # type: ignore[arg-type]
            recorder.current_test,
            check,
            reason=run.masker.text(str(failure.message))[:MESSAGE_LIMIT],
            title=run.masker.text(failure.title),
            exchange=recorder.last_exchange,
        )
    )


__all__ = ["FAIL", "PASS", "WARN", "install"]
