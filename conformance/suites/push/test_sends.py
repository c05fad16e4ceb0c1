"""What a send answers: the message id and state for registered and unregistered numbers, and the batch."""

from __future__ import annotations

import uuid

import pytest
import requests

from conformance.suites.push.messages import bulk_body, msisdn, send_body
from conformance.suites.support import Run, body_json, prefer, send


def number(run: Run, identity: str) -> int:
    found = msisdn(run, identity)
    if found is None:
        pytest.skip(f"the target config has no [identities.{identity}] msisdn")
    return found


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def assert_uuid(value: object) -> None:
    assert is_uuid(value), f"messageId must be a string UUID, got {value!r}"


@pytest.mark.requirement("R-PUSH-16", "R-PUSH-14")
@pytest.mark.parametrize("push_type", ["TRANSACTION", "SERVICE", "PROMO"])
def test_registered_number_is_enqueued(push_type: str, run: Run, http: requests.Session) -> None:
    response = send(run, http, "sendPush", body=send_body(number(run, "registered"), push_type=push_type))
    body = body_json(response) or {}
    assert response.status_code == 200 and body.get("state") == "ENQUEUED", (
        f"a {push_type} send to the registered number must answer 200 with state ENQUEUED; "
        f"got {response.status_code} {response.text[:200]!r}"
    )
    assert_uuid(body.get("messageId"))


@pytest.mark.requirement("R-PUSH-15")
def test_unregistered_number_is_reported(run: Run, http: requests.Session) -> None:
    response = send(run, http, "sendPush", body=send_body(number(run, "unregistered")))
    body = body_json(response) or {}
    assert response.status_code == 200 and body.get("state") == "MSISDN_NOT_REGISTERED", (
        f"a send to a number with no Koshelek user must answer 200 with state MSISDN_NOT_REGISTERED; "
        f"got {response.status_code} {response.text[:200]!r}"
    )
    prefer(
        run,
        "R-PUSH-23",
        is_uuid(body.get("messageId")),
        f"the MSISDN_NOT_REGISTERED answer carries messageId {body.get('messageId')!r}, not a UUID",
    )


@pytest.mark.requirement("R-BULK-02")
def test_batch_sends_one_payload_to_every_number(run: Run, http: requests.Session) -> None:
    registered, unregistered = number(run, "registered"), number(run, "unregistered")
    response = send(run, http, "sendPushBulkSingle", body=bulk_body([registered, unregistered]))
    assert response.status_code == 200, f"a valid batch answered {response.status_code}: {response.text[:200]!r}"
    entries = (body_json(response) or {}).get("messages")
    if entries is not None:  # the per-number answer is the sandbox's shape, not a documented one (M-2)
        states = {entry.get("msisdn"): entry.get("state") for entry in entries if isinstance(entry, dict)}
        prefer(
            run,
            "R-BULK-06",
            states == {registered: "ENQUEUED", unregistered: "MSISDN_NOT_REGISTERED"},
            f"the batch answer reports the states {states}",
        )
