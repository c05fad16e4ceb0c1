"""The per-request client rules on requests built by hand: which rules a request was subject to (its evidence), what
broke each one, and where in the body (the certification runs in tests/test_client_certification.py prove the same
rules end to end, one faulty client per rule)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from conformance.client import rules
from conformance.client.requests import ClientRequest
from conformance.client.rules import MAX_FINDINGS, Finding, judge_imbee, judge_push, pointer
from conformance.profiles import get_profile

PUSH = get_profile("push").spec
IMBEE = get_profile("imbee").spec
BASIC = {"authorization": "basic", "password": "current"}
# The rules a single send is subject to, in the order the judgement examines them.
SEND_RULES = ["C-PUSH-01", "C-PUSH-02", "C-PUSH-03", "C-PUSH-08", "C-PUSH-07", "C-PUSH-04", "C-PUSH-05"]
CARD = {"target": "card"}


def request(
    operation: str | None, body: Any = None, *, raw: bytes | None = None, content_type: str | None = "application/json"
) -> ClientRequest:
    """A request as the recording layer hands it to the rules (UTF-8 JSON unless `raw` says otherwise)."""
    paths = {"sendPush": "/push/delivery", "sendPushBulkSingle": "/push/bulk/single", "resetPassword": "/reset"}
    data = raw if raw is not None else (b"" if body is None else json.dumps(body, ensure_ascii=False).encode())
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return ClientRequest("POST", paths.get(operation or "", "/other"), "", headers, data, operation)


def send(**members: Any) -> dict[str, Any]:
    body = {
        "pushType": "TRANSACTION",
        "msisdn": 71234567890,
        "payload": {"title": "T", "message": "M", "deeplink": CARD},
    }
    body.update(members)
    return body


def findings(judgement: Any) -> list[tuple[str, str]]:
    return [(finding.rule, finding.pointer) for finding in judgement.findings]


# --- Push ----------------------------------------------------------------------------------------------------------


def test_a_good_send_is_examined_on_every_rule_it_is_subject_to_and_passes() -> None:
    judgement = judge_push(request("sendPush", send()), BASIC, PUSH)
    assert judgement.examined == SEND_RULES
    assert judgement.findings == []


def test_a_good_batch_with_a_campaign_is_examined_on_the_batch_and_campaign_rules_too() -> None:
    payload = {"title": "Весна", "message": "Скидки", "deeplink": {"target": "campaign", "campaignId": "spring"}}
    body = {"pushType": "PROMO", "subId": "s1", "msisdn": [71234567890] * 10000, "payload": payload}
    judgement = judge_push(request("sendPushBulkSingle", body), BASIC, PUSH)
    assert set(judgement.examined) == {f"C-PUSH-0{n}" for n in range(1, 10)}
    assert judgement.findings == []


@pytest.mark.parametrize(
    "credentials, message",
    [
        ({"authorization": "missing"}, "the request has no Authorization header"),
        ({"authorization": "bearer"}, "the Authorization header is not HTTP Basic credentials (RFC 7617)"),
    ],
)
def test_a_request_without_basic_credentials_breaks_c_push_01_only(credentials: dict, message: str) -> None:
    judgement = judge_push(request("sendPush", send()), credentials, PUSH)
    assert [(finding.rule, finding.message) for finding in judgement.findings] == [("C-PUSH-01", message)]
    assert "C-PUSH-02" not in judgement.examined  # whose password it was is unknown


def test_the_initial_password_serves_only_to_reset_it() -> None:
    initial = {"authorization": "basic", "password": "initial"}
    judgement = judge_push(request("sendPush", send()), initial, PUSH)
    assert judgement.examined == SEND_RULES
    assert [(finding.rule, finding.message) for finding in judgement.findings] == [
        (
            "C-PUSH-02",
            "POST /push/delivery was called with the initial password: reset it first "
            "(PUT /public/user/reset-password), then use the new one",
        )
    ]
    reset = judge_push(request("resetPassword", {"password": "new-one"}), initial, PUSH)
    assert "C-PUSH-02" in reset.examined and reset.findings == []
    wrong = judge_push(request("sendPush", send()), {"authorization": "basic", "password": "wrong"}, PUSH)
    assert "C-PUSH-02" not in wrong.examined  # a wrong password is no evidence either way


def test_a_body_that_is_not_utf8_or_names_another_charset_breaks_c_push_03() -> None:
    latin1 = json.dumps(send(payload={"title": "Grüße", "message": "M", "deeplink": CARD}), ensure_ascii=False)
    judgement = judge_push(request("sendPush", raw=latin1.encode("latin-1")), BASIC, PUSH)
    offset = latin1.index("ü")
    assert [(f.rule, f.message) for f in judgement.findings] == [
        ("C-PUSH-03", f"the body is not UTF-8 (byte 0xfc at offset {offset})")
    ]
    labelled = request("sendPush", send(), content_type="application/json; charset=ISO-8859-1")
    assert [(f.rule, f.message) for f in judge_push(labelled, BASIC, PUSH).findings] == [
        ("C-PUSH-03", "the Content-Type names charset=iso-8859-1, not UTF-8")
    ]
    for charset in ("utf-8", "UTF-8", "utf8"):
        named = request("sendPush", send(), content_type=f"application/json; charset={charset}")
        assert judge_push(named, BASIC, PUSH).findings == [], charset


@pytest.mark.parametrize(
    "content_type, shown",
    [("text/plain", "Content-Type text/plain"), (None, "no Content-Type")],
)
def test_a_body_not_declared_json_breaks_c_push_08(content_type: str | None, shown: str) -> None:
    judgement = judge_push(request("sendPush", send(), content_type=content_type), BASIC, PUSH)
    assert [(f.rule, f.message) for f in judgement.findings] == [
        ("C-PUSH-08", f"the body is sent with {shown}, not application/json")
    ]


def test_a_request_without_a_body_is_subject_to_no_body_rule() -> None:
    judgement = judge_push(request(None, content_type=None), BASIC, PUSH)
    assert judgement.examined == ["C-PUSH-01", "C-PUSH-02"]
    assert judgement.findings == []


@pytest.mark.parametrize(
    "raw, message", [(b"{not json", "the body is not JSON"), (b"[1, 2]", "the body is not a JSON object")]
)
def test_a_send_that_is_no_json_object_breaks_c_push_07_and_nothing_else_is_judged(raw: bytes, message: str) -> None:
    judgement = judge_push(request("sendPush", raw=raw), BASIC, PUSH)
    assert [(f.rule, f.message) for f in judgement.findings] == [("C-PUSH-07", message)]
    assert not {"C-PUSH-04", "C-PUSH-05", "C-PUSH-06"} & set(judgement.examined)


def test_an_msisdn_with_a_plus_breaks_c_push_04_at_its_place() -> None:
    judgement = judge_push(request("sendPush", send(msisdn="+71234567890")), BASIC, PUSH)
    assert findings(judgement) == [("C-PUSH-04", "/msisdn")]
    assert judgement.findings[0].message.endswith("; send the number without '+' as a JSON integer")
    batch = judge_push(request("sendPushBulkSingle", send(msisdn=[71234567890, "+7123"])), BASIC, PUSH)
    assert findings(batch) == [("C-PUSH-04", "/msisdn/1")]


def test_a_send_without_msisdn_is_no_evidence_on_its_form() -> None:
    body = send()
    del body["msisdn"]
    judgement = judge_push(request("sendPush", body), BASIC, PUSH)
    assert "C-PUSH-04" not in judgement.examined
    assert findings(judgement) == [("C-PUSH-07", "")]  # a required member missing


@pytest.mark.parametrize("member, limit", [("title", 50), ("message", 150)])
def test_a_title_or_message_over_its_length_in_characters_breaks_c_push_05(member: str, limit: int) -> None:
    payload = {"title": "T", "message": "M", "deeplink": CARD, member: "Ж" * limit}
    assert judge_push(request("sendPush", send(payload=payload)), BASIC, PUSH).findings == []
    payload[member] = "Ж" * (limit + 1)
    judgement = judge_push(request("sendPush", send(payload=payload)), BASIC, PUSH)
    assert [(f.rule, f.pointer, f.message) for f in judgement.findings] == [
        ("C-PUSH-05", f"/payload/{member}", f"{member} has {limit + 1} characters, more than {limit}")
    ]


def test_a_payload_without_title_or_message_strings_is_no_evidence_on_their_length() -> None:
    for payload in ({"title": 5, "deeplink": CARD}, "a string", None):
        judgement = judge_push(request("sendPush", send(payload=payload)), BASIC, PUSH)
        assert "C-PUSH-05" not in judgement.examined, payload
        assert {rule for rule, _ in findings(judgement)} == {"C-PUSH-07"}
    for payload in ({"message": "M", "deeplink": CARD}, {"title": "T", "deeplink": CARD}):
        assert "C-PUSH-05" in judge_push(request("sendPush", send(payload=payload)), BASIC, PUSH).examined


def test_a_campaign_deeplink_needs_a_campaign_id_string_and_breaks_only_c_push_06() -> None:
    for deeplink in ({"target": "campaign"}, {"target": "campaign", "campaignId": 7}):
        payload = {"title": "T", "message": "M", "deeplink": deeplink}
        judgement = judge_push(request("sendPush", send(payload=payload)), BASIC, PUSH)
        assert [(f.rule, f.pointer, f.message) for f in judgement.findings] == [
            ("C-PUSH-06", "/payload/deeplink", "the deeplink's target is campaign, but it has no campaignId string")
        ], deeplink
    card = judge_push(request("sendPush", send()), BASIC, PUSH)
    assert "C-PUSH-06" not in card.examined


def test_a_campaign_failure_does_not_hide_the_failures_after_it() -> None:
    payload = {"title": "T", "message": "M", "deeplink": {"target": "campaign"}}
    judgement = judge_push(request("sendPush", send(payload=payload, qos="always")), BASIC, PUSH)
    assert findings(judgement) == [("C-PUSH-06", "/payload/deeplink"), ("C-PUSH-07", "/qos")]


def test_a_batch_over_ten_thousand_numbers_breaks_c_push_09() -> None:
    judgement = judge_push(request("sendPushBulkSingle", send(msisdn=[71234567890] * 10001)), BASIC, PUSH)
    assert [(f.rule, f.pointer, f.message) for f in judgement.findings] == [
        ("C-PUSH-09", "/msisdn", "the batch lists 10001 numbers, more than 10000")
    ]
    single = judge_push(request("sendPush", send(msisdn=[71234567890])), BASIC, PUSH)
    assert "C-PUSH-09" not in single.examined  # a list on the single send is a wrong msisdn, not a batch
    assert findings(single) == [("C-PUSH-04", "/msisdn")]


def test_any_other_schema_failure_breaks_c_push_07_at_its_place() -> None:
    judgement = judge_push(request("sendPush", send(pushType="BULK")), BASIC, PUSH)
    assert findings(judgement) == [("C-PUSH-07", "/pushType")]


def test_a_long_validator_message_is_cut_and_findings_are_bounded() -> None:
    judgement = judge_push(request("sendPush", send(pushType="X" * 1000)), BASIC, PUSH)
    (finding,) = judgement.findings
    assert finding.message.endswith("...") and len(finding.message) == 203
    numbers = [71234567890] * 10000 + [f"+{n}" for n in range(50)]  # one finding on the count, 50 on the numbers
    many = judge_push(request("sendPushBulkSingle", send(msisdn=numbers)), BASIC, PUSH)
    assert len(many.findings) == MAX_FINDINGS == 20
    assert many.findings[0].rule == "C-PUSH-09"


def test_a_finding_is_recorded_once() -> None:
    judgement = judge_push(request("sendPush", send()), {"authorization": "missing"}, PUSH)
    judgement.find("C-PUSH-01", "the request has no Authorization header")
    assert len(judgement.findings) == 1
    assert judgement.findings[0].as_dict() == {
        "rule": "C-PUSH-01",
        "pointer": "",
        "message": "the request has no Authorization header",
    }


def test_the_request_schemas_are_the_ones_of_the_spec_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each spec is judged with its own schemas, built on first use (the cache emptied, as in a new process)."""
    monkeypatch.setattr(rules, "_VALIDATORS", {})
    short_titles = copy.deepcopy(PUSH)
    short_titles["components"]["schemas"]["Payload"]["properties"]["title"]["maxLength"] = 5
    body = send(payload={"title": "Sixteen", "message": "M", "deeplink": CARD})
    for _ in range(2):  # built, then from the cache
        assert judge_push(request("sendPush", body), BASIC, PUSH).findings == []
        short = judge_push(request("sendPush", body), BASIC, short_titles)
        assert [(f.rule, f.message) for f in short.findings] == [("C-PUSH-05", "title has 7 characters, more than 5")]


