"""What a callback receiver must take: both statuses, Cyrillic, unknown and absent optional fields, repeats,
and only the agreed credentials."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pytest
import requests

from conformance.suites.push_callback.callbacks import REQUIRED, callback
from conformance.suites.support import Run, prefer, send

OPERATION = "receivePushStatus"


def acknowledged(response: requests.Response, what: str) -> None:
    """The suite's preferred answer to its own callback forms: 200 (the forms themselves are its choice, M-5)."""
    assert response.status_code == 200, (
        f"the receiver answered {response.status_code} to {what}; the suite expects such a callback to be "
        f"acknowledged with 200. Body: {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-CB-11")
def test_served_over_verified_https(run: Run, http: requests.Session) -> None:
    scheme = urlsplit(run.target.base_url).scheme
    assert scheme == "https", f"the callback URL is {scheme}:// ({run.target.base_url}); Koshelek calls it over HTTPS"
    send(run, http, OPERATION, body=callback())


@pytest.mark.requirement("R-CB-03")
@pytest.mark.parametrize("state", ["DELIVERED", "OPENED"])
def test_each_status_is_acknowledged(state: str, run: Run, http: requests.Session) -> None:
    response = send(run, http, OPERATION, body=callback(state, msisdn=79216668899))
    assert not (200 < response.status_code < 300), (
        f"the receiver acknowledged a {state} callback with {response.status_code}; a processed callback is "
        "acknowledged with 200, not another success status"
    )
    prefer(
        run,
        "R-CB-10",
        response.status_code == 200,
        f"the receiver answered {response.status_code} to a {state} callback in the suite's chosen form: "
        f"{response.text[:200]!r}",
    )


@pytest.mark.requirement("R-CB-11")
def test_cyrillic_text_is_read(run: Run, http: requests.Session) -> None:
    body = callback(comment="Доставлено: «Бонусы начислены»")
    response = send(run, http, OPERATION, body=body)
    assert response.status_code < 500, (
        f"a UTF-8 callback carrying Cyrillic text answered {response.status_code}: the receiver must read UTF-8 "
        f"bodies. Body: {response.text[:200]!r}"
    )
    prefer(
        run,
        "R-CB-07",
        response.status_code == 200,
        f"a callback carrying Cyrillic text in a field the receiver does not know answered "
        f"{response.status_code}; the suite expects unknown fields to be tolerated",
    )


@pytest.mark.requirement("R-CB-07")
def test_unknown_fields_are_tolerated(run: Run, http: requests.Session) -> None:
    body = callback(deliveredTo="android", attempt=1, meta={"region": "RU"})
    acknowledged(send(run, http, OPERATION, body=body), "a callback with fields the receiver does not know")


@pytest.mark.requirement("R-CB-07")
def test_optional_fields_may_be_absent(run: Run, http: requests.Session) -> None:
    acknowledged(send(run, http, OPERATION, body=callback()), "a callback without the optional msisdn")


@pytest.mark.requirement("R-CB-07")
def test_a_callback_of_the_required_members_only_is_acknowledged(run: Run, http: requests.Session) -> None:
    """What the Push suite requires of a host's callbacks is all a receiver may require: one contract for both."""
    body = {name: value for name, value in callback().items() if name in REQUIRED}
    acknowledged(send(run, http, OPERATION, body=body), f"a callback holding only {', '.join(REQUIRED)}")


@pytest.mark.requirement("R-CB-08")
def test_a_repeated_callback_is_acknowledged_again(run: Run, http: requests.Session) -> None:
    body = callback("OPENED", msisdn=79216668899)
    acknowledged(send(run, http, OPERATION, body=body), "a callback")
    acknowledged(send(run, http, OPERATION, body=body), "the same callback repeated (a retry)")


def _probe_headers(run: Run, probe: str) -> dict[str, str]:
    wrong = base64.b64encode(f"{run.target.credentials.username}:not-the-password".encode()).decode()
    return {
        "missing": {},
        "wrong-password": {"Authorization": f"Basic {wrong}"},
        "malformed-basic": {"Authorization": "Basic %%%not-base64%%%"},
        "other-scheme": {"Authorization": "Bearer 0123456789abcdef"},
    }[probe]


@pytest.mark.requirement("R-CB-09", "R-CB-14")
@pytest.mark.parametrize("probe", ["missing", "wrong-password", "malformed-basic", "other-scheme"])
def test_refused_without_the_agreed_credentials(probe: str, run: Run, anonymous_http: requests.Session) -> None:
    response = send(run, anonymous_http, OPERATION, body=callback(), headers=_probe_headers(run, probe))
    run.recorder.auth_statuses[probe] = response.status_code
    what = f"a callback with {probe.replace('-', ' ')} credentials"
    assert not 200 <= response.status_code < 300, (
        f"{what} was acknowledged with {response.status_code}: calls to the receiver are authorized with HTTP Basic "
        "credentials, so one without the agreed ones must be refused"
    )
    prefer(run, "R-CB-14", response.status_code == 401, f"{what} was refused with {response.status_code}, not 401")
