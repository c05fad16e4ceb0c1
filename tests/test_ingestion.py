"""Masking at ingestion, as a property: whatever the secret (ASCII, Latin-1, Cyrillic, with / * ~ ' & + % : and
spaces), however a target echoes it (every escaping of tests/echoing.py, Latin-1 bytes in a UTF-8 body, nested
JSON, a cut) and wherever (body, header name and value, status reason, Location, a skip reason or an exception text
built from the answer), no reader of the ingested answer sees any form of it, and the leak scan of what the report
would show finds nothing (the run would not be withheld).

The budget here is small enough for every run of the project's tests; `nox -s proofs` runs it with a large one,
and end to end against an echoing service (tests/hostile/test_echoing_targets.py has one case per known leak).
"""

from __future__ import annotations

import json
import os

import pytest
import requests
from echoing import FORMS, straddling, visible
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict, HTTPResponse

from conformance import ingest
from conformance.report import leaks
from conformance.report.exchange import Replay, record
from conformance.report.masking import Masker, is_distinct

ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/*~'&+%: "
    "äöüßéñÄÖÜ"
    "абвгдежзийклмнопрстуфхцчшщыэюяАБВГДЕЖЗ"
)
PLACES = ("body", "header-value", "header-name", "reason", "location", "skip-reason", "exception-text")
BYTE_FORMS = ("latin-1-bytes", "cp1251-bytes", "split-at-120")
EXAMPLES = int(os.environ.get("CONFORMANCE_PROPERTY_EXAMPLES", "60"))

secrets_ = st.text(ALPHABET, min_size=10, max_size=24).filter(lambda s: s.strip() == s and is_distinct(s))


def answer(body: bytes, headers: list[tuple[str, str]], reason: str) -> requests.Response:
    """An answer as the run's HTTP layer hands it over: requests' view and urllib3's raw headers."""
    response = requests.Response()
    response.status_code, response.reason, response._content = 422, reason, body
    raw_headers = HTTPHeaderDict()
    for name, value in headers:
        raw_headers.add(name, value)
    response.raw = HTTPResponse(body=b"", headers=raw_headers, status=422, preload_content=False)
    response.headers = CaseInsensitiveDict(raw_headers)
    response.request = requests.Request("GET", "https://partner.example/v1/card?q=1").prepare()
    return response


def echoed(secret: str, form: str, place: str) -> requests.Response | None:
    body, headers, reason = b'{"code": "1", "description": "denied"}', [("Content-Type", "application/json")], "No"
    if form in BYTE_FORMS:
        if place != "body":
            return None
        charset = {"latin-1-bytes": "latin-1", "cp1251-bytes": "cp1251"}.get(form)
        try:
            text = straddling(secret, 120 - 27) if charset is None else secret.encode(charset)
        except UnicodeEncodeError:
            return None
        return answer(b'{"code": "1", "description": "' + text + b'"}', headers, reason)
    text = FORMS[form](secret)
    if place in ("body", "skip-reason", "exception-text"):
        body = json.dumps({"code": "1", "description": "x"}).replace('"x"', f'"{text}"').encode("utf-8")
    elif place == "header-value":
        headers.append(("X-Debug", text.encode("utf-8").decode("latin-1")))
    elif place == "header-name":
        if not all(c.isalnum() or c in "-_.~!#$&'*+^`|" for c in text):
            return None  # not a header name a server could send
        headers.append((f"X-{text}", "1"))
    elif place == "reason":
        reason = text.encode("utf-8").decode("latin-1")
    elif place == "location":
        headers.append(("Location", f"/debug?password={text}"))
    return answer(body, headers, reason)


def readers(response: requests.Response) -> dict[str, str]:
    """Everything downstream of ingestion reads: the answer's parts, and texts the suite builds from them."""
    shown = {
        "content": response.content.decode("latin-1"),
        "text": response.text,
        "headers": repr(dict(response.headers)),
        "raw headers": repr(list(response.raw.headers.items())),
        "reason": str(response.reason),
        "skip reason": f"the 422 answer carries no integer code ({response.text[:120]!r})",
        "exception text": str(ValueError(f"cannot read {response.content[:200]!r}")),
    }
    try:
        shown["json"] = str(response.json())[:200]
    except ValueError:
        pass
    return shown


HARD = "Pä55 w'rd/&*+д~%:x"  # one character of each kind that some escaping changes


def every_form_in_the_body(test):
    """Each form at least once, with a secret that every escaping changes, whatever the random draw."""
    for form in [*FORMS, *BYTE_FORMS]:
        test = example(secret=HARD if form != "latin-1-bytes" else "Pä55 w'rd/&*+ü~%:x", form=form, place="body")(test)
    return test


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=secrets_, form=st.sampled_from([*FORMS, *BYTE_FORMS]), place=st.sampled_from(PLACES))
@every_form_in_the_body
def test_no_reader_of_an_ingested_answer_sees_the_secret(secret: str, form: str, place: str) -> None:
    response = echoed(secret, form, place)
    assume(response is not None)
    masker = Masker([secret])
    ingest.answer(response, masker)
    for reader, text in readers(response).items():
        assert not visible(text.encode("utf-8", "surrogatepass"), secret), f"{reader} shows it: {text[:300]!r}"
    exchange = record(
        response.request, 422, dict(response.headers), response.content, masker, Replay(("U", "P")), note=None
    )
    report = json.dumps(exchange, ensure_ascii=False).encode()
    assert not visible(report, secret), f"the exchange shows it: {report[:400]!r}"
    assert leaks.seen_through(report, leaks.finder([secret])) is None, "the scan would withhold the reports"


def test_the_answer_a_check_reads_is_masked_and_keeps_what_only_the_raw_bytes_could_tell() -> None:
    """A Latin-1 password in a body labelled UTF-8: masked, yet the body is still known not to be UTF-8."""
    secret = "Kennwort-für-Koshelek-2025"
    response = answer(b'{"echo": "' + secret.encode("latin-1") + b'"}', [], "OK")
    ingest.answer(response, Masker([secret]))
    assert response.content == b'{"echo": "***"}'
    assert ingest.raw_facts(response).utf8_error == (10, None)  # where, and that it was a byte of the secret


def test_secrets_an_answer_hands_out_are_masked_and_kept_for_the_test_that_needs_them() -> None:
    response = answer(b'{"code": 0, "body": {"apikey": "k3y-handed-out-0001", "pass": "p4ss-handed-out"}}', [], "OK")
    masker = Masker()
    ingest.answer(response, masker, ("apikey", "pass"))
    assert b"handed-out" not in response.content
    assert ingest.handed_out(response, "apikey") == "k3y-handed-out-0001"
    assert masker.text("again: k3y-handed-out-0001") == "again: ***"


@pytest.mark.proof
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(secret=secrets_, form=st.sampled_from([*FORMS, *BYTE_FORMS]), place=st.sampled_from(PLACES))
def test_no_reader_of_an_ingested_answer_sees_the_secret_large_budget(secret: str, form: str, place: str) -> None:
    test_no_reader_of_an_ingested_answer_sees_the_secret.hypothesis.inner_test(secret, form, place)
