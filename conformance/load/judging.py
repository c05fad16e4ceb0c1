"""A load run's measurement as records for the one judge (`conformance.judge`): R-RATE-01, R-RATE-02, R-RATE-04.

- R-RATE-01 (the partner may send up to the limit): *fail* when the host refused, or answered 5xx, while fewer than
  the limit had been accepted in the minute before, on a run whose asked rate stays within the limit. On a run
  over the limit such a refusal only *warns*: a host that smooths the rate (a token bucket) refuses a burst early,
  and the documents do not say a minute's allowance may be spent at once. *pass* when every send was accepted at
  a rate near the limit (at least `NEAR` of it), or the refusals came only once the limit was reached.
- R-RATE-02 (over the limit, sends are refused): *fail* when more than the limit were accepted within a minute
  however the minute and the batch are counted; *pass* when the run went over the limit under a counting the host
  follows and the host refused the excess. A run that asks for less than the limit cannot reach it (out of reach).
- R-RATE-04 (advisory: the refusal is 429 with the Error body): judged on the refusals seen.

What no record can rest on makes the run inconclusive, never a pass: generators that did not keep up with the rate
asked, answers that were not the documented ones (400, MSISDN_NOT_REGISTERED: nothing was sent), a run cut short.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from ..judge import RunFacts, Verdict, judge
from ..outcomes import ERROR, FAIL, PASS, SKIP, WARN, Record
from ..requirements import Requirement
from .measurement import Measurement, slack
from .plan import per_minute_text
from .tally import OTHER, REFUSED, SERVER_ERROR, UNREGISTERED

LOAD_RULES = ("R-RATE-01", "R-RATE-02", "R-RATE-04")
NEAR = 0.9  # a run within the limit speaks for it only from this share of the limit on
TEST = "conformance load"

STOPS = {
    "duration": "the run sent for the duration asked",
    "max-requests": "the run stopped at --max-requests",
    "5xx-burst": "the run stopped at a burst of 5xx answers (10 in a row on one generator)",
    "refused-plan": "a worker refused the master's plan: it was started for another --base-url",
    "no-credentials": "a worker had no CONFORMANCE_USERNAME / CONFORMANCE_PASSWORD in its environment",
}
CUT_SHORT = ("5xx-burst", "refused-plan", "no-credentials")


@dataclass(frozen=True)
class Stop:
    """Why the run ended, and whether that leaves it short of what was asked."""

    sentence: str
    cut_short: bool


def stop_of(measurement: Measurement, interrupted: bool) -> Stop:
    if interrupted:
        return Stop("the run was interrupted (Ctrl-C)", True)
    reasons = measurement.reasons
    for reason in CUT_SHORT:
        if reasons.get(reason) is not None:
            return Stop(STOPS[reason], True)
    reported = len(measurement.workers_done)
    if reported < measurement.workers_expected:
        missing = measurement.workers_expected - reported
        return Stop(f"{missing} of {measurement.workers_expected} generators never reported the end of their run", True)
    if reasons.get("max-requests"):
        return Stop(STOPS["max-requests"], False)
    return Stop(STOPS["duration"], False)


def catalogue(requirements: dict[str, Requirement]) -> dict[str, Requirement]:
    return {req_id: requirements[req_id] for req_id in LOAD_RULES}


def _record(req_id: str, status: str, check: str, title: str, reason: str, exchange: Any = None) -> Record:
    return Record((req_id,), status, TEST, check, reason, title, exchange)  # type: ignore[arg-type]


def records(measurement: Measurement, exchanges: dict[str, dict[str, Any]]) -> list[Record]:
    """`exchanges`: the masked sample answers by kind (refused, server-error, other), to cite."""
    found: list[Record] = []
    found += _sends_within_the_limit(measurement, exchanges)
    found += _sends_over_the_limit(measurement, exchanges)
    found += _refusal_form(measurement, exchanges)
    found += _unusable_answers(measurement, exchanges)
    if not measurement.kept_up:  # what passed was measured at a lower rate than asked: no evidence of a pass
        why = (
            f"the generators sent {per_minute_text(measurement.achieved_per_minute)} of the "
            f"{per_minute_text(measurement.plan.rate_per_minute)} asked: they could not keep up (add --workers)"
        )
        found = [
            replace(r, status=ERROR, reason=f"{why}; measured: {r.reason}", title="Generators behind the rate")
            if r.status == PASS
            else r
            for r in found
        ]
    return found


def _limit_text(measurement: Measurement) -> str:
    return f"{measurement.limit:,} a minute ({measurement.limit_source})"


def _sends_within_the_limit(measurement: Measurement, exchanges: dict[str, dict[str, Any]]) -> list[Record]:
    rule = "R-RATE-01"
    asked = per_minute_text(measurement.plan.rate_per_minute)
    errors, first_error = measurement.early_server_errors()
    if errors:
        return [
            _record(
                rule,
                FAIL,
                "load-within-limit",
                "5xx within the limit",
                f"{errors} send(s) were answered 5xx (the first {first_error:g} s into the run) while the host had "
                f"accepted fewer than {_limit_text(measurement)} in the minute before: a partner may send that many",
                exchanges.get(SERVER_ERROR),
            )
        ]
    recipients = measurement.readings["recipients"]
    if recipients.early_refusals:
        before = (
            f"{recipients.early_refusals} send(s) were refused (the first {recipients.first_early:g} s into the run, "
            f"after only {recipients.accepted_at_first_early:,} accepted in the minute before it); the limit is "
            f"{_limit_text(measurement)}"
        )
        if measurement.below_limit:
            return [
                _record(
                    rule,
                    FAIL,
                    "load-within-limit",
                    "Refused within the limit",
                    f"{before}, and the run asked for {asked}, within it",
                    exchanges.get(REFUSED),
                )
            ]
        return [
            _record(
                rule,
                WARN,
                "load-within-limit",
                "Refused before the limit was reached",
                f"{before}. The run asked for {asked}, over the limit: a host that smooths the rate refuses so; "
                "run with --rate within the limit to judge R-RATE-01",
                exchanges.get(REFUSED),
            )
        ]
    if measurement.total_accepted == 0:
        return []
    peak = recipients.peak_accepted
    if measurement.below_limit:
        if measurement.plan.rate_per_minute < NEAR * measurement.limit:
            return [
                _record(
                    rule,
                    SKIP,
                    "load-within-limit",
                    "Too far below the limit",
                    f"every send was accepted at {asked}, but that is under {NEAR:.0%} of {_limit_text(measurement)}: "
                    "it says nothing about the limit; run with --rate near it",
                )
            ]
        return [
            _record(
                rule,
                PASS,
                "load-within-limit",
                "Accepted within the limit",
                f"every send was accepted at {per_minute_text(measurement.achieved_per_minute)} for "
                f"{measurement.span:.0f} s (at most {peak:,} in a minute); the limit is {_limit_text(measurement)}",
            )
        ]
    reached = peak >= measurement.limit - slack(measurement.limit)
    if not measurement.total_refused:
        how = (
            f"every send was accepted at {per_minute_text(measurement.achieved_per_minute)} for "
            f"{measurement.span:.0f} s (at most {peak:,} within a minute)"
        )
    elif reached:
        how = f"the host accepted {peak:,} messages within a minute before refusing any"
    else:
        how = f"the host refused only once {peak:,} messages had been accepted within a minute"

    return [
        _record(
            rule,
            PASS,
            "load-within-limit",
            "Accepted up to the limit",
            f"{how}; the limit is {_limit_text(measurement)}",
        )
    ]


def _sends_over_the_limit(measurement: Measurement, exchanges: dict[str, dict[str, Any]]) -> list[Record]:
    rule = "R-RATE-02"
    if measurement.below_limit:
        return []  # declared out of reach for this run (`out_of_reach`)
    requests, recipients = measurement.readings["requests"], measurement.readings["recipients"]
    if requests.over_accepted:
        counted = (
            f"{recipients.peak_accepted:,} messages"
            if measurement.plan.mode == "single"
            else f"{requests.peak_accepted:,} requests ({recipients.peak_accepted:,} messages)"
        )
        return [
            _record(
                rule,
                FAIL,
                "load-over-limit",
                "Accepted over the limit",
                f"the host accepted {counted} within a minute, over {_limit_text(measurement)} however the minute "
                f"(rolling or by the clock) and a batch (once or per number) are counted; "
                f"{measurement.total_refused} send(s) were refused",
            )
        ]
    held = [r for r in (recipients, requests) if not r.over_accepted and r.exceeded]
    if held and measurement.total_refused:
        reading = held[0]
        refused = measurement.total_refused
        with_retry = measurement.refused_with_retry_after
        retry = (
            f"; {with_retry} of them carried Retry-After"
            + (f" ({_seconds(measurement.retry_after)})" if measurement.retry_after else "")
            if with_retry
            else "; none carried Retry-After"
        )
        return [
            _record(
                rule,
                PASS,
                "load-over-limit",
                "Refused over the limit",
                f"the run sent up to {reading.peak_offered:,} within a minute (counting {reading.name}) and the host "
                f"accepted at most {reading.peak_accepted:,}, refusing {refused} send(s){retry}; the limit is "
                f"{_limit_text(measurement)}",
                exchanges.get(REFUSED),
            )
        ]
    peak = max(recipients.peak_offered, requests.peak_offered)
    return [
        _record(
            rule,
            SKIP,
            "load-over-limit",
            "Never over the limit",
            f"the run never went over {_limit_text(measurement)} under a counting the host follows (it sent at most "
            f"{peak:,} within a minute). A host may count by the clock's minutes: send more than twice the limit, "
            "or for two minutes or more",
        )
    ]


def _seconds(values: list[float]) -> str:
    low, high = values
    return f"{low:g} s" if low == high else f"{low:g} to {high:g} s"


def _refusal_form(measurement: Measurement, exchanges: dict[str, dict[str, Any]]) -> list[Record]:
    rule = "R-RATE-04"
    if not measurement.total_refused:
        return [_record(rule, SKIP, "refusal-form", "No refusal", "the host refused no send of this run")]
    other = {status: n for status, n in measurement.statuses.items() if status == "304"}
    if other:
        return [
            _record(
                rule,
                FAIL,
                "refusal-form",
                "Refused with 304",
                f"{other['304']} refusal(s) were 304; the suite prefers 429 (Too Many Requests)",
                exchanges.get(REFUSED),
            )
        ]
    sample = measurement.samples.get(REFUSED, {})
    try:
        body = json.loads(sample.get("body") or "null")
    except ValueError:
        body = None
    if (
        not isinstance(body, dict)
        or body.get("status") != "TOO_MANY_REQUESTS"
        or not isinstance(body.get("errors"), list)
    ):
        return [
            _record(
                rule,
                FAIL,
                "refusal-form",
                "429 without the Error body",
                "the 429's body is not the Error body {status: TOO_MANY_REQUESTS, errors: [...]}",
                exchanges.get(REFUSED),
            )
        ]
    return [_record(rule, PASS, "refusal-form", "429 with the Error body", "refusals are 429 with the Error body")]


def _unusable_answers(measurement: Measurement, exchanges: dict[str, dict[str, Any]]) -> list[Record]:
    """Answers that say the load's request was not one the host sends: nothing it says about the limit counts."""
    found = []
    unregistered = measurement.not_registered
    if unregistered:
        found.append(
            (
                "Not registered",
                f"{unregistered} send(s) were answered MSISDN_NOT_REGISTERED: the target config's registered number "
                "has no user on this host, so nothing was sent and nothing counted against the limit",
                exchanges.get(UNREGISTERED),
            )
        )
    others = measurement.other_answers
    if others and not measurement.only_credential_refusals:
        statuses = ", ".join(
            f"{n} x {status}"
            for status, n in sorted(measurement.statuses.items())
            if status.isdigit() and int(status) not in (200, 304, 429) and int(status) < 500
        )
        found.append(
            (
                "Unexpected answers",
                f"{others} send(s) got another answer than accepted or refused ({statuses}): the load's request is "
                "not one this host accepts (check the target config: bulk_path, the registered number)",
                exchanges.get(OTHER),
            )
        )
    return [
        _record(rule, ERROR, "load-request", title, reason, exchange)
        for title, reason, exchange in found
        for rule in ("R-RATE-01", "R-RATE-02")
        if not (rule == "R-RATE-02" and measurement.below_limit)
    ]


