"""What each custom check says of an answer, word for word: not applicable, a pass naming what it examined, or each
breach with its rule, title and message (the explanation a partner reads). In-process and fast: `nox -s mutants`
judges the checks by these tables."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from schemathesis.checks import CHECKS
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response
from schemathesis.errors import FailureGroup

from conformance import ingest
from conformance.checks import (
    NOT_APPLICABLE,
    RuleViolation,
    RuleWarning,
    check,
    common,
    examined,
    examined_by,
    imbee,
    loyalty,
    push,
    report,
    rules,
)
from conformance.outcomes import SuiteBug
from conformance.report.masking import Masker

SKIPPED = "not applicable"


def answer(
    status: int, body: object = None, *, raw: bytes | None = None, content_type: str | None = "application/json"
) -> Response:
    """An answer as schemathesis hands it to a check (header names in lower case)."""
    content = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": [content_type]} if content_type else {}
    request = requests.Request("GET", "https://partner.example/v1/card").prepare()
    return Response(status, headers, content, request, 0.0, True)


def operation(operation_id: str) -> SimpleNamespace:
    return SimpleNamespace(operation=SimpleNamespace(definition=SimpleNamespace(raw={"operationId": operation_id})))


FIND_CARD = operation("findCard")


def said(check: Any, response: Response, case: Any = FIND_CARD) -> Any:
    """What the check said: SKIPPED, "examined: ...", or each breach as (kind, rule, title, message)."""
    try:
        result = check(None, response, case)
    except FailureGroup as group:
        return [(type(f).__name__, f.rule, f.title, f.message) for f in group.exceptions]
    except RuleViolation as found:
        return [(type(found).__name__, found.rule, found.title, found.message)]
    if result is True:
        return SKIPPED
    assert result is None, result
    return f"examined: {examined_by(check.__name__)}"


def violation(rule: str, title: str, message: str) -> tuple[str, str, str, str]:
    return ("RuleViolation", rule, title, message)


def warning(rule: str, title: str, message: str) -> tuple[str, str, str, str]:
    return ("RuleWarning", rule, title, message)


LONG = "x" * 300  # longer than any cut a message makes of an answer


# --- common: media type, charset, UTF-8, scalars --------------------------------------------------------------


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(200, None, content_type=None), SKIPPED),
        (answer(204, None), SKIPPED),
        (
            answer(200, {"a": "1"}, content_type=None),
            [
                violation(
                    "content-type-json",
                    "Content-Type header missing",
                    "The response has no Content-Type header; every answer must say `Content-Type: application/json`.",
                )
            ],
        ),
        (
            answer(200, {"a": "1"}, content_type="text/html; charset=utf-8"),
            [
                violation(
                    "content-type-json",
                    "Content-Type is not application/json",
                    "Got `Content-Type: text/html; charset=utf-8`; expected `application/json; charset=utf-8`.",
                )
            ],
        ),
        (
            answer(422, {"a": "1"}, content_type="Application/JSON;charset=UTF-8;"),
            "examined: Content-Type: application/json",
        ),
    ],
    ids=["no-body", "204", "no-header", "html", "json-any-case"],
)
def test_json_content_type(response: Response, expected: Any) -> None:
    assert said(common.json_content_type, response) == expected


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(200, {"a": "1"}, content_type=None), SKIPPED),
        (answer(200, None, content_type="application/json"), SKIPPED),
        (
            answer(200, {"a": "1"}, content_type="application/json"),
            [
                violation(
                    "charset-utf8",
                    "Content-Type lacks charset=utf-8",
                    "Got `Content-Type: application/json`; the charset parameter must be utf-8 "
                    "(`application/json; charset=utf-8`).",
                )
            ],
        ),
        (
            answer(200, {"a": "1"}, content_type="application/json; charset=windows-1251"),
            [
                violation(
                    "charset-utf8",
                    "Content-Type lacks charset=utf-8",
                    "Got `Content-Type: application/json; charset=windows-1251`; the charset parameter must be utf-8 "
                    "(`application/json; charset=utf-8`).",
                )
            ],
        ),
        (answer(200, {"a": "1"}, content_type="application/json; Charset=UTF-8;"), "examined: charset=utf-8"),
    ],
    ids=["no-header", "no-body", "no-charset", "cp1251", "utf8-any-case"],
)
def test_utf8_charset_declared(response: Response, expected: Any) -> None:
    assert said(common.utf8_charset_declared, response) == expected


def test_utf8_body_names_the_first_byte_that_is_not_utf8_and_what_surrounds_it() -> None:
    raw = ('{"description": "' + "a" * 30 + "é" + "b" * 30 + '"}').encode("latin-1")
    offset = raw.index(b"\xe9")
    assert said(common.utf8_body, answer(200, raw=raw)) == [
        violation(
            "utf8-body",
            "Body is not valid UTF-8",
            f"Byte {offset} (0xe9) is not UTF-8: {raw[offset - 20 : offset + 20]!r}. Encode the body as UTF-8 "
            "(Windows-1251 is a common cause).",
        )
    ]
    near_start = b"\xff" + b"c" * 30
    assert said(common.utf8_body, answer(200, raw=near_start))[0][3].startswith(
        f"Byte 0 (0xff) is not UTF-8: {near_start[:20]!r}."
    )
    text = "Привет".encode()
    assert said(common.utf8_body, answer(200, raw=text)) == f"examined: {len(text)} bytes of UTF-8"
    assert said(common.utf8_body, answer(200, None)) == SKIPPED


def test_utf8_body_judges_the_bytes_the_target_sent_not_the_masked_ones() -> None:
    """A secret in Latin-1 is masked (the mask is ASCII): the check still sees that the body was not UTF-8."""
    secret = "Pässwörd-of-the-run"
    raw = ('{"echo": "' + secret + '"}').encode("latin-1")
    sent = requests.Response()
    sent.status_code, sent._content, sent.raw = 200, raw, None
    sent.request = requests.Request("GET", "https://partner.example/v1/card").prepare()
    ingest.answer(sent, Masker([secret]))
    masked = Response.from_requests(sent, True)
    assert masked.content.decode("utf-8")  # the masked body alone would look valid
    assert said(common.utf8_body, masked) == [
        violation(
            "utf8-body",
            "Body is not valid UTF-8",
            f"A byte of a masked secret is not UTF-8: {masked.content[:30]!r}. Encode the body as UTF-8 "
            "(Windows-1251 is a common cause).",
        )
    ]


TYPED = {f"n{i}": i for i in range(12)}
NULLS = {f"z{i}": None for i in range(12)}


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(200, None), SKIPPED),
        (answer(200, raw=b"not json"), SKIPPED),
        (answer(200, {}), SKIPPED),
        (answer(200, {"a": {}, "b": []}), SKIPPED),  # containers only: no elementary value to type
        (answer(200, [[], {"c": {}}]), SKIPPED),
        (answer(200, {"a": ["1", {"b": "2"}]}), "examined: every elementary value is a string"),
        (
            answer(200, {"a": "1", "z": None}),
            [warning("string-nulls", "null where a string is expected", "null at $.z.")],
        ),
        (
            answer(200, {"card": {**TYPED, **NULLS, "ok": "1", "flag": True}}),
            [
                violation(
                    "string-scalars",
                    "Non-string scalar in the response body",
                    "Every elementary value must be a JSON string, even numbers and booleans "
                    '(write "300", not 300): ' + ", ".join(f"$.card.n{i} = {i} (int)" for i in range(10)) + ".",
                ),
                warning(
                    "string-nulls",
                    "null where a string is expected",
                    "null at " + ", ".join(f"$.card.z{i}" for i in range(10)) + ".",
                ),
            ],
        ),
        (
            answer(200, {"flag": True}),
            [
                violation(
                    "string-scalars",
                    "Non-string scalar in the response body",
                    'Every elementary value must be a JSON string, even numbers and booleans (write "300", not 300): '
                    "$.flag = True (bool).",
                )
            ],
        ),
    ],
    ids=["no-body", "not-json", "empty", "empty-containers", "empty-array-items", "strings", "null", "many", "bool"],
)
def test_scalars_are_strings(response: Response, expected: Any) -> None:
    assert said(common.scalars_are_strings, response) == expected


def test_a_header_is_found_whatever_the_case_it_is_asked_in() -> None:
    response = answer(200, {}, content_type="application/json")
    assert common.header(response, "Content-Type") == common.header(response, "content-type") == "application/json"
    assert common.header(response, "X-Missing") is None


def test_a_media_type_keeps_its_parameters_and_drops_only_trailing_semicolons() -> None:
    assert common.parse_media_type("  application/json; charset=utf-8;;  ") == (
        "application/json",
        {"charset": "utf-8"},
    )
    assert common.parse_media_type("application/json; boundary=X") == ("application/json", {"boundary": "x"})


# --- Loyalty: the error object, one card, the barcode -----------------------------------------------------------

ERROR_OBJECT = 'An error must be the JSON object {"code": "...", "description": "..."}.'


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(200, {"card": {}}), SKIPPED),
        (answer(302, raw=b"<html>moved</html>", content_type="text/html"), SKIPPED),
        (answer(399, raw=b"<html></html>", content_type="text/html"), SKIPPED),
        (
            answer(
                400, raw=b"<!doctype html><HTML><body>" + LONG.encode() + b"</body></HTML>", content_type="text/html"
            ),
            [
                violation(
                    "error-is-json",
                    "Error body is not JSON",
                    f"The 400 answer is an HTML page: {(b'<!doctype html><HTML><body>' + LONG.encode())[:120]!r}. "
                    + ERROR_OBJECT,
                )
            ],
        ),
        (
            answer(422, raw=b" " * 508 + b"<html>", content_type="text/html"),  # past the 512 bytes looked at
            [
                violation(
                    "error-is-json",
                    "Error body is not JSON",
                    f"The 422 answer is not JSON (text/html): {b' ' * 120!r}. " + ERROR_OBJECT,
                )
            ],
        ),
        (
            answer(500, raw=b"Internal error", content_type=None),
            [
                violation(
                    "error-is-json",
                    "Error body is not JSON",
                    f"The 500 answer is not JSON (no type): {b'Internal error'!r}. " + ERROR_OBJECT,
                )
            ],
        ),
        (
            answer(404, [LONG]),
            [
                violation(
                    "error-object",
                    "Error body is not {code, description}",
                    f"The 404 answer is {str([LONG])[:200]}; it must be a JSON object "
                    'with string members "code" and "description".',
                )
            ],
        ),
        (
            answer(404, {}),
            [
                violation(
                    "error-object",
                    "Error body is not {code, description}",
                    "The 404 answer {} lacks code and description; it must be a "
                    'JSON object with string members "code" and "description".',
                )
            ],
        ),
        (
            answer(404, {"description": "d", "detail": LONG}),
            [
                violation(
                    "error-object",
                    "Error body is not {code, description}",
                    f"The 404 answer {str({'description': 'd', 'detail': LONG})[:200]} lacks code; it must be a "
                    'JSON object with string members "code" and "description".',
                )
            ],
        ),
        (
            answer(422, {"code": 5, "description": 7}),
            [
                violation(
                    "error-code-string",
                    "Error code is not a JSON string",
                    '"code" is 5 (int); write it as a string, e.g. "code": "5".',
                ),
                violation(
                    "error-object", "Error description is not a JSON string", '"description" is 7; it must be a string.'
                ),
            ],
        ),
        (answer(422, {"code": "5", "description": "d"}), "examined: the 422 answer's error object"),
    ],
    ids=[
        "success",
        "redirect",
        "399",
        "html-400",
        "html-beyond-512",
        "plain-text",
        "array",
        "empty-object",
        "no-code",
        "typed-members",
        "conforming",
    ],
)
def test_loyalty_error_object(response: Response, expected: Any) -> None:
    assert said(loyalty.loyalty_error_object, response) == expected


ONE_CARD = {"card": {"cardNumber": "1"}}


@pytest.mark.parametrize(
    "case, response, expected",
    [
        (operation("updateCommunication"), answer(200, [ONE_CARD, ONE_CARD]), SKIPPED),
        (FIND_CARD, answer(404, {"card": [ONE_CARD, ONE_CARD]}), SKIPPED),
        (FIND_CARD, answer(200, None), SKIPPED),
        (FIND_CARD, answer(200, raw=b"{not json"), SKIPPED),
        (FIND_CARD, answer(200, {}), SKIPPED),
        (FIND_CARD, answer(200, "card"), SKIPPED),
        (
            FIND_CARD,
            answer(200, [ONE_CARD, ONE_CARD, ONE_CARD]),
            [
                violation(
                    "single-card",
                    "More than one card returned",
                    "The search answered a list of 3 card(s); it must answer a single "
                    '{"card": {...}} object (or 422 when the partner cannot choose).',
                )
            ],
        ),
        (
            FIND_CARD,
            answer(200, {"card": [{}, {}]}),
            [
                violation(
                    "single-card",
                    "More than one card returned",
                    "The search answered a list of 2 card(s); it must answer a single "
                    '{"card": {...}} object (or 422 when the partner cannot choose).',
                )
            ],
        ),
        (FIND_CARD, answer(200, ONE_CARD), "examined: one card object"),
    ],
    ids=["other-operation", "not-200", "empty", "not-json", "found-nothing", "a-string", "list", "card-list", "one"],
)
def test_at_most_one_card(case: Any, response: Response, expected: Any) -> None:
    assert said(loyalty.at_most_one_card, response, case) == expected


def card(number: object, kind: object) -> dict:
    return {"card": {"barcode": {"barcodeNumber": number, "barcodeType": kind}}}


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(404, card("4600000000009", "EAN_13")), SKIPPED),
        (answer(200, None), SKIPPED),
        (answer(200, raw=b"{"), SKIPPED),
        (answer(200, [card("4600000000009", "EAN_13")]), SKIPPED),
        (answer(200, {"card": None}), SKIPPED),
        (answer(200, {"card": {"cardNumber": "1"}}), SKIPPED),
        (answer(200, card(4600000000009, "EAN_13")), SKIPPED),  # the schema check reports a number's type
        (answer(200, card("4600000000009", 13)), SKIPPED),
        (answer(200, card("anything", "QR_CODE")), SKIPPED),
        (
            answer(200, card("4600000000009", "EAN_13")),
            [
                warning(
                    "barcode-consistency",
                    "barcodeNumber does not fit barcodeType",
                    "EAN_13 4600000000009 has check digit 9, expected 8",
                )
            ],
        ),
        (answer(200, card("4600007111110", "EAN_13")), "examined: EAN_13 4600007111110: length and check digit"),
    ],
    ids=[
        "not-200",
        "empty",
        "not-json",
        "array",
        "null-card",
        "no-barcode",
        "int-number",
        "int-kind",
        "qr",
        "bad",
        "ok",
    ],
)
def test_barcode_consistent_with_type(response: Response, expected: Any) -> None:
    assert said(loyalty.barcode_consistent_with_type, response) == expected


@pytest.mark.parametrize(
    "number, kind", [("46000040", "EAN_8"), ("4600007111110", "EAN_13"), ("460000811110", "UPC_A")]
)
def test_a_check_digit_of_zero_is_valid(number: str, kind: str) -> None:
    assert loyalty.barcode_problem(number, kind) is None
    assert loyalty.barcode_problem(number[:-1] + "1", kind) == f"{kind} {number[:-1]}1 has check digit 1, expected 0"


# --- Push: the error body -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(200, {"status": "OK"}), SKIPPED),
        (answer(299, raw=b"anything"), SKIPPED),
        (answer(304, None), SKIPPED),
        (
            answer(300, raw=LONG.encode(), content_type="text/plain"),
            [
                violation(
                    "push-error-json",
                    "Error body is not JSON",
                    f"The 300 answer is {LONG.encode()[:120]!r}; an error must be the JSON object "
                    '{"status": "...", "errors": ["field: message"]}.',
                )
            ],
        ),
        (
            answer(304, raw=b"not modified", content_type="text/plain"),
            [
                violation(
                    "push-error-json",
                    "Error body is not JSON",
                    f"The 304 answer is {b'not modified'!r}; an error must be the JSON object "
                    '{"status": "...", "errors": ["field: message"]}.',
                )
            ],
        ),
        (
            answer(400, [LONG]),
            [
                violation(
                    "push-error-json",
                    "Error body is not a JSON object",
                    f'The 400 answer is {str([LONG])[:200]}; it must be {{"status": "...", "errors": [...]}}.',
                )
            ],
        ),
        (
            answer(400, {"status": 400, "errors": "bad", "detail": LONG}),
            [
                violation(
                    "push-error-shape",
                    "Error body has no string status",
                    f"The 400 answer is {str({'status': 400, 'errors': 'bad', 'detail': LONG})[:200]}; it must carry a "
                    'string "status" (e.g. "BAD_REQUEST").',
                ),
                violation(
                    "push-error-shape",
                    "Error body has no errors array of strings",
                    '"errors" is \'bad\'; it must be an array of strings such as "payload.title: size must be '
                    'between 0 and 50".',
                ),
            ],
        ),
        (
            answer(500, {"status": "ERROR", "errors": ["a", 1]}),
            [
                violation(
                    "push-error-shape",
                    "Error body has no errors array of strings",
                    '"errors" is [\'a\', 1]; it must be an array of strings such as "payload.title: size must be '
                    'between 0 and 50".',
                )
            ],
        ),
        (answer(429, {"status": "TOO_MANY", "errors": []}), "examined: the 429 answer's error body {status, errors}"),
    ],
    ids=["success", "299", "304-empty", "300", "304-body", "array", "untyped", "errors-not-strings", "conforming"],
)
def test_push_error_body(response: Response, expected: Any) -> None:
    assert said(push.push_error_body, response) == expected


# --- Imbee: the envelope, the error code -----------------------------------------------------------------------

ENVELOPE = '{"time": <seconds>, "code": <integer>, "message": "...", "body": ...}.'


def envelope(**members: object) -> dict:
    return {"time": 0.1, "code": 0, "message": "", "body": {}} | members


def not_an_envelope(status: int, content: bytes) -> list:
    return [
        violation(
            "envelope",
            "Answer is not the envelope",
            f"The {status} answer is {content[:160]!r}; every answer must be the JSON object " + ENVELOPE,
        )
    ]


def bad_time(value: object) -> tuple:
    return violation(
        "envelope-time",
        "time is not a non-negative number",
        f'"time" is {value!r} ({type(value).__name__}); it must be a JSON number of seconds, e.g. 0.00019.',
    )


def bad_code(code: object, message: object) -> tuple:
    return violation(
        "envelope",
        "code or message has the wrong type",
        f'"code" is {code!r} and "message" is {message!r}; code is an integer, message a string.',
    )


WITHOUT_BODY = json.dumps({"time": 0.1, "code": 0, "message": LONG}).encode()


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(200, raw=b"<html>" + LONG.encode()), not_an_envelope(200, b"<html>" + LONG.encode())),
        (answer(404, [envelope()]), not_an_envelope(404, json.dumps([envelope()]).encode())),
        (answer(200, raw=WITHOUT_BODY), not_an_envelope(200, WITHOUT_BODY)),
        (answer(200, envelope(time=True)), [bad_time(True)]),
        (answer(200, envelope(time="0.1")), [bad_time("0.1")]),
        (answer(200, envelope(time=-0.5)), [bad_time(-0.5)]),
        (answer(200, envelope(code=False)), [bad_code(False, "")]),
        (answer(200, envelope(code="0")), [bad_code("0", "")]),
        (answer(200, envelope(message=None)), [bad_code(0, None)]),
        (answer(200, envelope(time=None, code=1.5)), [bad_time(None), bad_code(1.5, "")]),
        (answer(200, envelope(time=0)), "examined: the envelope {time, code, message, body}"),
        (answer(500, envelope(time=12, code=3, message="x")), "examined: the envelope {time, code, message, body}"),
    ],
    ids=[
        "html",
        "array",
        "without-body",
        "bool-time",
        "string-time",
        "negative-time",
        "bool-code",
        "string-code",
        "null-message",
        "both",
        "zero-time",
        "error-envelope",
    ],
)
def test_imbee_envelope(response: Response, expected: Any) -> None:
    assert said(imbee.imbee_envelope, response) == expected


def code_zero(status: int) -> tuple:
    return warning(
        "error-code-zero",
        "Error status answered with code 0",
        f"The {status} answer carries code 0, the code of a processed request; the suite "
        "expects a non-zero code (1 is the generic error) with an error status.",
    )


def no_message(status: int, message: object) -> tuple:
    return warning(
        "error-message",
        "Error answered without a message",
        f"The {status} answer carries message {message!r}; the suite expects a refused request to say why.",
    )


@pytest.mark.parametrize(
    "response, expected",
    [
        (answer(400, raw=b"not json"), SKIPPED),
        (answer(400, ["no", "envelope"]), SKIPPED),
        (answer(200, envelope(code=0, message="")), SKIPPED),
        (answer(399, envelope(code=0, message="")), SKIPPED),
        (answer(400, envelope(code=0, message="")), [code_zero(400), no_message(400, "")]),
        (answer(500, envelope(code=0, message="refused")), [code_zero(500)]),
        (answer(401, {"time": 0, "code": 1, "body": None}), [no_message(401, None)]),
        (answer(404, envelope(code=1, message="no such user")), "examined: the 404 answer's code and message"),
    ],
    ids=["not-json", "array", "success", "399", "code-0-no-message", "code-0", "no-message", "conforming"],
)
def test_imbee_error_code(response: Response, expected: Any) -> None:
    assert said(imbee.imbee_error_code, response) == expected


@pytest.mark.parametrize(
    "response, refusal",
    [
        (answer(500, envelope(code=1, message="x")), True),
        (answer(200, envelope(code=-3, extra="member")), True),
        (answer(500, envelope(code=0)), False),
        (answer(500, envelope(code=True)), False),
        (answer(500, envelope(code="1")), False),
        (answer(500, {"time": 0, "code": 1, "message": "x"}), False),
        (answer(500, [envelope(code=1)]), False),
        (answer(500, raw=b"Internal Server Error"), False),
    ],
    ids=["refusal", "extra-member", "code-0", "bool-code", "string-code", "without-body", "array", "not-json"],
)
def test_a_refusal_envelope_is_the_documented_form_with_a_non_zero_integer_code(
    response: Response, refusal: bool
) -> None:
    assert imbee.is_refusal_envelope(response) is refusal


# --- the contract every check is held to ----------------------------------------------------------------------


def test_a_registered_check_keeps_its_name_and_rules_and_schemathesis_knows_it() -> None:
    def probe_registered_check(ctx, response, case):
        return examined(f"{ctx} saw {response.status_code} for {case}")

    registered = check(probe_registered_check, "rule-a", "rule-b")
    try:
        assert CHECKS.get_one("probe_registered_check") is registered
        assert registered.__name__ == "probe_registered_check" and registered.rules == ("rule-a", "rule-b")
        assert registered("ctx", answer(200, {}), "case") is None
        assert examined_by("probe_registered_check") == "ctx saw 200 for case"
    finally:
        CHECKS.unregister("probe_registered_check")


def test_a_rule_breach_keeps_what_it_says_and_several_are_raised_together() -> None:
    breach = RuleViolation("rule-a", "A title", "A message", operation="GET /v1/card")
    assert (breach.rule, breach.title, breach.message, breach.operation) == (
        "rule-a",
        "A title",
        "A message",
        "GET /v1/card",
    )
    assert report([]) is None
    with pytest.raises(RuleViolation) as one:
        report([breach])
    assert one.value is breach
    other = RuleWarning("rule-b", "Another title", "m")
    with pytest.raises(FailureGroup) as both:
        report([breach, other])
    assert list(both.value.exceptions) == [breach, other] and both.value.message == "A title\nAnother title"


def test_every_rule_a_check_raises_is_held_to_its_declaration_even_inside_a_group() -> None:
    @rules("declared")
    def one_typo_among_two(ctx, response, case):
        report([RuleViolation("declared", "t", "m"), RuleViolation("decalred", "t", "m")])

    with pytest.raises(SuiteBug, match=r"check one_typo_among_two raised rule 'decalred', which it does not declare"):
        one_typo_among_two(None, answer(200, {}), FIND_CARD)

    plain = Failure(operation="GET /v1/card", title="a schemathesis failure", message="m")

    @rules("declared")
    def with_another_failure(ctx, response, case):
        raise FailureGroup([RuleViolation("declared", "t", "m"), plain], "two")

    with pytest.raises(FailureGroup):  # a failure that is no rule of the suite is not held to the declaration
        with_another_failure(None, answer(200, {}), FIND_CARD)


def test_a_check_says_what_it_examined_for_each_answer_in_each_thread() -> None:
    @rules("a")
    def first(ctx, response, case):
        return examined("the first thing")

    @rules("b")
    def second(ctx, response, case):
        return NOT_APPLICABLE if case is None else examined(f"the second thing of {case}")

    def validate_one_answer(seen: dict) -> None:
        seen["before"] = examined_by("first")
        first(None, answer(200, {}), FIND_CARD)
        second(None, answer(200, {}), "a case")
        seen["after"] = (examined_by("first"), examined_by("second"), examined_by("first"))

    seen: dict = {}
    worker = threading.Thread(target=validate_one_answer, args=(seen,))  # a fresh thread: no note taken yet
    worker.start()
    worker.join()
    assert seen == {"before": "", "after": ("the first thing", "the second thing of a case", "")}
    assert second(None, answer(200, {}), None) is True
