"""What schemathesis' check results become, through the suite's schema hooks: each answer validated in-process as a
run validates it (the profile's checks and schemathesis' own, the spec's check configuration), and the records the
hooks leave, word for word. A pass only where the check applied, naming what it examined; a failure for the
requirements its rule or operation names, masked; advice recorded without stopping the test; a finding no profile
maps stops the run as a suite bug."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.errors import HookExecutionError
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.generation.meta import (
    CaseMetadata,
    ComponentInfo,
    ExamplesPhaseData,
    GenerationInfo,
    PhaseInfo,
    TestPhase,
)

from conformance.checks import RuleViolation, examined, rules
from conformance.plugin import schemathesis_bridge
from conformance.plugin.phases import _suite_bug
from conformance.plugin.schemathesis_bridge import MESSAGE_LIMIT, install
from conformance.profiles import get_profile
from conformance.recorder import Recorder
from conformance.report.masking import MASK, Masker
from conformance.target import Credentials

SECRET = "pass-word-of-the-run"
BASE = "https://partner.example"
TEST = "tests/suite.py::test_probe"
EXCHANGE = {"request": "the exchange a finding cites"}


class Harness:
    """One API's schema with the suite's hooks installed, and the recorder they write to."""

    def __init__(self, api: str) -> None:
        self.profile = get_profile(api)
        config = schemathesis.Config.from_dict(self.profile.schemathesis_config)
        schema = schemathesis.openapi.from_dict(self.profile.spec, config=config)
        self.credentials = Credentials("user-name", SECRET)
        target = SimpleNamespace(base_url=BASE, credentials=self.credentials, embedded=False, verify=True, faults=())
        masker = Masker([SECRET])
        self.recorder = Recorder(self.profile, masker, target)
        self.recorder.current_test = TEST
        self.run = SimpleNamespace(profile=self.profile, masker=masker, recorder=self.recorder, schema=schema)
        install(self.run)
        self.operations = {
            result.ok().definition.raw["operationId"]: result.ok() for result in schema.get_all_operations()
        }

    def validate(
        self,
        operation_id: str,
        status: int,
        answer: object = None,
        *,
        raw: bytes | None = None,
        content_type: str | None = "application/json; charset=utf-8",
        mode: GenerationMode | None = None,
        where: tuple[str, ...] = ("body",),
        checks: list[Any] | None = None,
        credentials: bool = True,
        **parts: Any,
    ) -> list[str]:
        """Validate one answer as a run does; the failures schemathesis raised (by kind), after the hooks' filter."""
        op = self.operations[operation_id]
        meta = None
        if mode is not None:
            phase = PhaseInfo(TestPhase.EXAMPLES, ExamplesPhaseData(None, None, None, None))
            components = {ParameterLocation(location): ComponentInfo(mode) for location in where}
            meta = CaseMetadata(GenerationInfo(0.0, mode), components, phase)
        case = op.Case(**parts, _meta=meta)
        auth = self.profile.auth_kwargs(self.credentials) if credentials else {}
        request = requests.Request(op.method.upper(), BASE + op.path, **auth).prepare()
        content = raw if raw is not None else b"" if answer is None else json.dumps(answer).encode()
        headers = {"Content-Type": [content_type]} if content_type else {}
        try:
            case.validate_response(
                Response(status, headers, content, request, 0.0, True), checks=checks or list(self.profile.checks)
            )
        except FailureGroup as group:
            return [type(failure).__name__ for failure in group.exceptions]
        except Failure as failure:
            return [type(failure).__name__]
        return []

    def records(self, *, check: str | None = None, status: str | None = None) -> list[tuple]:
        found = [
            (r.status, r.requirements, r.check, r.reason, r.title, r.signature)
            for r in self.recorder.records
            if (check is None or r.check == check) and (status is None or r.status == status)
        ]
        assert all(r.test == TEST for r in self.recorder.records)
        return found


def passed(ids: tuple[str, ...], check: str, examined: str = "") -> tuple:
    return ("pass", ids, check, examined, "", "")


CARD = {"card": {"cardNumber": "2337658900"}}