def facts(measurement: Measurement, stop: Stop, credential_env: tuple[str, ...]) -> RunFacts:
    out_of_reach = {}
    if measurement.below_limit:
        out_of_reach["R-RATE-02"] = (
            f"this load run asked for {per_minute_text(measurement.plan.rate_per_minute)}, within the limit of "
            f"{measurement.limit:,} a minute: `conformance load push --rate` over the limit tests it"
        )
    statuses = {int(status): n for status, n in measurement.statuses.items() if status.isdigit()}
    unanswered = measurement.sent - measurement.answered
    return RunFacts(
        answered=measurement.answered,
        unanswered=unanswered,
        unanswered_causes={"no answer": unanswered} if unanswered else {},
        credentialed_statuses=statuses,
        credential_env=credential_env,
        out_of_reach=out_of_reach,
        deadline_reached=stop.sentence if stop.cut_short else None,
    )


def verdict(
    measurement: Measurement,
    stop: Stop,
    requirements: dict[str, Requirement],
    credential_env: tuple[str, ...],
    exchanges: dict[str, dict[str, Any]],
) -> tuple[Verdict, list[Record], RunFacts]:
    found = records(measurement, exchanges)
    run_facts = facts(measurement, stop, credential_env)
    return judge(found, catalogue(requirements), run_facts), found, run_facts
