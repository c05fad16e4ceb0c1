"""POST /token/new rules: contact channels (R-IMB-11, R-IMB-36; both together R-IMB-49), the user identifier
(R-IMB-37, R-IMB-09), date_limit (R-IMB-38; other notations R-IMB-50), optional limits and the reported defaults
(R-IMB-12, R-IMB-13, R-IMB-39), and the suite's preferences (R-IMB-10, R-IMB-14, R-IMB-51).

"Refused" is what the documents say: not processed, and answered with a non-zero code. The HTTP status of a
refusal (400) and of a processed request (200) is the suite's preference, reported on R-IMB-45."""

from __future__ import annotations

import pytest
import requests

from conformance.checks.imbee import is_real_date
from conformance.suites.imbee.accounts import TOKEN_MEMBERS, code_of, create_user, new_unique_id, processed, token_body
from conformance.suites.support import Run, body_json, prefer, send


@pytest.fixture(scope="module")
def virtual_user(run: Run, http: requests.Session) -> str:
    return create_user(run, http, new_unique_id(run))["virtualUser"]


def envelope_of(response: requests.Response) -> dict:
    envelope = body_json(response)
    return envelope if isinstance(envelope, dict) else {}


def refused(run: Run, response: requests.Response, why: str) -> None:
    """Assert the documented refusal (a non-zero code); report the status against the suite's 400 (R-IMB-45)."""
    code = code_of(response)
    assert code != 0, (
        f"/token/new with {why} answered {response.status_code} with code {code!r}; it must be refused: "
        "not processed, and answered with a non-zero code"
    )
    status = response.status_code
    prefer(run, "R-IMB-45", status == 400, f"/token/new with {why} was refused with {status}; the suite prefers 400")


def accepted(run: Run, response: requests.Response, why: str) -> dict:
    """Assert the request was processed (code 0); report the status against the suite's 200 (R-IMB-45)."""
    body = processed(response, f"/token/new with {why}")
    status = response.status_code
    prefer(run, "R-IMB-45", status == 200, f"/token/new with {why} was processed with {status}; the suite prefers 200")
    return body


@pytest.mark.parametrize(
    "channels",
    [
        pytest.param(("mail",), id="mail", marks=pytest.mark.requirement("R-IMB-11")),
        pytest.param(("celullar",), id="celullar", marks=pytest.mark.requirement("R-IMB-11")),
        pytest.param(("mail", "celullar"), id="mail+celullar", marks=pytest.mark.requirement("R-IMB-49")),
    ],
)
def test_either_contact_channel_is_enough(
    channels: tuple[str, ...], virtual_user: str, run: Run, http: requests.Session
) -> None:
    recipient = run.target.config.identity("recipient") or {"mail": "a@example.com", "celullar": "+34600000000"}
    body = token_body(run, virtual_user, drop=("mail", "celullar"), **{c: recipient[c] for c in channels})
    accepted(run, send(run, http, "createToken", body=body), " and ".join(channels))


@pytest.mark.requirement("R-IMB-36")
def test_neither_mail_nor_celullar_is_refused(virtual_user: str, run: Run, http: requests.Session) -> None:
    response = send(run, http, "createToken", body=token_body(run, virtual_user, drop=("mail", "celullar")))
    refused(run, response, "neither mail nor celullar")


@pytest.mark.requirement("R-IMB-37", "R-IMB-09")
@pytest.mark.parametrize("value", [None, "", ...], ids=["null", "empty", "missing"])
def test_virtual_user_must_be_given(value: object, run: Run, http: requests.Session) -> None:
    body = token_body(run, "x", drop=("virtual_user",)) if value is ... else token_body(run, value)  # type: ignore[arg-type]
    refused(
        run, send(run, http, "createToken", body=body), f"virtual_user {'missing' if value is ... else repr(value)}"
    )


