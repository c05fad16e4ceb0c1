"""Callbacks (R-CB-02/04/05/06, R-STATE-02, R-PUSH-17): what the Push API sends to the account's callback URL.

The suite can only observe callbacks it receives: against the embedded sandbox the account's callback URL
is the suite's own receiver. Against another host these tests are skipped and reported as not run.
"""

from __future__ import annotations

import time

import pytest
import requests

from conformance.suites.push.messages import msisdn, send_body
from conformance.suites.support import Run, body_json, send

WAIT = 5.0  # seconds a status may take to arrive


def receiver(run: Run):  # noqa: ANN201 - the reference receiver's CallbackLog
    if run.embedded is None or run.embedded.callbacks is None:
        pytest.skip("callbacks can only be observed when they reach the suite: run against the embedded sandbox")
    return run.embedded.callbacks


def send_and_get_id(run: Run, http: requests.Session, identity: str, notify: bool | None) -> str:
    to = msisdn(run, identity)
    if to is None:
        pytest.skip(f"the target config has no [identities.{identity}] msisdn")
    response = send(run, http, "sendPush", body=send_body(to, notify=notify))
    assert response.status_code == 200, f"the send answered {response.status_code}: {response.text[:200]!r}"
    return str((body_json(response) or {})["messageId"])


def states_of(log, message_id: str) -> list[str]:  # noqa: ANN001
    return [c["state"] for c in list(log.received) if str(c.get("messageId", "")).lower() == message_id.lower()]


def wait_for_states(log, message_id: str, count: int) -> list[str]:  # noqa: ANN001
    deadline = time.monotonic() + WAIT
    while len(states_of(log, message_id)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return states_of(log, message_id)


@pytest.mark.requirement("R-CB-01", "R-CB-05", "R-CB-06")
def test_notified_message_reports_delivery_and_reading(run: Run, http: requests.Session) -> None:
    log = receiver(run)
    message_id = send_and_get_id(run, http, "registered", notify=True)
    states = wait_for_states(log, message_id, 2)
    assert sorted(states) == ["DELIVERED", "OPENED"], (
        f"with qos.deliveryStatusNotifications true, DELIVERED and OPENED callbacks naming messageId {message_id} "
        f"must reach the callback URL; within {WAIT} s it got {states or 'none'}"
    )


@pytest.mark.requirement("R-STATE-02")
def test_statuses_arrive_in_lifecycle_order(run: Run, http: requests.Session) -> None:
    log = receiver(run)
    message_id = send_and_get_id(run, http, "registered", notify=True)
    states = wait_for_states(log, message_id, 2)
    assert states == ["DELIVERED", "OPENED"], f"the statuses of {message_id} arrived as {states}, not DELIVERED, OPENED"


@pytest.mark.requirement("R-CB-02")
def test_callbacks_carry_the_agreed_credentials(run: Run, http: requests.Session) -> None:
    log = receiver(run)
    refused_before = log.refused
    message_id = send_and_get_id(run, http, "registered", notify=True)
    wait_for_states(log, message_id, 2)
    time.sleep(0.2)  # let retries of a refused callback land too
    assert log.refused == refused_before, (
        f"{log.refused - refused_before} callback(s) reached the callback URL without the agreed Basic "
        "credentials and were refused with 401"
    )


@pytest.mark.parametrize(
    "notify",
    [
        pytest.param(False, id="flag-false", marks=pytest.mark.requirement("R-CB-04")),
        pytest.param(None, id="flag-absent", marks=pytest.mark.requirement("R-CB-13")),
    ],
)
def test_no_callback_without_the_notification_flag(notify: bool | None, run: Run, http: requests.Session) -> None:
    log = receiver(run)
    quiet = send_and_get_id(run, http, "registered", notify=notify)
    sentinel = send_and_get_id(
        run, http, "registered", notify=True
    )  # sent after: once its callbacks are in, so are any
    wait_for_states(log, sentinel, 2)
    time.sleep(0.2)
    assert states_of(log, quiet) == [], f"message {quiet} was sent without the flag but got {states_of(log, quiet)}"


@pytest.mark.requirement("R-PUSH-17")
def test_no_callback_for_an_unregistered_number(run: Run, http: requests.Session) -> None:
    log = receiver(run)
    unregistered = send_and_get_id(run, http, "unregistered", notify=True)
    sentinel = send_and_get_id(run, http, "registered", notify=True)
    wait_for_states(log, sentinel, 2)
    time.sleep(0.2)
    assert states_of(log, unregistered) == [], (
        f"message {unregistered} to an unregistered number got callbacks {states_of(log, unregistered)}"
    )
