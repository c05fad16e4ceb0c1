"""The stateful flow: two users; the first user's apikey creates the documents' chat with the second (R-IMB-21),
whose answer has the documented members (R-IMB-20) and lists both users with the right isadmin (R-IMB-43); the same
chat again is the same conversation (R-IMB-42, advisory); a chat with the SDK's Cyrillic title (R-IMB-19, R-IMB-44,
advisory); the SDK's chat types (R-IMB-18, advisory); then a token for the first user (R-IMB-40)."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.imbee.accounts import (
    TOKEN_MEMBERS,
    code_of,
    create_user,
    missing_members,
    new_unique_id,
    processed,
    token_body,
)
from conformance.suites.support import Run, body_json, examined, prefer, send

KEY = "X-WOOS-KEY"
TITLE = "Чат поддержки «Бонусы»"
# The members of a processed /chat/create answer, as the documents' example answer shows them (R-IMB-20).
CHAT_MEMBERS = {"conversationId": str, "previously_created": bool, "contacts": list}


@pytest.fixture(scope="module")
def flow(run: Run, http: requests.Session) -> dict:
    creator, other = create_user(run, http, new_unique_id(run)), create_user(run, http, new_unique_id(run))
    # The documents' request: type chat and one contact, the creator's apikey as X-WOOS-KEY.
    body = {"type": "chat", "contacts": [{"idsha": other["virtualUser"]}]}
    first = send(run, http, "createChat", body=body, headers={KEY: creator["apikey"]})
    again = send(run, http, "createChat", body=body, headers={KEY: creator["apikey"]})
    # The SDK's optional title, on a chat of its own (another contact), so it never meets the documented exchange.
    third = create_user(run, http, new_unique_id(run))
    titled_body = {"type": "chat", "title": TITLE, "contacts": [{"idsha": third["virtualUser"]}]}
    titled = send(run, http, "createChat", body=titled_body, headers={KEY: creator["apikey"]})
    return {"creator": creator, "other": other, "first": first, "again": again, "titled": titled}


def chat(run: Run, response: requests.Response) -> dict:
    """The body of a processed /chat/create answer (`code` 0; the documents give no HTTP status), the flow's answer
    the running test examines."""
    examined(run, response)
    return processed(response, "/chat/create")


@pytest.mark.requirement("R-IMB-21")
def test_a_user_apikey_creates_the_documented_chat(flow: dict, run: Run) -> None:
    chat(run, flow["first"])
    status = flow["first"].status_code
    prefer(run, "R-IMB-45", status == 200, f"a processed /chat/create answered {status}, not 200")


@pytest.mark.requirement("R-IMB-20")
def test_the_chat_answer_has_the_documented_members(flow: dict, run: Run) -> None:
    examined(run, flow["first"])
    envelope = body_json(flow["first"])
    if not isinstance(envelope, dict) or envelope.get("code") != 0:
        pytest.skip("the documents' chat request was not processed (R-IMB-21 reports it): no members to read")
    body = envelope.get("body")
    missing = missing_members(body, CHAT_MEMBERS) if isinstance(body, dict) else sorted(CHAT_MEMBERS)
    assert not missing, (
        f"the processed answer lacks {', '.join(missing)}; the documents' answer carries conversationId (a string), "
        f"previously_created (a boolean) and contacts (an array): {flow['first'].text[:200]!r}"
    )


@pytest.mark.requirement("R-IMB-43")
def test_both_users_are_contacts_with_the_right_isadmin(flow: dict, run: Run) -> None:
    members = chat(run, flow["first"]).get("contacts")
    assert isinstance(members, list) and all(isinstance(c, dict) for c in members), (
        f"contacts is {members!r}; it must be an array of {{idsha, isadmin}} objects"
    )
    contacts = {c.get("idsha"): c.get("isadmin") for c in members}
    expected = {flow["creator"]["virtualUser"]: 1, flow["other"]["virtualUser"]: 0}
    assert contacts == expected and all(type(v) is int for v in contacts.values()), (
        f"contacts are {contacts}; the creator must be listed with isadmin 1 and the other user with 0 (integers)"
    )


@pytest.mark.requirement("R-IMB-42")
def test_the_same_chat_again_is_the_same_conversation(flow: dict, run: Run) -> None:
    first, again = chat(run, flow["first"]), chat(run, flow["again"])
    assert first.get("previously_created") is False, f"a new chat answered previously_created {first!r}"
    assert again.get("previously_created") is True and again.get("conversationId") == first.get("conversationId"), (
        f"creating the same chat again answered {again!r}; it must be previously_created true with conversationId "
        f"{first.get('conversationId')!r}"
    )


@pytest.mark.requirement("R-IMB-19")
def test_a_chat_with_a_title_is_created(flow: dict, run: Run) -> None:
    chat(run, flow["titled"])


@pytest.mark.requirement("R-IMB-44")
def test_a_cyrillic_title_comes_back_unchanged(flow: dict, run: Run) -> None:
    title = chat(run, flow["titled"]).get("title")
    if title is None:
        pytest.skip("the service does not echo the chat title, so there is no round trip to check")
    assert title == TITLE, f"the chat title came back as {title!r}, not {TITLE!r}"


@pytest.mark.requirement("R-IMB-40")
def test_a_token_for_the_chat_creator(flow: dict, run: Run, http: requests.Session) -> None:
    # The documented case: a request without date_limit and max_retries.
    response = send(run, http, "createToken", body=token_body(run, flow["creator"]["virtualUser"]))
    body = processed(response, "/token/new without date_limit and max_retries")
    missing = [name for name in TOKEN_MEMBERS if name not in body]
    assert not missing, f"the processed /token/new answer lacks {missing}: {response.text[:200]!r}"
    status = response.status_code
    prefer(run, "R-IMB-45", status == 200, f"a processed /token/new answered {status}, not 200")


@pytest.mark.requirement("R-IMB-18")
@pytest.mark.parametrize("chat_type, accepted", [("group", True), ("service", True), ("broadcast", False)])
def test_chat_types(chat_type: str, accepted: bool, flow: dict, run: Run, http: requests.Session) -> None:
    body = {"type": chat_type, "contacts": [{"idsha": flow["other"]["virtualUser"]}]}
    response = send(run, http, "createChat", body=body, headers={KEY: flow["creator"]["apikey"]})
    code = code_of(response)
    assert (code == 0) is accepted, (
        f"/chat/create with type {chat_type!r} answered {response.status_code} with code {code!r}; the suite "
        f"expects {'acceptance' if accepted else 'a refusal'} (types are chat, group, service)"
    )
    preferred = 200 if accepted else 400
    status = response.status_code
    prefer(run, "R-IMB-45", status == preferred, f"type {chat_type!r} answered {status}; the suite prefers {preferred}")
