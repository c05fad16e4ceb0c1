"""Authentication (R-PUSH-03): without valid Basic credentials every operation answers 401 ("Authorization error"),
with an error JSON object (R-PUSH-10); the suite advises the example's {"status": "UNAUTHORIZED", ...} (R-PUSH-25)."""

from __future__ import annotations

import base64

import pytest
import requests

from conformance.suites.push.messages import bulk_body, msisdn, send_body
from conformance.suites.support import Run, body_json, prefer, run_params, send

PROBES = ["missing", "wrong-password", "malformed-basic", "other-scheme"]


def probe_headers(run: Run, probe: str) -> dict[str, str]:
    wrong = base64.b64encode(f"{run.target.credentials.username}:not-the-password".encode()).decode()
    return {
        "missing": {},
        "wrong-password": {"Authorization": f"Basic {wrong}"},
        "malformed-basic": {"Authorization": "Basic %%%not-base64%%%"},
        "other-scheme": {"Authorization": "Bearer 0123456789abcdef"},
    }[probe]


def example_body(run: Run, operation_id: str) -> dict:
    to = msisdn(run, "registered") or 79216668899
    if operation_id == "sendPushBulkSingle":
        return bulk_body([to])
    if operation_id == "resetPassword":
        # A blank password can never be applied: a service that skips authentication must not be able to lose
        # the account's password to this probe.
        return {"password": ""}
    return send_body(to)


def operations(run: Run) -> list[str]:
    return [result.ok().definition.raw["operationId"] for result in run.schema.get_all_operations()]


@pytest.mark.requirement("R-PUSH-03")
@pytest.mark.parametrize("probe", PROBES)
@run_params("operation_id", operations)
def test_refused_without_valid_credentials(
    operation_id: str, probe: str, run: Run, anonymous_http: requests.Session
) -> None:
    response = send(
        run, anonymous_http, operation_id, body=example_body(run, operation_id), headers=probe_headers(run, probe)
    )
    run.recorder.auth_statuses[probe] = response.status_code
    assert response.status_code == 401, (
        f"{operation_id} answered {response.status_code} to a request with {probe.replace('-', ' ')} "
        "credentials; the Push API refuses it with 401"
    )
    body = body_json(response)
    prefer(
        run,
        "R-PUSH-25",
        isinstance(body, dict) and body.get("status") == "UNAUTHORIZED",
        f'the 401 answer does not carry "status": "UNAUTHORIZED" as the documents\' example does: '
        f"{response.text[:200]!r}",
    )