@pytest.mark.parametrize(
    "date_limit",
    [
        # Not a real date: documented as refused (R-IMB-38).
        pytest.param("2030-13-01", marks=pytest.mark.requirement("R-IMB-38")),
        pytest.param("2030-02-30", marks=pytest.mark.requirement("R-IMB-38")),
        pytest.param("next year", marks=pytest.mark.requirement("R-IMB-38")),
        # A real date in another notation: refusing it is the suite's preference (R-IMB-50).
        pytest.param("31/12/2030", marks=pytest.mark.requirement("R-IMB-50")),
        pytest.param("20301231", marks=pytest.mark.requirement("R-IMB-50")),
    ],
)
def test_date_limit_must_be_a_real_yyyy_mm_dd_date(
    date_limit: str, virtual_user: str, run: Run, http: requests.Session
) -> None:
    response = send(run, http, "createToken", body=token_body(run, virtual_user, date_limit=date_limit))
    refused(run, response, f"date_limit {date_limit!r}")


@pytest.mark.requirement("R-IMB-12", "R-IMB-13", "R-IMB-40")
def test_the_limits_are_optional(run: Run, http: requests.Session) -> None:
    # The documented case "If no date_limit or max_retries": processed, with the example answer's members.
    virtual_user = create_user(run, http, new_unique_id(run))["virtualUser"]
    response = send(run, http, "createToken", body=token_body(run, virtual_user))
    body = accepted(run, response, "neither date_limit nor max_retries")
    missing = [key for key in TOKEN_MEMBERS if key not in body]
    assert not missing, f"the processed answer lacks {missing}: {response.text[:200]!r}"


@pytest.mark.requirement("R-IMB-39")
def test_omitted_limits_are_reported_with_their_defaults(run: Run, http: requests.Session) -> None:
    virtual_user = create_user(run, http, new_unique_id(run))["virtualUser"]
    response = send(run, http, "createToken", body=token_body(run, virtual_user))
    if code_of(response) != 0:
        pytest.skip("the request without limits was not processed (R-IMB-12, R-IMB-13 report it)")
    body = envelope_of(response).get("body")
    body = body if isinstance(body, dict) else {}
    retries, date_limit = body.get("max_retries"), body.get("date_limit")
    # JSON has one number type: 10.0 is the integer 10 (JSON Schema counts it as one, as the schema check does).
    integral = isinstance(retries, int | float) and not isinstance(retries, bool) and float(retries).is_integer()
    assert integral, f"max_retries reported as {retries!r}; the answer must report the default applied, an integer"
    assert is_real_date(date_limit), (
        f"date_limit reported as {date_limit!r}; the answer must report the default applied, a YYYY-MM-DD date"
    )
    for key, reported in (("default_max_retries", retries), ("default_date_limit", date_limit)):
        expected = run.target.config.setting(key)
        if expected is not None:
            assert reported == expected, (
                f"the applied default {key[8:]} is {reported!r}; the target config ({run.target.config.source}) says "
                f"{key} = {expected!r}. Set it only to a fixed default your service applies, or leave it out"
            )


@pytest.mark.requirement("R-IMB-51")
def test_given_limits_are_reported_back(run: Run, http: requests.Session) -> None:
    fresh = create_user(run, http, new_unique_id(run))["virtualUser"]
    response = send(run, http, "createToken", body=token_body(run, fresh, max_retries=3, date_limit="2031-05-17"))
    if code_of(response) != 0:  # the rule speaks of processed answers; a refusal is R-IMB-12/13's to judge
        pytest.skip(f"the request with limits was refused (code {code_of(response)}): R-IMB-51 is about processed ones")
    body = accepted(run, response, "max_retries 3 and date_limit 2031-05-17")
    assert (body.get("max_retries"), body.get("date_limit")) == (3, "2031-05-17"), (
        f"the answer reports max_retries {body.get('max_retries')!r} and date_limit {body.get('date_limit')!r}; "
        "the suite expects the values sent"
    )


@pytest.mark.requirement("R-IMB-10")
def test_bot_idsha_must_be_given(virtual_user: str, run: Run, http: requests.Session) -> None:
    response = send(run, http, "createToken", body=token_body(run, virtual_user, drop=("bot_idsha",)))
    refused(run, response, "no bot_idsha")


@pytest.mark.requirement("R-IMB-14")
def test_the_misspelt_virutal_user_does_not_stand_in_for_virtual_user(
    virtual_user: str, run: Run, http: requests.Session
) -> None:
    body = {**token_body(run, virtual_user, drop=("virtual_user",)), "virutal_user": virtual_user}
    refused(run, send(run, http, "createToken", body=body), "only the docs' misspelling virutal_user (no virtual_user)")
