"""(v1.1.0) The initial password: refused everywhere but the reset, which replaces it (R-PUSH-05..07).

Needs a throw-away account still on its initial password ([identities.initial_account] in the target
config). The tests run in this order and reset that account once: a real account of this kind serves a
single run.
"""

from __future__ import annotations

import pytest
import requests

from conformance.suites.push.messages import msisdn, send_body
from conformance.suites.support import Run, prefer, send
from conformance.transport import BasicAuth


def account(run: Run) -> dict[str, str]:
    found = run.target.config.identity("initial_account")
    if not found:
        pytest.skip("the target config has no [identities.initial_account]")
    return found


def session_as(run: Run, login: str, password: str) -> requests.Session:
    session = run.session(credentials=False)
    session.auth = BasicAuth(login, password)
    return session


def a_send(run: Run) -> dict:
    return send_body(msisdn(run, "unregistered") or 79990000000)


@pytest.mark.api_versions("1.1.0")
@pytest.mark.requirement("R-PUSH-05")
@pytest.mark.parametrize("operation_id", ["sendPush", "sendPushBulkSingle"])
def test_initial_password_is_refused_outside_the_reset(operation_id: str, run: Run) -> None:
    acct = account(run)
    one = a_send(run)
    body = one if operation_id == "sendPush" else {**one, "msisdn": [one["msisdn"]], "subId": "c"}
    response = send(run, session_as(run, acct["login"], acct["password"]), operation_id, body=body)
    assert response.status_code == 401, (
        f"{operation_id} with the initial password answered {response.status_code}; until the password is "
        "reset, every resource but PUT /public/user/reset-password answers 401"
    )


@pytest.mark.api_versions("1.1.0")
@pytest.mark.requirement("R-PUSH-06")
def test_reset_accepts_the_initial_password(run: Run) -> None:
    acct = account(run)
    response = send(
        run, session_as(run, acct["login"], acct["password"]), "resetPassword", body={"password": acct["new_password"]}
    )
    assert response.status_code != 401, (
        f"PUT /public/user/reset-password refused the initial password with 401: it is the one resource the "
        f"initial password works on. Body: {response.text[:200]!r}"
    )
    prefer(
        run,
        "R-PUSH-24",
        response.status_code == 200,
        f'the reset with body {{"password": ...}} answered {response.status_code}: {response.text[:200]!r}',
    )


@pytest.mark.api_versions("1.1.0")
@pytest.mark.requirement("R-PUSH-07")
def test_after_the_reset_the_new_password_works_and_the_old_one_does_not(run: Run) -> None:
    acct = account(run)
    new = send(run, session_as(run, acct["login"], acct["new_password"]), "sendPush", body=a_send(run))
    assert new.status_code == 200, f"the new password was refused after the reset: {new.status_code}"
    old = send(run, session_as(run, acct["login"], acct["password"]), "sendPush", body=a_send(run))
    assert old.status_code == 401, f"the initial password still works after the reset ({old.status_code})"


@pytest.mark.api_versions("1.0.0")
@pytest.mark.requirement("R-PUSH-08")
def test_v1_0_0_has_no_password_reset(run: Run, http: requests.Session) -> None:
    # A blank password can never be applied: a host that has the resource after all cannot lose its password to this.
    response = http.put(run.target.base_url + "/public/user/reset-password", json={"password": ""})
    assert not 200 <= response.status_code < 300, (
        f"a v1.0.0 host answered PUT /public/user/reset-password with {response.status_code}: the resource is new in "
        "v1.1.0 (use --api-version 1.1.0 if the host implements it)"
    )