def test_a_pointer_escapes_its_steps() -> None:
    assert pointer(["payload", "a/b", "c~d", 0]) == "/payload/a~1b/c~0d/0"
    assert pointer([]) == ""
    assert Finding("R", "m").pointer == ""


# --- Imbee ---------------------------------------------------------------------------------------------------------

CORPORATE = {"authorization": "token", "key": "corporate"}
TOKEN = {"virtual_user": "bot-1", "mail": "a@example.org"}


def test_a_good_token_request_is_examined_on_every_rule_it_is_subject_to_and_passes() -> None:
    judgement = judge_imbee(request("createToken", {**TOKEN, "date_limit": "2030-02-28"}), CORPORATE, IMBEE)
    assert judgement.examined == ["C-IMB-01", "C-IMB-02", "C-IMB-03", "C-IMB-08", "C-IMB-10", "C-IMB-06", "C-IMB-07"]
    assert judgement.findings == []
    without_date = judge_imbee(request("createToken", {**TOKEN, "date_limit": None}), CORPORATE, IMBEE)
    assert "C-IMB-07" not in without_date.examined and without_date.findings == []


@pytest.mark.parametrize(
    "content_type, message",
    [
        ("text/plain", "the request has Content-Type text/plain; every request must say application/json"),
        (None, "the request has no Content-Type header; every request must say application/json"),
    ],
)
def test_every_imbee_request_says_json(content_type: str | None, message: str) -> None:
    judgement = judge_imbee(request("createToken", TOKEN, content_type=content_type), CORPORATE, IMBEE)
    assert [(f.rule, f.message) for f in judgement.findings] == [("C-IMB-01", message)]


