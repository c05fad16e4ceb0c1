"""Authentication (R-LOY-03): without valid Basic credentials no operation serves data.

Every documented operation is probed with no Authorization header, a wrong password, a header that is
not valid Basic, and another scheme. The documents give no status for this (A-4): the refusal is what
counts (R-LOY-03); 401 or 422 is the suite's advice (R-LOY-36), and the report says which one the service
uses. The error answer must still be the documented JSON error object in UTF-8 (R-LOY-04, R-LOY-05,
R-LOY-08, R-LOY-32).
"""

from __future__ import annotations

import base64

import pytest
import requests

from conformance.checks import common, loyalty
from conformance.suites.support import Run, make_case, operation, run_params, validate

ENVELOPE_CHECKS = [
    common.json_content_type,
    common.utf8_charset_declared,
    common.utf8_body,
    loyalty.loyalty_error_object,
]


def _probe_headers(run: Run, probe: str) -> dict[str, str]:
    username = run.target.credentials.username
    if probe == "missing":
        return {}
    if probe == "wrong-password":
        wrong = base64.b64encode(f"{username}:not-the-password".encode()).decode()
        return {"Authorization": f"Basic {wrong}"}
    if probe == "malformed-basic":
        return {"Authorization": "Basic %%%not-base64%%%"}
    return {"Authorization": "Bearer 0123456789abcdef"}


PROBES = ["missing", "wrong-password", "malformed-basic", "other-scheme"]


def _example_request(run: Run, operation_id: str) -> dict:
    """A request that would succeed with the right credentials: it names a card the target has."""
    identity = run.target.config.identity("with_card") or {}
    op = operation(run, operation_id)
    raw = op.definition.raw
    request: dict = {"path": op.path, "method": op.method.upper(), "params": None, "json": None, "path_parameters": {}}
    if "{cardNumber}" in op.path:
        request["path_parameters"] = {"cardNumber": identity.get("card_number", "0")}
        request["path"] = op.path.format(**request["path_parameters"])
    if operation_id == "findCard":
        request["params"] = {"msisdn": identity.get("msisdn", "79000000000")}
    content = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in content:
        request["json"] = content["example"]
    return request


def _operations(run: Run) -> list:
    return [pytest.param(op, id=op.label) for op in (result.ok() for result in run.schema.get_all_operations())]


@pytest.mark.requirement("R-LOY-03")
@pytest.mark.parametrize("probe", PROBES)
@run_params("op", _operations)
def test_refused_without_valid_credentials(op, probe: str, run: Run, anonymous_http: requests.Session) -> None:  # noqa: ANN001
    request = _example_request(run, op.definition.raw["operationId"])
    response = anonymous_http.request(
        request["method"],
        run.target.base_url + request["path"],
        params=request["params"],
        json=request["json"],
        headers=_probe_headers(run, probe),
    )
    run.recorder.auth_statuses[probe] = response.status_code  # the report says whether 401 or 422 is used
    assert response.status_code != 200, (
        f"{op.label} answered 200 to a request with {probe.replace('-', ' ')} credentials: "
        "the service must refuse it (401 or 422)."
    )
    text = response.content.decode("utf-8", "replace")
    leaked = [field for field in ("cardNumber", "barcodeNumber") if field in text]
    if request["json"] is None and op.definition.raw["operationId"].startswith("getAllUsers"):
        leaked += ["phone list"] if text.lstrip().startswith("[") else []
    assert not leaked, f"{op.label} refused the request but its body still carries {', '.join(leaked)}: {text[:200]}"
    case = make_case(op, path_parameters=request["path_parameters"], query=request["params"], body=request["json"])
    validate(run, case, response, ENVELOPE_CHECKS)


@pytest.mark.requirement("R-LOY-36")
@pytest.mark.parametrize("probe", PROBES)
def test_refusal_status_is_401_or_422(probe: str, run: Run, anonymous_http: requests.Session) -> None:
    request = _example_request(run, "findCard")
    response = anonymous_http.get(
        run.target.base_url + request["path"], params=request["params"], headers=_probe_headers(run, probe)
    )
    assert response.status_code in (401, 422), (
        f"GET /v1/card answered {response.status_code} to {probe.replace('-', ' ')} credentials; the documents name "
        "no status for it: the suite expects 422 (the documented error status) or 401"
    )