def test_a_conforming_answer_gives_each_check_that_applied_a_pass_that_names_what_it_examined() -> None:
    loyalty = Harness("loyalty")
    assert loyalty.validate("findCard", 200, CARD) == []  # the schema's finding is advice: it stops nothing
    answered = "GET /v1/card answered 200"
    assert loyalty.records() == [
        passed(("R-LOY-07",), "not_a_server_error", answered),
        passed(("R-LOY-07",), "status_code_conformance", answered),
        passed(("R-LOY-04",), "content_type_conformance", answered),
        (
            "fail",
            ("R-LOY-40",),
            "response_schema_conformance",
            'GET /v1/card 200: at /card: "cardState" is a required property',
            "Response violates the schema at /card",
            "schema /card",
        ),
        passed(("R-LOY-15", "R-LOY-16", "R-LOY-17"), "response_schema_conformance"),
        passed(("R-LOY-04",), "json_content_type", "Content-Type: application/json"),
        passed(("R-LOY-04",), "utf8_charset_declared", "charset=utf-8"),
        passed(("R-LOY-05",), "utf8_body", "38 bytes of UTF-8"),
        passed(("R-LOY-10", "R-LOY-37"), "scalars_are_strings", "every elementary value is a string"),
        passed(("R-LOY-19",), "at_most_one_card", "one card object"),
    ]
    assert loyalty.recorder.operation_successes == {"GET /v1/card": 1}
    loyalty.validate("findCard", 200, CARD, credentials=False)
    assert loyalty.recorder.operation_successes == {"GET /v1/card": 1}, "only a credentialed success is the account's"


def test_an_empty_answer_is_evidence_of_its_form_only_where_the_documents_allow_none() -> None:
    loyalty = Harness("loyalty")
    assert loyalty.validate("findCard", 200) == []  # `x-empty-body: allowed`: nothing to type, nothing to parse
    assert loyalty.records() == [
        passed(("R-LOY-07",), "not_a_server_error", "GET /v1/card answered 200"),
        passed(("R-LOY-07",), "status_code_conformance", "GET /v1/card answered 200"),
    ]
    loyalty = Harness("loyalty")
    assert loyalty.validate("getAllUsers", 200) == ["MalformedJson"]
    assert loyalty.records(check="response_schema_conformance") == [
        (
            "fail",
            ("R-LOY-28",),  # the ids the documented answer names
            "response_schema_conformance",
            "Response must be valid JSON with 'Content-Type: application/json' header:\n\n"
            "  Expecting value: line 1 column 1 (char 0)",
            "JSON deserialization error",
            "",
        )
    ]


def test_a_body_the_documents_give_no_schema_is_no_evidence_of_a_schema() -> None:
    push = Harness("push")
    push.validate("sendPush", 304, {"status": "NOT_MODIFIED", "errors": []})
    assert push.records(check="response_schema_conformance") == []
    assert push.records(check="content_type_conformance") == []  # no documented content to conform to


def test_a_warning_is_recorded_as_a_warning_and_never_stops_the_test() -> None:
    loyalty = Harness("loyalty")
    card = {"card": {"cardNumber": "2", "barcode": {"barcodeNumber": "4600000000009", "barcodeType": "EAN_13"}}}
    assert loyalty.validate("findCard", 200, card) == []
    assert loyalty.records(status="warn") == [
        (
            "warn",
            ("R-LOY-22",),
            "barcode-consistency",
            "EAN_13 4600000000009 has check digit 9, expected 8",
            "barcodeNumber does not fit barcodeType",
            "barcode-consistency: barcodeNumber does not fit barcodeType",
        )
    ]
    # schemathesis counts a check whose findings were all dropped as advice a success: that is no pass of the rule
    assert [r for r in loyalty.records(status="pass") if "R-LOY-22" in r[1]] == []
    assert loyalty.records(check="barcode_consistent_with_type") == []
    loyalty.validate(
        "findCard",
        200,
        {"card": {**card["card"], "barcode": {**card["card"]["barcode"], "barcodeNumber": "4600000000008"}}},
    )
    assert loyalty.records(check="barcode_consistent_with_type") == [
        passed(("R-LOY-22",), "barcode_consistent_with_type", "EAN_13 4600000000008: length and check digit")
    ]  # the next answer, which holds, is a pass: what one answer breached is forgotten with it


