"""The two credentials (R-IMB-33, R-IMB-34, R-IMB-06): Authorization (the account's auth token) and X-WOOS-KEY
(the corporate token, or a user's apikey for chat creation). A request missing or misusing either is refused:
not processed, and answered with a non-zero code (documented). The suite prefers 401 for it (R-IMB-45) and no data
in its body (R-IMB-48), and prefers that chat creation refuse the corporate token (R-IMB-52); all three advisory."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.imbee.accounts import code_of, create_user, new_unique_id, token_body, user_body
from conformance.suites.support import Run, body_json, prefer, send

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


def prefer_the_refusal_policy(run: Run, response: requests.Response, what: str) -> None:
    """The suite's advice on a refusal for credentials: 401 (R-IMB-45) and no data in body (R-IMB-48)."""
    status = response.status_code
    prefer(run, "R-IMB-45", status == 401, f"{what} was refused with {status}; the suite prefers 401")
    envelope = body_json(response)
    data = envelope.get("body") if isinstance(envelope, dict) else None
    prefer(run, "R-IMB-48", data in (None, {}, [], ""), f"{what} was refused, but body carries {str(data)[:200]}")


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
    what = f"{operation_id} with {probe.replace('-', ' ')}"
    code = code_of(response)
    assert code != 0, (
        f"{what} answered {response.status_code} with code {code!r}; it must be refused: not processed, "
        "and answered with a non-zero code"
    )
    prefer_the_refusal_policy(run, response, what)


@pytest.mark.requirement("R-IMB-52")
def test_chat_creation_takes_a_user_apikey_not_the_corporate_token(run: Run, http: requests.Session) -> None:
    other = create_user(run, http, new_unique_id(run))
    body = {"type": "chat", "contacts": [{"idsha": other["virtualUser"]}]}
    response = send(run, http, "createChat", body=body)  # the session sends the corporate token
    code = code_of(response)
    assert code != 0, (
        f"/chat/create with the corporate token as X-WOOS-KEY answered {response.status_code} with code {code!r}; "
        "the suite prefers a refusal: the documents send the creating user's apikey there"
    )
    prefer_the_refusal_policy(run, response, "/chat/create with the corporate token as X-WOOS-KEY")
