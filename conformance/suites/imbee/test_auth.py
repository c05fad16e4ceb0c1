"""The two credentials (R-IMB-33, R-IMB-34, R-IMB-21): Authorization (the account's auth token) and X-WOOS-KEY
(the corporate token, or a user's apikey for chat creation). A request missing or misusing either is refused
with 401 and the error envelope, and its body carries no data."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.imbee.accounts import create_user, new_unique_id, token_body, user_body
from conformance.suites.support import Run, body_json, send

AUTH, KEY = "Authorization", "X-WOOS-KEY"


def example(run: Run, operation_id: str, http: requests.Session) -> tuple[dict, dict[str, str]]:
    """A body that would succeed, and the right X-WOOS-KEY for it."""
    corporate = run.target.credentials.password
    if operation_id == "createExternalUser":
        return user_body(new_unique_id(run)), {KEY: corporate}
    if operation_id == "createToken":
        return token_body(run, create_user(run, http, new_unique_id(run))["virtualUser"]), {KEY: corporate}
    creator, other = create_user(run, http, new_unique_id(run)), create_user(run, http, new_unique_id(run))
    return {"type": "chat", "contacts": [{"idsha": other["virtualUser"]}]}, {KEY: creator["apikey"]}


PROBES = {
    "missing-authorization": lambda good: {k: v for k, v in good.items() if k != AUTH},
    "wrong-authorization": lambda good: {**good, AUTH: "not-the-auth-token"},
    "missing-woos-key": lambda good: {k: v for k, v in good.items() if k != KEY},
    "wrong-woos-key": lambda good: {**good, KEY: "not-the-key"},
}
REQUIREMENT = {
    "missing-authorization": "R-IMB-33",
    "wrong-authorization": "R-IMB-33",
    "missing-woos-key": "R-IMB-34",
    "wrong-woos-key": "R-IMB-34",
}
OPERATIONS = ["createToken", "createExternalUser", "createChat"]


@pytest.mark.parametrize(
    "operation_id, probe",
    [
        pytest.param(op, probe, id=f"{op}-{probe}", marks=pytest.mark.requirement(REQUIREMENT[probe], "R-IMB-06"))
        for op in OPERATIONS
        for probe in PROBES
    ],
)
def test_refused_without_valid_credentials(
    operation_id: str, probe: str, run: Run, http: requests.Session, anonymous_http: requests.Session
) -> None:
    body, key = example(run, operation_id, http)
    headers = PROBES[probe]({AUTH: run.target.credentials.username, **key})
    response = send(run, anonymous_http, operation_id, body=body, headers=headers)
    run.recorder.auth_statuses[probe] = response.status_code
    assert response.status_code == 401, (
        f"{operation_id} with {probe.replace('-', ' ')} answered {response.status_code}; it must be refused with 401"
    )
    data = (body_json(response) or {}).get("body")
    assert data in (None, {}, [], ""), f"the refused request still got data back in body: {str(data)[:200]}"


@pytest.mark.requirement("R-IMB-21")
def test_chat_creation_takes_a_user_apikey_not_the_corporate_token(run: Run, http: requests.Session) -> None:
    other = create_user(run, http, new_unique_id(run))
    body = {"type": "chat", "contacts": [{"idsha": other["virtualUser"]}]}
    response = send(run, http, "createChat", body=body)  # the session sends the corporate token
    assert response.status_code == 401, (
        f"/chat/create with the corporate token as X-WOOS-KEY answered {response.status_code}; it is user-scoped: "
        "X-WOOS-KEY must be the creating user's apikey"
    )
