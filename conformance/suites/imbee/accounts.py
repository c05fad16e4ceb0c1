"""Users and tokens of the Imbee suite: each run creates its own users, under the target config's prefix."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests

from conformance.ingest import handed_out
from conformance.run import Run
from conformance.suites.support import body_json, send

# The members of a processed /third_parties/user/new answer, as the documents' example answer shows them (R-IMB-16).
USER_MEMBERS = {"virtualUser": str, "pass": str, "apikey": str, "previously_registered": bool}
# The members of the documents' /token/new answer, for a request without date_limit and max_retries (R-IMB-40).
TOKEN_MEMBERS = ("url", "user_idsha", "date_limit", "max_retries", "previously_created")


def new_unique_id(run: Run) -> str:
    return f"{run.target.config.setting('user_id_prefix', 'conformance-')}{secrets.token_hex(8)}"


def user_body(unique_id: str, device_name: str = "Pixel 8") -> dict[str, Any]:
    """The documents' curl body of /third_parties/user/new: its five members, all strings (R-IMB-15)."""
    return {
        "uniqueIdSha": unique_id,
        "platform": "android",
        "deviceName": device_name,
        "hardwareId": f"hw-{unique_id[-8:]}",
        "osVersion": "14",
    }


def code_of(response: requests.Response) -> int:
    """The `code` of the envelope an answer carries.

    An answer without an integer `code` (not JSON, not the envelope) says nothing about whether the request was
    processed: the test is skipped, because the envelope check run on every answer already fails R-IMB-30 for it.
    """
    envelope = body_json(response)
    code = envelope.get("code") if isinstance(envelope, dict) else None
    if isinstance(code, bool) or not isinstance(code, int):
        pytest.skip(
            f"the {response.status_code} answer carries no integer code to judge ({response.text[:120]!r}); "
            "R-IMB-30 reports it"
        )
    return code


def processed(response: requests.Response, what: str) -> dict[str, Any]:
    """The `body` of an answer that says the request was processed (`code` 0, whatever the HTTP status: the
    documents give none); asserts that it was, and that `body` is an object."""
    code = code_of(response)
    assert code == 0, f"{what} was not processed: answered {response.status_code} with code {code!r}: " + repr(
        response.text[:200]
    )
    body = body_json(response).get("body")
    assert isinstance(body, dict), f"{what} answered code 0 but its body is {body!r}, not an object"
    return body


def missing_members(body: dict[str, Any], members: dict[str, type]) -> list[str]:
    """The documented members that `body` lacks or carries with another JSON type (a bool is no integer)."""
    return [
        f"{name} (got {body[name]!r})" if name in body else name
        for name, kind in members.items()
        if name not in body or type(body[name]) is not kind
    ]


def create_user(run: Run, http: requests.Session, unique_id: str, device_name: str = "Pixel 8") -> dict[str, Any]:
    """Create (or re-create) an external user; returns the envelope's body, asserting the call was processed.

    A body that lacks the identity the suite goes on with (virtualUser, apikey) raises LookupError: the caller's
    rule cannot be judged then (an error, not a failure), and the member rule R-IMB-16 is judged by its own test.
    """
    response = send(run, http, "createExternalUser", body=user_body(unique_id, device_name))
    body = processed(response, "creating a user")
    for secret in ("apikey", "pass"):  # masked in the answer everything else reads; the suite sends the real ones
        if isinstance(body.get(secret), str) and (value := handed_out(response, secret)) is not None:
            body[secret] = value
    lacking = [name for name in ("virtualUser", "apikey") if not isinstance(body.get(name), str)]
    if lacking:
        raise LookupError(f"the new user's answer lacks {', '.join(lacking)} (R-IMB-16): {str(body)[:200]}")
    return body


def token_body(run: Run, virtual_user: str, *, drop: tuple[str, ...] = (), **overrides: Any) -> dict[str, Any]:
    """A valid /token/new body for `virtual_user`, with `overrides` set and the `drop` members left out."""
    bot = run.target.config.identity("bot") or {}
    recipient = run.target.config.identity("recipient") or {}
    body: dict[str, Any] = {
        "virtual_user": virtual_user,
        "bot_idsha": bot.get("bot_idsha", "bot"),
        "mail": recipient.get("mail", "conformance@example.com"),
        **overrides,
    }
    return {key: value for key, value in body.items() if key not in drop or key in overrides}
