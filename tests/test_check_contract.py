"""The checks' contract: a pass names what it examined, "does not apply" is an explicit act, and anything else is a
suite bug, never a pass. Each custom check is held to it on the answers that once gave passes nothing examined."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests
from schemathesis import GenerationMode
from schemathesis.core.transport import Response
from schemathesis.errors import FailureGroup

from conformance.checks import (
    NOT_APPLICABLE,
    RuleViolation,
    RuleWarning,
    common,
    examined,
    examined_by,
    imbee,
    loyalty,
    push,
    rules,
)
from conformance.outcomes import SuiteBug
from conformance.plugin.phases import CheckFailures, _classify
from conformance.plugin.schemathesis_bridge import applies

SKIPPED = True  # what schemathesis reads as "the check did not apply"


def answer(
    status: int, body: object = None, *, content_type: str | None = "application/json; charset=utf-8"
) -> Response:
    raw = requests.Response()
    raw.status_code = status
    raw._content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    raw.headers = requests.structures.CaseInsensitiveDict({"Content-Type": content_type} if content_type else {})
    raw.request = requests.Request("GET", "https://partner.example/v1/card").prepare()
    raw.raw = None
    response = Response.from_requests(raw, True)
    response.headers = {k.lower(): [v] for k, v in raw.headers.items()}
    return response


def case(operation_id: str = "findCard", mode: GenerationMode = GenerationMode.POSITIVE) -> SimpleNamespace:
    operation = SimpleNamespace(definition=SimpleNamespace(raw={"operationId": operation_id}), label="GET /v1/card")
    return SimpleNamespace(operation=operation, meta=SimpleNamespace(generation=SimpleNamespace(mode=mode)))


# --- the contract itself -----------------------------------------------------------------------------------


def test_a_check_that_falls_off_its_end_is_a_suite_bug_not_a_pass() -> None:
    @rules("a-rule")
    def forgetful(ctx, response, case):
        return None

    with pytest.raises(SuiteBug, match="ended without saying whether it examined"):
        forgetful(None, answer(200, {}), case())


def test_not_applicable_is_skipped_and_examined_is_a_pass_that_says_what_it_examined() -> None:
    @rules("a-rule")
    def judging(ctx, response, case):
        return NOT_APPLICABLE if response.status_code != 200 else examined("the thing")

    assert judging(None, answer(404, {}), case()) is SKIPPED
    assert judging(None, answer(200, {}), case()) is None  # schemathesis' success
    assert examined_by("judging") == "the thing"
    assert examined_by("judging") == "", "each answer's checks say it anew"


def test_a_rule_the_check_does_not_declare_is_a_suite_bug() -> None:
    @rules("declared")
    def typo(ctx, response, case):
        raise RuleViolation("decalred", "t", "m")

    with pytest.raises(SuiteBug, match="does not declare"):
        typo(None, answer(200, {}), case())


def test_a_test_stopped_by_a_failing_check_is_no_pass_of_its_own() -> None:
    assert _classify(FailureGroup([RuleViolation("r", "t", "m")], "t"))[0] is None  # the check's record is the evidence
    assert _classify(CheckFailures("deferred"))[0] == "pass"  # the body ran to its end; the checks have their records


def test_a_negative_data_check_is_evidence_only_on_negative_cases() -> None:
    assert applies(None, "negative_data_rejection", case(mode=GenerationMode.NEGATIVE), answer(422, {}))
    assert not applies(None, "negative_data_rejection", case(mode=GenerationMode.POSITIVE), answer(200, {}))
    assert applies(None, "positive_data_acceptance", case(mode=GenerationMode.POSITIVE), answer(200, {}))
    assert not applies(None, "positive_data_acceptance", case(mode=GenerationMode.NEGATIVE), answer(422, {}))


# --- passes that once examined nothing -------------------------------------------------------------------


def test_one_card_is_not_examined_on_a_search_that_found_nothing() -> None:
    assert loyalty.at_most_one_card(None, answer(200, {}), case()) is SKIPPED
    assert loyalty.at_most_one_card(None, answer(200, {"card": {"cardNumber": "1"}}), case()) is None
    with pytest.raises(RuleViolation):
        loyalty.at_most_one_card(None, answer(200, {"card": [{}, {}]}), case())


@pytest.mark.parametrize("kind", ["QR_CODE", "CODE_128", "PDF_417"])
def test_a_barcode_kind_without_a_digit_rule_is_not_examined(kind: str) -> None:
    card = {"card": {"barcode": {"barcodeNumber": "anything", "barcodeType": kind}}}
    assert loyalty.barcode_consistent_with_type(None, answer(200, card), case()) is SKIPPED
    valid = {"card": {"barcode": {"barcodeNumber": "4600000000008", "barcodeType": "EAN_13"}}}
    assert loyalty.barcode_consistent_with_type(None, answer(200, valid), case()) is None


def test_a_body_less_answer_has_no_content_type_to_judge() -> None:
    assert common.json_content_type(None, answer(200, None, content_type=None), case()) is SKIPPED
    assert common.utf8_charset_declared(None, answer(204, None, content_type="text/plain"), case()) is SKIPPED
    with pytest.raises(RuleViolation):
        common.json_content_type(None, answer(200, {"a": "1"}, content_type=None), case())


def test_an_empty_object_has_no_elementary_value_to_type() -> None:
    assert common.scalars_are_strings(None, answer(200, {}), case()) is SKIPPED
    assert common.scalars_are_strings(None, answer(200, {"a": "1"}), case()) is None


def test_a_success_with_another_status_is_no_error_answer() -> None:
    assert loyalty.loyalty_error_object(None, answer(201, None), case()) is SKIPPED
    assert (
        loyalty.loyalty_error_object(None, answer(302, b"<html>moved</html>", content_type="text/html"), case())
        is SKIPPED
    )
    with pytest.raises(RuleViolation) as found:
        loyalty.loyalty_error_object(None, answer(422, b"<html>error</html>", content_type="text/html"), case())
    assert found.value.rule == "error-is-json"


# --- checks whose weakening once went unnoticed -------------------------------------------------------------


def test_an_imbee_answer_without_body_is_no_envelope() -> None:
    with pytest.raises(RuleViolation) as found:
        imbee.imbee_envelope(None, answer(200, {"time": 0.1, "code": 0, "message": "ok"}), case())
    assert found.value.rule == "envelope"
    assert imbee.imbee_envelope(None, answer(200, {"time": 0.1, "code": 0, "message": "", "body": {}}), case()) is None


@pytest.mark.parametrize("status", [400, 401, 500])
def test_an_imbee_error_status_with_code_zero_is_advised_against(status: int) -> None:
    with pytest.raises(RuleWarning):
        imbee.imbee_error_code(None, answer(status, {"time": 0, "code": 0, "message": "x", "body": None}), case())
    assert (
        imbee.imbee_error_code(None, answer(200, {"time": 0, "code": 0, "message": "", "body": {}}), case()) is SKIPPED
    )


def test_a_real_date_is_a_date_of_the_calendar() -> None:
    assert imbee.is_real_date("2030-02-28") and not imbee.is_real_date("2030-02-30")
    assert not imbee.is_real_date("30/02/2030") and not imbee.is_real_date(20300228)


@pytest.mark.parametrize("status", [304, 400, 401, 404, 500])
def test_every_push_error_answer_is_held_to_the_documents_example_shape(status: int) -> None:
    with pytest.raises(FailureGroup) as found:  # no string status, no errors array: both named
        push.push_error_body(None, answer(status, {"error": "bad"}), case())
    breaches = found.value.exceptions
    assert {b.rule for b in breaches} == {"push-error-shape"} and not any(isinstance(b, RuleWarning) for b in breaches)
    example = {"status": "BAD_REQUEST", "errors": ["msisdn: size must be between 0 and 10000"]}
    assert push.push_error_body(None, answer(status, example), case()) is None
    assert push.push_error_body(None, answer(304, None), case()) is SKIPPED
