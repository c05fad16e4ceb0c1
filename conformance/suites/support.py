"""Helpers for hand-written conformance tests: send a request to a documented operation and validate the
answer with the profile's checks (so every answer the suite sees becomes records), parameters built from the
run, and hypothesis settings sized by the run's budget."""

from __future__ import annotations

import json
from collections.abc import Sized
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation

from ..outcomes import PASS, WARN, Record
from ..plugin import contract_test, run_params
from ..run import Run

__all__ = [
    "Run",
    "body_json",
    "contract_test",
    "examined",
    "has_operation",
    "operation",
    "prefer",
    "property_settings",
    "run_params",
    "send",
    "validate",
]


def prefer(run: Run, requirement: str, holds: bool, message: str, *, over: Sized | None = None) -> None:
    """Record the suite's advice on an advisory rule from inside a test: a pass when `holds`, else a warning.

    A test asserts what the documents state; what the suite only prefers (a status the documents leave open,
    an example's literal values) is judged here instead, so it can never fail the test or the run. `over` names
    what the preference was judged on when it is a collection (the callbacks that came): empty, it is no
    evidence either way, and nothing is recorded.
    """
    if run.profile.requirements[requirement].level != "advisory":
        raise ValueError(f"{requirement} is not advisory: assert it instead")
    if over is not None and len(over) == 0:
        return
    recorder = run.recorder
    recorder.add(
        Record(
            (requirement,),
            PASS if holds else WARN,
            recorder.current_test,
            "test",
            reason="" if holds else run.masker.text(message),
            title="" if holds else run.masker.text(message.splitlines()[0][:200]),
            exchange=None if holds else recorder.last_exchange,
        )
    )


def examined(run: Run, what: str | requests.Response) -> None:
    """Say what the running test examined when it sent nothing itself (an answer a fixture got, the callbacks it
    gathered, a client's journal): a test that ends with neither an answer of its own nor this is no evidence
    (not tested)."""
    if isinstance(what, requests.Response):
        request = what.request
        what = f"the {what.status_code} answer to {request.method} {request.path_url.split('?', 1)[0]}"
    run.recorder.examined(what)


def property_settings(run: Run, *, at_least: int = 5, at_most: int = 50, divide: int = 1) -> settings:
    """Hypothesis settings for a property test, its example count derived from --max-examples.

    No shrinking: these properties fail for what the service does, not for the size of the input, and every
    shrink step would be one more request to a service that may be far away (or answer nothing but errors).
    """
    return settings(
        max_examples=max(at_least, min(run.max_examples // divide, at_most)),
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )


def operation(run: Run, operation_id: str) -> APIOperation:
    for result in run.schema.get_all_operations():
        op = result.ok()
        if op.definition.raw.get("operationId") == operation_id:
            return op
    raise LookupError(f"operation {operation_id} is not part of this run")


def has_operation(run: Run, operation_id: str) -> bool:
    try:
        operation(run, operation_id)
    except LookupError:
        return False
    return True


def send(
    run: Run,
    session: requests.Session,
    operation_id: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    raw_body: bytes | None = None,
    headers: dict[str, str] | None = None,
    checks: tuple[Any, ...] | None = None,
) -> requests.Response:
    """Send a request to a documented operation and run the profile's checks on the answer.

    Check failures do not interrupt the test: they are recorded against their own requirements and
    the plugin fails the test at its end, so the test's own assertion still decides its requirement.
    """
    op = operation(run, operation_id)
    path = op.path.format(**(path_parameters or {}))
    kwargs: dict[str, Any] = {"params": query, "headers": headers or {}}
    if body is not None and raw_body is None:
        # Raw UTF-8, not \u escapes: a Cyrillic text must reach the target as the UTF-8 bytes the documents require.
        raw_body = json.dumps(body, ensure_ascii=False).encode("utf-8")
    if raw_body is not None:
        kwargs["data"] = raw_body
        kwargs["headers"].setdefault("Content-Type", "application/json")
    response = session.request(op.method.upper(), run.target.base_url + path, **kwargs)
    validate(run, make_case(op, path_parameters=path_parameters, query=query, body=body), response, checks)
    return response


def validate(run: Run, case: Any, response: requests.Response, checks: Any = None) -> None:
    """Run the checks on an answer a test received. Their failures are recorded at once (under their own
    requirements) and shown on the test when its body ends, so the test's own assertions still run."""
    try:
        case.validate_response(response, checks=list(checks or run.profile.checks))
    except FailureGroup as group:
        run.recorder.deferred_check_failures.append(run.masker.text(str(group)))


def make_case(
    op: APIOperation,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
) -> Any:
    """A schemathesis Case describing a request the suite sent itself (no body for body-less operations)."""
    extra = {} if body is None else {"body": body}
    return op.Case(path_parameters=path_parameters or {}, query=query or {}, **extra)


def body_json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