def test_two_warnings_on_one_answer_leave_neither_rule_a_pass_and_no_other_answer_inherits_them() -> None:
    loyalty = Harness("loyalty")
    barcode = {"barcodeNumber": "4600000000009", "barcodeType": "EAN_13"}  # the wrong check digit: R-LOY-22 warns
    card = {"card": {"cardNumber": "2", "extra": None, "barcode": barcode}}  # a null: R-LOY-37 warns
    assert loyalty.validate("findCard", 200, card) == []
    assert sorted(r[1] for r in loyalty.records(status="warn")) == [("R-LOY-22",), ("R-LOY-37",)]
    held = {i for r in loyalty.records(status="pass") for i in r[1]}
    assert "R-LOY-10" in held and not held & {"R-LOY-22", "R-LOY-37"}  # what the answer breached, it did not hold

    # A breach noted on another answer (one whose validation never reached its records) is not this answer's.
    other = Response(200, {}, b"", requests.Request("GET", BASE + "/v1/card").prepare(), 0.0, True)
    schemathesis_bridge._drop(other, ("R-LOY-19",))
    loyalty.validate("findCard", 200, CARD)
    assert passed(("R-LOY-19",), "at_most_one_card", "one card object") in loyalty.records(status="pass")


def test_each_thread_keeps_its_own_note_of_what_its_answer_breached() -> None:
    """The lanes validate answers on threads of their own: the first answer a fresh thread validates, with a
    warning or without, is judged on what that answer showed."""
    loyalty = Harness("loyalty")
    card = {"card": {"cardNumber": "2", "barcode": {"barcodeNumber": "4600000000009", "barcodeType": "EAN_13"}}}
    failures: list[BaseException] = []

    def validate(answer: dict[str, Any]) -> None:
        try:
            loyalty.recorder.current_test = TEST  # the running test is each thread's own
            loyalty.validate("findCard", 200, answer)
        except BaseException as exc:
            failures.append(exc)

    for answer in (card, CARD):
        thread = threading.Thread(target=validate, args=(answer,))
        thread.start()
        thread.join()
    assert failures == []
    assert [r[1] for r in loyalty.records(status="warn")] == [("R-LOY-22",)]
    assert passed(("R-LOY-19",), "at_most_one_card", "one card object") in loyalty.records(status="pass")


def test_a_failure_quotes_the_answer_masked_and_cites_the_exchange() -> None:
    loyalty = Harness("loyalty")
    loyalty.recorder.last_exchange = EXCHANGE
    html = b"<html>" + SECRET.encode() + b"</html>"
    kinds = loyalty.validate("sendQrCode", 422, raw=html, content_type="text/html")
    assert sorted(kinds) == ["RuleViolation", "RuleViolation", "RuleViolation", "UndefinedContentType"]
    assert loyalty.records(status="fail") == [
        (
            "fail",
            ("R-LOY-04",),
            "content_type_conformance",
            "Received: text/html\nDocumented: application/json",
            "Undocumented Content-Type",
            "",
        ),
        (
            "fail",
            ("R-LOY-04",),
            "json_content_type",
            "Got `Content-Type: text/html`; expected `application/json; charset=utf-8`.",
            "Content-Type is not application/json",
            "content-type-json: Content-Type is not application/json",
        ),
        (
            "fail",
            ("R-LOY-04",),
            "utf8_charset_declared",
            "Got `Content-Type: text/html`; the charset parameter must be utf-8 (`application/json; charset=utf-8`).",
            "Content-Type lacks charset=utf-8",
            "charset-utf8: Content-Type lacks charset=utf-8",
        ),
        (
            "fail",
            ("R-LOY-32",),
            "loyalty_error_object",
            f"The 422 answer is an HTML page: {b'<html>' + MASK.encode() + b'</html>'!r}. An error must be the JSON "
            'object {"code": "...", "description": "..."}.',
            "Error body is not JSON",
            "error-is-json: Error body is not JSON",
        ),
    ]
    records = list(loyalty.recorder.records)
    assert all(record.exchange == EXCHANGE for record in records if record.status == "fail")
    assert all(record.exchange is None for record in records if record.status == "pass")


@rules("single-card")
def probe_long_breach(ctx, response, case):
    raise RuleViolation("single-card", f"Card {SECRET} twice", f"{SECRET} " + "x" * 3000)