@pytest.mark.parametrize(
    "credentials, message",
    [
        (
            {"authorization": "missing", "key": "corporate"},
            "the request has no Authorization header (the account's auth token)",
        ),
        (
            {"authorization": "wrong", "key": "corporate"},
            "Authorization is not the account's auth token, sent as issued",
        ),
        ({"authorization": "token", "key": "missing"}, "the request has no X-WOOS-KEY header"),
    ],
)
def test_both_imbee_credentials_are_needed(credentials: dict, message: str) -> None:
    judgement = judge_imbee(request("createToken", TOKEN), credentials, IMBEE)
    assert [(f.rule, f.message) for f in judgement.findings] == [("C-IMB-02", message)]
    assert ("C-IMB-03" in judgement.examined) == (credentials["key"] != "missing")


@pytest.mark.parametrize(
    "operation, key, message",
    [
        (
            "createChat",
            "corporate",
            "/other was called with the corporate token as X-WOOS-KEY; it takes the calling user's apikey "
            "(from /third_parties/user/new)",
        ),
        ("createToken", "user", "/other was called with a user's apikey as X-WOOS-KEY; it takes the corporate token"),
        (
            "createExternalUser",
            "wrong",
            "/other was called with a key the sandbox never issued as X-WOOS-KEY; it takes the corporate token",
        ),
        ("createToken", "odd", "/other was called with odd as X-WOOS-KEY; it takes the corporate token"),
    ],
)
def test_each_endpoint_takes_its_own_key(operation: str, key: str, message: str) -> None:
    built = request(operation, {})
    built.path = "/other"
    judgement = judge_imbee(built, {"authorization": "token", "key": key}, IMBEE)
    assert ("C-IMB-03", message) in [(f.rule, f.message) for f in judgement.findings]
    right = {"createChat": "user"}.get(operation, "corporate")
    assert "C-IMB-03" not in {
        f.rule for f in judge_imbee(built, {"authorization": "token", "key": right}, IMBEE).findings
    }


