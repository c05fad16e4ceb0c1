"""Callbacks: what the Push API host posts to the account's callback URL (R-CB-01/02/04/05/06/13, R-PUSH-17,
R-STATE-02).

The suite listens itself: against the embedded sandbox automatically, against another host with
`--callback-listen` (the account's callback URL set to the listener on the host's side). One round of sends
goes out at once - two messages with notifications on, one with them off, one without the flag, one to an
unregistered number - and one wait (`callback_wait_s` of the target config, bounded by the run's deadline)
covers them all: the tests below judge what arrived. Without a listener they are not run, and say why.

The documents give neither the callback's path nor its body (M-5): a callback counts for a message when its
body names the message's id, and its status is read from a `state` member. Delivery reporting is a duty
(R-CB-05): every notified message must be reported DELIVERED within the wait. OPENED means a person read the
message, which no document promises within a wait (a release candidate's test numbers are read by nobody): it
is judged only when it comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests

from conformance.callbacks import Callback, CallbackListener
from conformance.suites.push.messages import msisdn, send_body
from conformance.suites.push_callback.callbacks import REQUIRED
from conformance.suites.support import Run, body_json, examined, prefer, send

DEFAULT_WAIT = 30.0  # seconds, when the target config sets no callback_wait_s
QUIET_GRACE = 0.5  # after the notified messages' callbacks are in, how long more a stray callback may take
OPENED_GRACE = 3.0  # once every notified message is reported DELIVERED, how long more an OPENED may take


@dataclass
class Round:
    listener: CallbackListener
    notified: list[str]  # ids of ENQUEUED messages sent with notifications on
    quiet: dict[str, str]  # id -> why no callback may come for it
    wait: float
    ended: float = 0.0  # time.monotonic() when the wait ended
    complete: bool = False  # every notified message reported DELIVERED in time
    own: list[str] = field(default_factory=list)  # every id this round sent

    def about(self, message_id: str) -> list[Callback]:
        return [c for c in self.listener.snapshot() if c.accepted and c.mentions(message_id)]

    def states(self, message_id: str) -> list[str | None]:
        return [c.state for c in self.about(message_id)]


def _send(run: Run, http: requests.Session, identity: str, notify: bool | None) -> tuple[str, str]:
    to = msisdn(run, identity)
    if to is None:
        pytest.skip(f"the target config has no [identities.{identity}] msisdn")
    response = send(run, http, "sendPush", body=send_body(to, notify=notify))
    body = body_json(response) or {}
    if response.status_code != 200 or not isinstance(body.get("messageId"), str):
        pytest.skip(f"the send answered {response.status_code} {response.text[:120]!r}: no message to follow")
    return body["messageId"], str(body.get("state"))


@pytest.fixture(scope="module")
def round_(run: Run, http: requests.Session) -> Round:
    if run.callbacks is None:
        pytest.skip("callbacks can only be judged where they reach the suite: give --callback-listen HOST:PORT")
    wait = float(run.target.config.setting("callback_wait_s", DEFAULT_WAIT))
    quiet: dict[str, str] = {}
    # The quiet ones go first: once the notified ones' callbacks are in, a stray one would have had its time.
    off, _ = _send(run, http, "registered", notify=False)
    quiet[off] = "sent with qos.deliveryStatusNotifications false"
    absent, _ = _send(run, http, "registered", notify=None)
    quiet[absent] = "sent without qos.deliveryStatusNotifications"
    unregistered, state = _send(run, http, "unregistered", notify=True)
    if state == "MSISDN_NOT_REGISTERED":
        quiet[unregistered] = "answered MSISDN_NOT_REGISTERED"
    notified = [_send(run, http, "registered", notify=True)[0] for _ in range(2)]
    result = Round(run.callbacks, notified, quiet, wait, own=[off, absent, unregistered, *notified])

    def reported(states: set[str]) -> Callable[[list[Callback]], bool]:
        return lambda received: all(states <= set(result.states(message_id)) for message_id in notified)

    deadline = min(time.monotonic() + wait, run.limits.deadline or float("inf"))
    result.complete = run.callbacks.wait_until(reported({"DELIVERED"}), deadline)
    if result.complete:  # OPENED is judged when it comes: a short while more for it, never the whole wait
        run.callbacks.wait_until(reported({"DELIVERED", "OPENED"}), min(deadline, time.monotonic() + OPENED_GRACE))
        time.sleep(QUIET_GRACE)
    result.ended = time.monotonic()
    return result


@pytest.mark.requirement("R-CB-01", "R-CB-05")
def test_notified_messages_report_delivery(run: Run, round_: Round) -> None:
    examined(run, f"the callbacks of {len(round_.notified)} notified message(s)")
    for message_id in round_.notified:
        states = round_.states(message_id)
        assert "DELIVERED" in states, (
            f"message {message_id} was sent with qos.deliveryStatusNotifications true; within {round_.wait:g} s "
            f"(callback_wait_s) the callback URL got {states or 'no callback'} for it, not DELIVERED"
        )


@pytest.mark.requirement("R-CB-06")
def test_callbacks_name_the_message_id(run: Run, round_: Round) -> None:
    ours = [c for c in round_.listener.snapshot() if any(c.mentions(m) for m in round_.notified)]
    examined(run, f"{len(ours)} callback(s) of the notified messages")
    body_ids = {c.json.get("messageId") for c in ours if isinstance(c.json, dict)}
    prefer(
        run,
        "R-CB-06",
        all(message_id in body_ids for message_id in round_.notified),
        f"the callbacks' messageId members are {sorted(map(str, body_ids))[:5]}; the suite expects the ids the "
        f"sends returned ({', '.join(round_.notified)})",
        over=ours,
    )
    lacking = [c for c in ours if not (isinstance(c.json, dict) and set(REQUIRED) <= c.json.keys())]
    prefer(
        run,
        "R-CB-06",
        not lacking,
        f"{len(lacking)} callback(s) lack a member receivers may require ({', '.join(REQUIRED)}): "
        f"{lacking[0].body[:120]!r}"
        if lacking
        else "",
        over=ours,
    )


@pytest.mark.requirement("R-STATE-02")
def test_statuses_arrive_in_lifecycle_order(run: Run, round_: Round) -> None:
    both = {m: s for m in round_.notified if {"DELIVERED", "OPENED"} <= set(s := round_.states(m))}
    if not both:
        pytest.skip("no notified message was reported OPENED within the wait: there is no order to judge")
    for message_id, reported in both.items():
        states = [state for state in reported if state in ("DELIVERED", "OPENED")]
        assert states[:2] == ["DELIVERED", "OPENED"] and len(set(states)) == len(states), (
            f"the statuses of {message_id} arrived as {states}, not DELIVERED then OPENED, once each"
        )
    examined(run, f"the order of the statuses of {len(both)} message(s)")


@pytest.mark.requirement("R-CB-02")
def test_callbacks_come_over_https_with_basic_credentials_and_utf8_json(run: Run, round_: Round) -> None:
    ours = [c for c in round_.listener.snapshot() if any(c.mentions(m) for m in round_.own)]
    if not ours:
        pytest.skip("no callback arrived: R-CB-05 reports it")
    examined(run, f"{len(ours)} callback(s) of this run's messages")
    plain = [c for c in ours if not c.over_tls]
    assert not plain, (
        f"{len(plain)} callback(s) came over plain HTTP ({round_.listener.public_url}): Koshelek's callback requests "
        "go over HTTPS (if the account's callback URL is http://, the host must not send to it)"
    )
    refused = [c for c in round_.listener.snapshot() if not c.accepted]
    assert not refused, (
        f"{len(refused)} callback(s) reached the callback URL without the agreed Basic credentials "
        f"({'none' if refused[0].basic is None else 'other ones'}) and were refused with 401"
    )
    assert all(c.basic is not None for c in ours), "a callback came without HTTP Basic credentials"
    bad = [c for c in ours if not isinstance(c.json, (dict, list))]
    assert not bad, f"a callback body is not UTF-8 JSON: {bad[0].body[:120]!r}"


@pytest.mark.parametrize(
    "reason, requirement",
    [
        pytest.param("false", "R-CB-04", id="flag-false", marks=pytest.mark.requirement("R-CB-04")),
        pytest.param("without", "R-CB-13", id="flag-absent", marks=pytest.mark.requirement("R-CB-13")),
        pytest.param(
            "MSISDN_NOT_REGISTERED", "R-PUSH-17", id="unregistered", marks=pytest.mark.requirement("R-PUSH-17")
        ),
    ],
)
def test_no_callback_for_a_quiet_message(reason: str, requirement: str, run: Run, round_: Round) -> None:
    message_id = next((m for m, why in round_.quiet.items() if reason in why), None)
    if message_id is None:
        pytest.skip(f"no message of this round was {reason}")
    if not round_.complete:
        pytest.skip("the notified messages' callbacks did not all arrive, so silence here proves nothing")
    examined(run, f"the callbacks, if any, of message {message_id} ({round_.quiet[message_id]})")
    assert round_.about(message_id) == [], (
        f"message {message_id} was {round_.quiet[message_id]} but got callbacks {round_.states(message_id)}"
    )


@pytest.mark.run_last
@pytest.mark.requirement("R-CB-05", "R-CB-06")
def test_stray_callbacks_are_reported(run: Run, round_: Round) -> None:
    """Checked last, so callbacks that arrive late are seen too."""
    everything = round_.listener.snapshot()
    examined(run, f"all {len(everything)} callback(s) the listener got")
    late = [c for c in everything if c.arrived > round_.ended and any(c.mentions(m) for m in round_.notified)]
    assert round_.complete or not late, (
        f"{len(late)} callback(s) of this round arrived after the {round_.wait:g} s wait (callback_wait_s): "
        "raise callback_wait_s if the host is slow"
    )
    sent = run.recorder.handed_out_ids | {message_id.lower() for message_id in round_.own}
    unknown = [c for c in everything if c.accepted and not any(c.mentions(m) for m in sent)]
    prefer(
        run,
        "R-CB-06",
        not unknown,
        f"{len(unknown)} callback(s) name no message this run sent: {unknown[0].body[:120]!r}" if unknown else "",
        over=[c for c in everything if c.accepted],
    )
    seen: set[tuple[str, str | None]] = set()
    repeated: list[tuple[str, str | None]] = []
    for callback in everything:
        for message_id in round_.notified:
            if callback.accepted and callback.mentions(message_id):
                key = (message_id, callback.state)
                repeated += [key] if key in seen else []
                seen.add(key)
    prefer(run, "R-STATE-02", not repeated, f"statuses reported more than once: {repeated[:3]}", over=seen)
