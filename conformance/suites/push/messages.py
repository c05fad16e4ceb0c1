"""Request bodies of the Push API suite: a valid send, and the one-field deviations the tests make of it."""

from __future__ import annotations

import copy
from typing import Any

from conformance.run import Run

CYRILLIC_TITLE = "Бонусы начислены: спасибо за покупку в нашем магазине"[:50]


def msisdn(run: Run, identity: str) -> int | None:
    """The identity's msisdn as the JSON integer the API takes (R-PUSH-13), or None when not configured."""
    found = run.target.config.identity(identity)
    return int(found["msisdn"]) if found and "msisdn" in found else None


def send_body(to: int, *, push_type: str = "TRANSACTION", notify: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pushType": push_type,
        "msisdn": to,
        "payload": {
            "title": "Списание бонусов",
            "message": "С вашей карты списано 10 бонусов. Текущий баланс: 240 бонусов.",
            "deeplink": {"target": "card"},
        },
    }
    if notify is not None:
        body["qos"] = {"deliveryStatusNotifications": notify}
    return body


def bulk_body(to: list[int], **kwargs: Any) -> dict[str, Any]:
    body = send_body(0, **kwargs)
    body["msisdn"] = to
    body["subId"] = "conformance"
    return body


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of `body` without the member at dotted `path`."""
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[part]
    del node[last]
    return changed


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the member at dotted `path` set to `value`."""
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[last] = value
    return changed