def test_a_request_to_no_documented_endpoint_is_judged_on_the_common_rules_only() -> None:
    judgement = judge_imbee(request(None, {"x": 1}), {"authorization": "token", "key": "user"}, IMBEE)
    assert judgement.examined == ["C-IMB-01", "C-IMB-02", "C-IMB-08"]
    assert judgement.findings == []


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"virutal_user": "bot-1", "celullar": "+34600000000"}, []),  # the documents' other spelling, and a phone
        ({"virtual_user": "", "mail": "a@example.org"}, [("C-IMB-10", "/virtual_user")]),
        ({"virtual_user": None, "mail": "a@example.org"}, [("C-IMB-10", "/virtual_user")]),
        ({"virtual_user": 5, "mail": "a@example.org"}, [("C-IMB-10", "/virtual_user")]),
        ({"virtual_user": "bot-1", "mail": None, "celullar": None}, [("C-IMB-06", "")]),
        ({"virtual_user": "bot-1", "mail": "a@example.org", "date_limit": "2030-02-30"}, [("C-IMB-07", "/date_limit")]),
        ({"virtual_user": "bot-1", "mail": "a@example.org", "date_limit": 20300228}, [("C-IMB-07", "/date_limit")]),
    ],
)
def test_a_token_request_names_a_user_an_address_and_a_real_date(body: dict, expected: list) -> None:
    assert findings(judge_imbee(request("createToken", body), CORPORATE, IMBEE)) == expected


