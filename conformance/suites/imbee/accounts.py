"""Users and tokens of the Imbee suite: each run creates its own users, under the target config's prefix."""

from __future__ import annotations

import secrets
from typing import Any

import requests

from conformance.run import Run
from conformance.suites.support import body_json, send


def new_unique_id(run: Run) -> str:
    return f"{run.target.config.setting('user_id_prefix', 'conformance-')}{secrets.token_hex(8)}"


def user_body(unique_id: str, device_name: str = "Pixel 8") -> dict[str, Any]:
    return {
        "uniqueIdSha": unique_id,
        "platform": "android",
        "deviceName": device_name,
        "hardwareId": f"hw-{unique_id[-8:]}",
        "osVersion": "14",
    }


def create_user(run: Run, http: requests.Session, unique_id: str, device_name: str = "Pixel 8") -> dict[str, Any]:
    """Create (or re-create) an external user; returns the envelope's body, asserting the call succeeded."""
    response = send(run, http, "createExternalUser", body=user_body(unique_id, device_name))
    envelope = body_json(response) or {}
    assert response.status_code == 200 and envelope.get("code") == 0, (
        f"creating user {unique_id} answered {response.status_code} {response.text[:200]!r}"
    )
    return envelope["body"]


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
