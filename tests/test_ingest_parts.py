"""Ingestion, part by part: every part of an answer (and of a certified client's request) is masked, what is not a
secret is left as it came, the secrets an answer hands out are learnt within bounds, and where the unmasked body
stopped being UTF-8 is told in the masked body's offsets."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import requests
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict, HTTPResponse

from conformance import ingest
from conformance.client.requests import ClientRequest
from conformance.report.masking import MASK, Masker

SECRET = "Zq7-kx9W-Lm4"


def answer(body: bytes, headers: dict[str, str], *, reason: str = "Unprocessable Entity", raw: object = "urllib3"):
    response = requests.Response()
    response.status_code, response.reason, response._content = 422, reason, body
    if raw == "urllib3":
        response.raw = HTTPResponse(body=b"", headers=HTTPHeaderDict(headers), status=422, preload_content=False)
    else:
        response.raw = raw
    response.headers = CaseInsensitiveDict(headers)
    response.request = requests.Request("GET", "https://partner.example/v1/card").prepare()
    return response


def test_every_part_of_an_answer_is_masked_and_the_rest_kept() -> None:
    response = answer(
        f'{{"echo": "{SECRET}", "code": "1"}}'.encode(),
        {"Content-Type": "application/json", "X-Debug": f"pw {SECRET}", f"X-{SECRET}": "1"},
        reason=f"Denied {SECRET}",
    )
    ingest.answer(response, Masker([SECRET]))
    assert response.content == b'{"echo": "***", "code": "1"}'
    assert response.reason == f"Denied {MASK}"
    expected = {"Content-Type": "application/json", "X-Debug": f"pw {MASK}", f"X-{MASK}": "1"}
    assert dict(response.headers) == expected
    assert dict(response.raw.headers) == expected


def test_what_holds_no_secret_is_left_as_it_came() -> None:
    body = b'{"code": "1", "description": "\xff not UTF-8"}'
    response = answer(body, {"Content-Type": "application/json"}, reason="Unprocessable Entity")
    ingest.answer(response, Masker([SECRET]))
    assert (response.content, response.reason) == (body, "Unprocessable Entity")
    assert response.headers["content-type"] == "application/json"  # still a case-insensitive map


def test_an_empty_body_stays_empty() -> None:
    response = answer(b"", {})
    ingest.answer(response, Masker([SECRET]))
    assert response.content == b""
    assert ingest.raw_facts(response) == ingest.RawFacts(None)


def test_credential_headers_are_masked_whatever_they_hold() -> None:
    headers = {"Set-Cookie": "session=abc", "authorization": "Bearer x", "X-Woos-Key": "k", "X-Other": "abc"}
    response = answer(b"{}", headers)
    ingest.answer(response, Masker([SECRET]))
    assert dict(response.headers) == {"Set-Cookie": MASK, "authorization": MASK, "X-Woos-Key": MASK, "X-Other": "abc"}


def test_an_answer_without_urllib3_headers_is_masked_through_its_own() -> None:
    for raw in (None, io.BytesIO(b"")):  # built by hand, or a raw stream without a header map
        response = answer(b"{}", {"X-Debug": SECRET, "Cookie": "c=1", "X-Ok": "yes"}, raw=raw)
        ingest.answer(response, Masker([SECRET]))
        assert dict(response.headers) == {"X-Debug": MASK, "Cookie": MASK, "X-Ok": "yes"}


def test_the_raw_facts_are_found_on_the_answer_and_through_its_request() -> None:
    response = answer(b"\xff", {})
    ingest.answer(response, Masker([SECRET]))
    facts = ingest.raw_facts(response)
    assert facts == ingest.RawFacts((0, 0xFF))
    # schemathesis' Response keeps the same request object, not the attribute
    assert ingest.raw_facts(SimpleNamespace(request=response.request)) == facts
    alone = answer(b"\xfe", {})
    alone.request = None
    ingest.answer(alone, Masker([SECRET]))
    assert ingest.raw_facts(alone) == ingest.RawFacts((0, 0xFE))


def test_an_answer_never_ingested_has_no_facts_and_hands_out_nothing() -> None:
    response = answer(b"{}", {})
    assert ingest.raw_facts(response) is None
    assert ingest.raw_facts(SimpleNamespace()) is None
    assert ingest.handed_out(response, "apikey") is None


# --- where the unmasked body stopped being UTF-8 -------------------------------------------------------------------


def utf8_error(body: bytes, *secrets: str) -> tuple[bytes, tuple[int, int | None] | None]:
    response = answer(body, {})
    ingest.answer(response, Masker(secrets))
    return response.content, ingest.raw_facts(response).utf8_error


def test_the_first_byte_that_is_not_utf8_is_placed_in_the_masked_body() -> None:
    secret = "Zq7-kx9W-Lm4-long-one"  # longer than the mask: the offsets shift
    content, error = utf8_error(f'{{"a": "{secret}", "b": "'.encode() + b'\xe9"}', secret)
    assert error is not None and content[error[0]] == 0xE9 and error[1] == 0xE9
    content, error = utf8_error(f'"{secret}", "{secret}", "'.encode() + b'\xe9"', secret)  # two masks before it
    assert error is not None and content[error[0]] == 0xE9
    content, error = utf8_error(f'"{secret}'.encode() + b'\xe9"', secret)  # right after the secret
    assert error == (len('"***'), 0xE9) and content[error[0]] == 0xE9
    content, error = utf8_error(b'"ab' + b'\xe9"', "ab")  # short secrets are never learnt: nothing shifts
    assert error == (3, 0xE9)


def test_a_byte_that_was_part_of_a_secret_is_not_shown() -> None:
    first, second = "Zq7-kx9W-Lm4-long-one", "Äpfel-Zq7-kx9W"
    body = f'{{"a": "{first}", "b": "'.encode() + second.encode("latin-1") + b'"}'
    content, error = utf8_error(body, first, second)
    assert content == b'{"a": "***", "b": "***"}'
    assert error == (content.index(b'"***"}') + 1, None)  # where the second secret's mask starts
    content, error = utf8_error(b"x" + "Zq7-kx9W-Äpfel".encode("latin-1"), "Zq7-kx9W-Äpfel")
    assert (content, error) == (b"x***", (1, None))


# --- the secrets an answer hands out -------------------------------------------------------------------------------


def handing_out(body: object, *members: str) -> tuple[requests.Response, Masker]:
    response, masker = answer(json.dumps(body).encode(), {}), Masker()
    ingest.answer(response, masker, members)
    return response, masker


def test_only_the_named_members_are_handed_out_wherever_they_are() -> None:
    body = {"user": {"name": "Anna-Karenina", "apikey": 12345}, "users": [{"x": 1}, {"apikey": "k3y-in-a-list-01"}]}
    response, masker = handing_out(body, "apikey", "pass")
    assert masker.secrets == frozenset({"k3y-in-a-list-01"})  # a number is no key; a name is no secret
    assert ingest.handed_out(response, "apikey") == "k3y-in-a-list-01"
    assert ingest.handed_out(response, "pass") is None
    assert b"Anna-Karenina" in response.content and b"k3y-in-a-list" not in response.content


def test_handed_out_secrets_are_looked_for_fifty_levels_deep_and_no_deeper() -> None:
    def buried(levels: int) -> dict:
        body: dict = {"apikey": f"k3y-buried-{levels:03d}"}
        for _ in range(levels):
            body = {"inner": body}
        return body

    assert handing_out(buried(50), "apikey")[1].secrets == frozenset({"k3y-buried-050"})
    assert handing_out(buried(51), "apikey")[1].secrets == frozenset()
    assert handing_out([[buried(48)]], "apikey")[1].secrets == frozenset({"k3y-buried-048"})  # lists are levels too
    assert handing_out([[buried(49)]], "apikey")[1].secrets == frozenset()


def test_an_answer_handing_out_thousands_of_keys_teaches_about_a_thousand() -> None:
    _, masker = handing_out({"users": [{"apikey": f"k3y-number-{n:05d}"} for n in range(3000)]}, "apikey")
    assert 1000 <= len(masker.secrets) <= 1001


def test_a_body_that_is_not_json_hands_out_nothing() -> None:
    response = answer(b'{"apikey": "k3y-not-json-001"', {})  # cut
    ingest.answer(response, Masker(), ("apikey",))
    assert ingest.handed_out(response, "apikey") is None


# --- a certified client's request ---------------------------------------------------------------------------------


def test_every_part_of_a_client_request_is_masked() -> None:
    request = ClientRequest(
        "POST",
        f"/users/{SECRET}",
        f"key={SECRET}&page=2",
        {"Content-Type": "application/json", f"X-{SECRET}": f"v {SECRET}"},
        f'{{"password": "{SECRET}", "name": "Анна"}}'.encode(),
    )
    masked = ingest.client_request(request, Masker([SECRET]))
    assert (masked.method, masked.path, masked.query) == ("POST", f"/users/{MASK}", f"key={MASK}&page=2")
    assert masked.headers == {"Content-Type": "application/json", f"X-{MASK}": f"v {MASK}"}
    assert masked.body == '{"password": "***", "name": "Анна"}'.encode()
    assert masked.masked and masked.raw_utf8_error is None and masked.utf8
    assert request.body.count(SECRET.encode()) == 1  # the original is left alone


def test_a_client_request_keeps_where_its_body_stopped_being_utf8() -> None:
    body = f'{{"password": "{SECRET}-and-more", "x": "'.encode() + b'\xe9"}'
    masked = ingest.client_request(ClientRequest("POST", "/p", "", {}, body), Masker([f"{SECRET}-and-more"]))
    offset, byte = masked.raw_utf8_error
    assert (masked.body[offset], byte) == (0xE9, 0xE9)
    assert masked.utf8_problem == f"byte 0xe9 at offset {offset}"
    empty = ingest.client_request(ClientRequest("GET", "/p", "", {}, b""), Masker([SECRET]))
    assert (empty.body, empty.raw_utf8_error, empty.masked) == (b"", None, True)