def test_a_failure_record_is_masked_and_cut_to_the_message_limit() -> None:
    loyalty = Harness("loyalty")
    assert loyalty.validate("findCard", 200, CARD, checks=[probe_long_breach]) == ["RuleViolation"]
    [record] = [r for r in loyalty.recorder.records if r.check == "probe_long_breach"]
    assert record.requirements == ("R-LOY-19",) and record.status == "fail"
    assert record.reason == (f"{MASK} " + "x" * 3000)[:MESSAGE_LIMIT]
    assert (record.title, record.signature) == (f"Card {MASK} twice", f"single-card: Card {MASK} twice")


def test_advice_not_followed_is_recorded_and_does_not_stop_the_test() -> None:
    imbee = Harness("imbee")  # a server error is the suite's status policy on Imbee: advice
    assert imbee.validate("createToken", 500, {"time": 0.1, "code": 1, "message": "x", "body": None}) == []
    assert imbee.records(status="fail") == [("fail", ("R-IMB-45",), "not_a_server_error", "", "Server error", "")]


def test_a_mandatory_failure_stops_the_test_and_is_recorded_once() -> None:
    push = Harness("push")
    assert push.validate("sendPushBulkSingle", 200, {"id": "1"}, mode=GenerationMode.NEGATIVE) == [
        "AcceptedNegativeData"
    ]
    assert push.records(check="negative_data_rejection") == [
        (
            "fail",
            ("R-BULK-01",),  # the operation's own x-check-requirements
            "negative_data_rejection",
            "Invalid data should have been rejected\nExpected: 400",
            "Invalid request accepted with 200",
            "",
        )
    ]


PUSH_MESSAGE = {  # valid as documented: the seed's example
    "pushType": "TRANSACTION",
    "msisdn": 71234567890,
    "payload": {"title": "Bonus points written off", "message": "Balance reduced", "deeplink": {"target": "card"}},
}


@pytest.mark.parametrize(
    "operation_id, status, expected",
    [
        ("sendPush", 200, ("fail", ("R-PUSH-22",), "Invalid request accepted with 200")),
        ("sendPush", 500, ("fail", ("R-PUSH-22",), "Invalid request answered 500, not the documented refusal")),
    ],
)
def test_a_negative_case_the_documents_allow_is_refused_only_by_preference(
    operation_id: str, status: int, expected: tuple
) -> None:
    """Schemathesis negated a generation hint only: the body is valid as documented, so accepting it is advice."""
    push = Harness("push")
    kinds = push.validate(operation_id, status, {"id": "1"}, mode=GenerationMode.NEGATIVE, body=PUSH_MESSAGE)
    assert "AcceptedNegativeData" not in kinds
    found = push.records(check="negative_data_rejection", status="fail")
    assert [(s, ids, title) for s, ids, _, _, title, _ in found] == [expected]


def test_a_negative_case_outside_the_body_breaks_a_documented_constraint() -> None:
    push = Harness("push")
    assert "AcceptedNegativeData" in push.validate(
        "sendPush", 200, {"id": "1"}, mode=GenerationMode.NEGATIVE, where=("body", "query"), body=PUSH_MESSAGE
    )
    assert [r[1] for r in push.records(check="negative_data_rejection")] == [("R-PUSH-18",)]


def test_positive_and_negative_checks_are_evidence_only_on_their_own_cases() -> None:
    push = Harness("push")
    refusal = {"status": "BAD_REQUEST", "errors": ["x"]}
    assert push.validate("resetPassword", 400, refusal, mode=GenerationMode.POSITIVE) == []  # advice: not stopped
    assert push.records(check="positive_data_acceptance", status="fail") == [
        (
            "fail",
            ("R-PUSH-24",),  # the operation's own x-check-requirements, not the profile's R-PUSH-21
            "positive_data_acceptance",
            "Valid data should have been accepted\nExpected: 200, 429",
            "Valid request refused with 400",
            "",
        )
    ]
    push = Harness("push")
    push.validate("resetPassword", 200, {"id": "1"}, mode=GenerationMode.POSITIVE)
    assert push.records(check="positive_data_acceptance") == [
        passed(("R-PUSH-24",), "positive_data_acceptance", "PUT /public/user/reset-password answered 200")
    ]
    assert push.records(check="negative_data_rejection") == []
    push = Harness("push")
    push.validate("resetPassword", 400, refusal, mode=GenerationMode.NEGATIVE)
    assert push.records(check="negative_data_rejection") == [
        passed(("R-PUSH-18",), "negative_data_rejection", "PUT /public/user/reset-password answered 400")
    ]
    assert push.records(check="positive_data_acceptance") == []