def test_the_messages_of_a_token_request_say_what_is_wrong() -> None:
    body = {"virtual_user": "", "date_limit": "2030-02-30"}
    judgement = judge_imbee(request("createToken", body), CORPORATE, IMBEE)
    assert [f.message for f in judgement.findings] == [
        "virtual_user is missing, null or empty",
        "neither mail nor celullar is given; one of them (or both) must be",
        "date_limit '2030-02-30' is not a date written YYYY-MM-DD",
    ]
    not_json = judge_imbee(request("createToken", raw=b"virtual_user=bot"), CORPORATE, IMBEE)
    assert [(f.rule, f.message) for f in not_json.findings] == [
        ("C-IMB-10", "the body is not JSON, so it names no user")
    ]
    array = judge_imbee(request("createToken", [TOKEN]), CORPORATE, IMBEE)
    assert [f.message for f in array.findings] == ["the body is not a JSON object, so it names no user"]
    assert "C-IMB-06" in array.examined  # examined, and no evidence it passed: the request broke C-IMB-10 first


def test_a_user_request_spells_its_members_as_documented() -> None:
    good = {"uniqueIdSha": "u1", "platform": "ios", "deviceName": "Телефон", "hardwareId": "h", "osVersion": "17"}
    judged = judge_imbee(request("createExternalUser", good), CORPORATE, IMBEE)
    assert judged.findings == []
    assert judged.examined == ["C-IMB-01", "C-IMB-02", "C-IMB-03", "C-IMB-08", "C-IMB-04"]
    bad = {**good, "os_version": "17", "UniqueIdSha": "u1", "osVersion": 17}
    judgement = judge_imbee(request("createExternalUser", bad), CORPORATE, IMBEE)
    assert [(f.rule, f.pointer, f.message) for f in judgement.findings] == [
        ("C-IMB-04", "/os_version", "member 'os_version' is misspelt: the documents spell it 'osVersion'"),
        ("C-IMB-04", "/UniqueIdSha", "member 'UniqueIdSha' is misspelt: the documents spell it 'uniqueIdSha'"),
        ("C-IMB-04", "/osVersion", '17 is not of type "string"'),
    ]
    assert "C-IMB-04" in judgement.examined


def test_a_chat_request_spells_its_members_and_its_contacts_as_documented() -> None:
    good = {"type": "chat", "contacts": [{"idsha": "u2"}], "title": "Чат"}
    assert judge_imbee(request("createChat", good), {"authorization": "token", "key": "user"}, IMBEE).findings == []
    bad = {"Type": "chat", "contacts": [{"idsha": "u2"}, {"idSha": "u3"}, "u4"], "title": 5}
    judgement = judge_imbee(request("createChat", bad), {"authorization": "token", "key": "user"}, IMBEE)
    assert findings(judgement) == [
        ("C-IMB-05", "/Type"),
        ("C-IMB-05", "/contacts/2"),
        ("C-IMB-05", "/title"),
        ("C-IMB-05", "/contacts/1/idSha"),
    ]
    not_a_list = judge_imbee(request("createChat", {"contacts": {"idSha": "u3"}}), CORPORATE, IMBEE)
    assert ("C-IMB-05", "/contacts") in findings(not_a_list)
    assert ("C-IMB-05", "/contacts/idSha") not in findings(not_a_list)


@pytest.mark.parametrize("operation", ["createExternalUser", "createChat"])
def test_a_user_or_chat_body_that_is_no_json_object_breaks_its_rule(operation: str) -> None:
    rule = {"createExternalUser": "C-IMB-04", "createChat": "C-IMB-05"}[operation]
    for raw, message in ((b"{", "the body is not JSON"), (b'"text"', "the body is not a JSON object")):
        judgement = judge_imbee(request(operation, raw=raw), CORPORATE, IMBEE)
        assert (rule, message) in [(f.rule, f.message) for f in judgement.findings]
