"""The stateful flow (R-IMB-42, R-IMB-43, R-IMB-44, R-IMB-40): two users; the first user's apikey creates a chat
with the second; both appear as contacts with the right isadmin; the same chat again is the same conversation;
then a token for the first user."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.imbee.accounts import create_user, new_unique_id, token_body
from conformance.suites.support import Run, body_json, send

KEY = "X-WOOS-KEY"
TITLE = "Чат поддержки «Бонусы»"


@pytest.fixture(scope="module")
def flow(run: Run, http: requests.Session) -> dict:
    creator, other = create_user(run, http, new_unique_id(run)), create_user(run, http, new_unique_id(run))
    body = {"type": "chat", "title": TITLE, "contacts": [{"idsha": other["virtualUser"]}]}
    first = send(run, http, "createChat", body=body, headers={KEY: creator["apikey"]})
    again = send(run, http, "createChat", body=body, headers={KEY: creator["apikey"]})
    return {"creator": creator, "other": other, "first": first, "again": again}


def chat(response: requests.Response) -> dict:
    envelope = body_json(response) or {}
    assert response.status_code == 200 and envelope.get("code") == 0, (
        f"/chat/create answered {response.status_code} {response.text[:200]!r}"
    )
    return envelope["body"]


@pytest.mark.requirement("R-IMB-43")
def test_both_users_are_contacts_with_the_right_isadmin(flow: dict) -> None:
    contacts = {c.get("idsha"): c.get("isadmin") for c in chat(flow["first"]).get("contacts", [])}
    expected = {flow["creator"]["virtualUser"]: 1, flow["other"]["virtualUser"]: 0}
    assert contacts == expected and all(type(v) is int for v in contacts.values()), (
        f"contacts are {contacts}; the creator must be listed with isadmin 1 and the other user with 0 (integers)"
    )


@pytest.mark.requirement("R-IMB-42")
def test_the_same_chat_again_is_the_same_conversation(flow: dict) -> None:
    first, again = chat(flow["first"]), chat(flow["again"])
    assert first.get("previously_created") is False, f"a new chat answered previously_created {first!r}"
    assert again.get("previously_created") is True and again.get("conversationId") == first.get("conversationId"), (
        f"creating the same chat again answered {again!r}; it must be previously_created true with conversationId "
        f"{first.get('conversationId')!r}"
    )


@pytest.mark.requirement("R-IMB-44", "R-IMB-19")
def test_a_cyrillic_title_comes_back_unchanged(flow: dict) -> None:
    title = chat(flow["first"]).get("title")
    assert title in (None, TITLE), f"the chat title came back as {title!r}, not {TITLE!r}"
    if title is None:
        pytest.skip("the service does not echo the chat title, so there is no round trip to check")


@pytest.mark.requirement("R-IMB-40")
def test_a_token_for_the_chat_creator(flow: dict, run: Run, http: requests.Session) -> None:
    response = send(run, http, "createToken", body=token_body(run, flow["creator"]["virtualUser"]))
    body = (body_json(response) or {}).get("body") or {}
    missing = {"url", "user_idsha", "date_limit", "max_retries", "previously_created"} - body.keys()
    assert response.status_code == 200 and not missing, (
        f"/token/new answered {response.status_code}; its body lacks {sorted(missing)}: {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-IMB-18")
@pytest.mark.parametrize("chat_type, accepted", [("group", True), ("service", True), ("broadcast", False)])
def test_chat_types(chat_type: str, accepted: bool, flow: dict, run: Run, http: requests.Session) -> None:
    body = {"type": chat_type, "contacts": [{"idsha": flow["other"]["virtualUser"]}]}
    response = send(run, http, "createChat", body=body, headers={KEY: flow["creator"]["apikey"]})
    assert (response.status_code == 200) is accepted, (
        f"/chat/create with type {chat_type!r} answered {response.status_code}; the suite expects "
        f"{'acceptance' if accepted else 'a refusal'} (types are chat, group, service)"
    )
