"""POST /token/new rules (R-IMB-11, R-IMB-36..40): contact channels, virtual_user, date_limit, reported defaults."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from conformance.suites.imbee.accounts import create_user, new_unique_id, token_body
from conformance.suites.support import Run, body_json, send


@pytest.fixture(scope="module")
def virtual_user(run: Run, http: requests.Session) -> str:
    return create_user(run, http, new_unique_id(run))["virtualUser"]


def envelope_of(response: requests.Response) -> dict:
    return body_json(response) or {}


def refused(response: requests.Response, why: str) -> None:
    envelope = envelope_of(response)
    assert response.status_code == 400 and envelope.get("code") not in (0, None), (
        f"/token/new with {why} answered {response.status_code} code {envelope.get('code')!r}; it must be refused "
        "(400 with a non-zero code)"
    )


@pytest.mark.requirement("R-IMB-11")
@pytest.mark.parametrize("channels", [("mail",), ("celullar",), ("mail", "celullar")], ids="+".join)
def test_either_contact_channel_is_enough(
    channels: tuple[str, ...], virtual_user: str, run: Run, http: requests.Session
) -> None:
    recipient = run.target.config.identity("recipient") or {"mail": "a@example.com", "celullar": "+34600000000"}
    body = token_body(run, virtual_user, drop=("mail", "celullar"), **{c: recipient[c] for c in channels})
    response = send(run, http, "createToken", body=body)
    assert response.status_code == 200 and envelope_of(response).get("code") == 0, (
        f"/token/new with only {' and '.join(channels)} answered {response.status_code} {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-IMB-36")
def test_neither_mail_nor_celullar_is_refused(virtual_user: str, run: Run, http: requests.Session) -> None:
    refused(
        send(run, http, "createToken", body=token_body(run, virtual_user, drop=("mail", "celullar"))),
        "neither mail nor celullar",
    )


@pytest.mark.requirement("R-IMB-37", "R-IMB-09")
@pytest.mark.parametrize("value", [None, "", ...], ids=["null", "empty", "missing"])
def test_virtual_user_must_be_given(value: object, run: Run, http: requests.Session) -> None:
    body = token_body(run, "x", drop=("virtual_user",)) if value is ... else token_body(run, value)  # type: ignore[arg-type]
    refused(send(run, http, "createToken", body=body), f"virtual_user {'missing' if value is ... else repr(value)}")


@pytest.mark.requirement("R-IMB-38")
@pytest.mark.parametrize("date_limit", ["31/12/2030", "2030-13-01", "2030-02-30", "20301231"])
def test_date_limit_must_be_a_real_yyyy_mm_dd_date(
    date_limit: str, virtual_user: str, run: Run, http: requests.Session
) -> None:
    refused(
        send(run, http, "createToken", body=token_body(run, virtual_user, date_limit=date_limit)),
        f"date_limit {date_limit!r}",
    )


@pytest.mark.requirement("R-IMB-39", "R-IMB-40", "R-IMB-12", "R-IMB-13")
def test_omitted_limits_are_reported_with_their_defaults(run: Run, http: requests.Session) -> None:
    virtual_user = create_user(run, http, new_unique_id(run))["virtualUser"]
    response = send(run, http, "createToken", body=token_body(run, virtual_user))
    body = envelope_of(response).get("body") or {}
    assert response.status_code == 200, f"/token/new answered {response.status_code} {response.text[:200]!r}"
    retries, date_limit = body.get("max_retries"), body.get("date_limit")
    assert isinstance(retries, int) and not isinstance(retries, bool), f"max_retries reported as {retries!r}"
    assert isinstance(date_limit, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_limit), (
        f"date_limit reported as {date_limit!r}, not YYYY-MM-DD"
    )
    dt.date.fromisoformat(date_limit)
    for key, reported in (("default_max_retries", retries), ("default_date_limit", date_limit)):
        expected = run.target.config.setting(key)
        if expected is not None:
            assert reported == expected, (
                f"the applied default {key[8:]} is {reported!r}; the target config says {expected!r}"
            )


@pytest.mark.requirement("R-IMB-39", "R-IMB-12", "R-IMB-13")
def test_given_limits_are_reported_back(virtual_user: str, run: Run, http: requests.Session) -> None:
    fresh = create_user(run, http, new_unique_id(run))["virtualUser"]
    response = send(run, http, "createToken", body=token_body(run, fresh, max_retries=3, date_limit="2031-05-17"))
    body = envelope_of(response).get("body") or {}
    assert (body.get("max_retries"), body.get("date_limit")) == (3, "2031-05-17"), (
        f"the answer reports max_retries {body.get('max_retries')!r} and date_limit {body.get('date_limit')!r}; "
        "it must report the values sent"
    )


@pytest.mark.requirement("R-IMB-10")
def test_bot_idsha_must_be_given(virtual_user: str, run: Run, http: requests.Session) -> None:
    refused(send(run, http, "createToken", body=token_body(run, virtual_user, drop=("bot_idsha",))), "no bot_idsha")


@pytest.mark.requirement("R-IMB-14")
def test_the_misspelt_virutal_user_does_not_stand_in_for_virtual_user(
    virtual_user: str, run: Run, http: requests.Session
) -> None:
    body = {**token_body(run, virtual_user, drop=("virtual_user",)), "virutal_user": virtual_user}
    refused(send(run, http, "createToken", body=body), "only the docs' misspelling virutal_user (no virtual_user)")
