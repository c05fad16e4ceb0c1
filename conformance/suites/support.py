"""Helpers for hand-written conformance tests: build a schemathesis case for a documented operation and
validate a response with the profile's checks, so that every answer the suite sees feeds the ledger."""

from __future__ import annotations

import json
from typing import Any

import requests
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation

from ..runtime import Run


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
    kwargs: dict[str, Any] = {"params": query, "headers": headers or {}, "timeout": run.target.timeout}
    if body is not None and raw_body is None:
        # Raw UTF-8, not \u escapes: a Cyrillic text must reach the target as the UTF-8 bytes the documents require.
        raw_body = json.dumps(body, ensure_ascii=False).encode("utf-8")
    if raw_body is not None:
        kwargs["data"] = raw_body
        kwargs["headers"].setdefault("Content-Type", "application/json")
    response = session.request(op.method.upper(), run.target.base_url + path, **kwargs)
    case = make_case(op, path_parameters=path_parameters, query=query, body=body)
    try:
        case.validate_response(response, checks=list(checks or run.profile.checks))
    except FailureGroup as group:
        run.deferred_check_failures.append(run.masker.text(str(group)))
    return response


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