@rules("unmapped-rule")
def probe_unmapped(ctx, response, case):
    raise RuleViolation("unmapped-rule", "t", "m")


def probe_plain(ctx, response, case):
    raise AssertionError("a check of no profile")


@rules("unmapped-rule")
def probe_unmapped_pass(ctx, response, case):
    return examined("something")


def test_a_finding_no_profile_maps_is_a_suite_bug_and_a_pass_it_maps_to_nothing_no_evidence() -> None:
    loyalty = Harness("loyalty")
    for probe, rule in ((probe_unmapped, "unmapped-rule"), (probe_plain, "probe_plain")):
        with pytest.raises(HookExecutionError) as raised:  # schemathesis wraps what a hook raises
            loyalty.validate("findCard", 200, CARD, checks=[probe])
        assert str(_suite_bug(raised.value)) == (
            f"the {probe.__name__} check found a breach of {rule!r}, which the loyalty profile maps to no rule"
        )
    loyalty = Harness("loyalty")
    assert loyalty.validate("findCard", 200, CARD, checks=[probe_unmapped_pass]) == []
    assert loyalty.records() == []


def test_a_body_that_is_not_json_stops_the_test_and_fails_the_rules_its_documented_answer_names() -> None:
    loyalty = Harness("loyalty")
    assert loyalty.validate("findCard", 200, raw=b"not json") == ["MalformedJson"]
    loyalty = Harness("loyalty")  # the 422 answer is documented by reference (components/responses/Error)
    assert sorted(loyalty.validate("sendQrCode", 422, raw=b"not json")) == ["MalformedJson", "RuleViolation"]
    assert [r[:3] for r in loyalty.records(check="response_schema_conformance")] == [
        ("fail", ("R-LOY-08", "R-LOY-09"), "response_schema_conformance")
    ]


def test_a_schema_breach_of_a_mandatory_rule_stops_the_test() -> None:
    loyalty = Harness("loyalty")
    assert sorted(loyalty.validate("sendQrCode", 422, {"code": "1"})) == ["JsonSchemaError", "RuleViolation"]
    assert loyalty.records(check="response_schema_conformance") == [
        (
            "fail",
            ("R-LOY-08", "R-LOY-09"),
            "response_schema_conformance",
            'POST /v1/promo/qrCode 422: at /: "description" is a required property',
            "Response violates the schema at /",
            "schema /",
        )
    ]


def test_a_body_that_is_no_json_at_all_is_no_evidence_of_the_schema() -> None:
    loyalty = Harness("loyalty")
    loyalty.validate("findCard", 200, raw=b"<html>card</html>", content_type="text/html")
    assert loyalty.records(check="response_schema_conformance") == []


def test_advice_a_check_raises_as_a_violation_is_recorded_under_its_rule_and_does_not_stop_the_test() -> None:
    push = Harness("push")  # the documents say only "JSON": application/json is the suite's advice on Push
    refusal = {"status": "BAD_REQUEST", "errors": ["x"]}
    assert push.validate("resetPassword", 400, refusal, content_type="text/plain; charset=utf-8") == []
    assert push.records(check="content-type-json") == [
        (
            "fail",
            ("R-PUSH-19",),
            "content-type-json",
            "Got `Content-Type: text/plain; charset=utf-8`; expected `application/json; charset=utf-8`.",
            "Content-Type is not application/json",
            "content-type-json: Content-Type is not application/json",
        )
    ]
    # schemathesis counts the check a success once its finding is dropped as advice: that is no pass of the rule
    assert [r for r in push.records(status="pass") if "R-PUSH-19" in r[1]] == []


def test_an_invalid_request_accepted_fails_the_rule_of_the_check_where_the_profile_has_no_preference_rule() -> None:
    loyalty = Harness("loyalty")  # Loyalty maps no `negative-data-preferred`: the check's own rule speaks
    loyalty.validate("sendQrCode", 200, {}, mode=GenerationMode.NEGATIVE, body={"qrCode": "x"})
    assert [
        (s, ids, title) for s, ids, _, _, title, _ in loyalty.records(check="negative_data_rejection", status="fail")
    ] == [("fail", ("R-LOY-38",), "Invalid request accepted with 200")]
