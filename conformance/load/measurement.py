"""What a load run measured, read from the master's results: rates, refusals, latency, and the counting readings.

Pure functions of the counts, so that the judging (`judging.py`) can be proven on made-up runs without Locust.

The documents give a limit per minute and say neither how a minute is counted nor whether a batch counts once or
once per number. So each question is asked under every reading the documents allow, and the answer is the one a
correct host could not avoid:
- a minute is a rolling window, or a clock minute starting anywhere (a fixed window): a host *accepted too much*
  only if more than the limit were accepted within a minute under both;
- a batch counts as its numbers (recipients) or as one (requests): a host accepted too much only if it did when
  counted as requests (the fewer), and refused *too early* only if it did when counted as recipients (the more).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .plan import LoadPlan
from .tally import (
    ACCEPTED_RECIPIENTS,
    ACCEPTED_REQUESTS,
    BUCKET,
    OTHERS,
    REFUSALS,
    REFUSALS_WITH_RETRY_AFTER,
    SENT,
    SERVER_ERRORS,
    UNANSWERED_REQUESTS,
    UNREGISTERED_REQUESTS,
    WIDTH,
    Tally,
)

WINDOW = round(60 / BUCKET)  # buckets in a minute
TOLERANCE = 0.05  # of the limit: distributed hosts count approximately, and generators' clocks differ a little
MIN_SLACK = 2  # messages, for small limits
KEEPS_UP = 0.95  # the generators kept up if they sent at least this share of the rate asked
PERCENTILES = (50, 90, 95, 99)
READINGS = ("recipients", "requests")


def slack(limit: int) -> int:
    return max(MIN_SLACK, math.ceil(limit * TOLERANCE))


def trailing_sums(values: Sequence[int], window: int = WINDOW) -> list[int]:
    """For each bucket, the sum over the window that ends with it."""
    sums, running = [], 0
    for index, value in enumerate(values):
        running += value
        if index >= window:
            running -= values[index - window]
        sums.append(running)
    return sums


def fits_some_clock_minute(values: Sequence[int], cap: int, window: int = WINDOW) -> bool:
    """Whether some alignment of fixed, back-to-back windows keeps every window's sum at or under `cap`."""
    if sum(values) <= cap:
        return True
    cumulative = [0]
    for value in values:
        cumulative.append(cumulative[-1] + value)
    n = len(values)
    for offset in range(min(window, n)):
        bounds = [0, *range(offset or window, n, window), n]
        if all(cumulative[end] - cumulative[start] <= cap for start, end in itertools.pairwise(bounds)):
            return True
    return False


def over_in_every_minute_kind(values: Sequence[int], cap: int) -> bool:
    """More than `cap` within a minute, however the minute is counted (rolling, or clock minutes anywhere)."""
    return max(trailing_sums(values), default=0) > cap and not fits_some_clock_minute(values, cap)


@dataclass(frozen=True)
class Reading:
    """How the run looks when the host counts `name` (recipients or requests) against the limit."""

    name: str
    peak_accepted: int  # most accepted within a rolling minute
    peak_offered: int  # most sent within a rolling minute
    over_accepted: bool  # accepted more than the limit (+ tolerance) within a minute, however counted
    exceeded: bool  # the run offered more than the limit (+ tolerance) within a minute, however counted
    early_refusals: int  # refusals while fewer than the limit (- tolerance) had been accepted in the minute before
    first_early: float | None  # seconds into the run
    accepted_at_first_early: int | None

    @property
    def holds(self) -> bool:
        return not self.over_accepted and not self.early_refusals


@dataclass
class Measurement:
    plan: LoadPlan
    limit: int  # messages per minute
    limit_source: str
    columns: list[list[int]]  # per bucket, from the first: the tally's counters
    started: float  # epoch seconds of the first bucket
    statuses: dict[str, int]
    latencies: dict[int, int]
    samples: dict[str, dict[str, Any]]
    retry_after: list[float]
    workers_expected: int
    workers_done: list[dict[str, Any]]
    reasons: dict[str, int]
    readings: dict[str, Reading] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: LoadPlan, limit: int, limit_source: str, results: dict[str, Any] | None) -> Measurement:
        results = results or {}
        tally = Tally.from_dict(results.get("tally", {}))
        first = min(tally.buckets, default=0)
        last = max(tally.buckets, default=-1)
        columns = [tally.buckets.get(index, [0] * WIDTH) for index in range(first, last + 1)]
        measurement = cls(
            plan,
            limit,
            limit_source,
            columns,
            first * BUCKET,
            dict(tally.statuses),
            dict(tally.latencies),
            dict(tally.samples),
            list(tally.retry_after),
            int(results.get("workers_expected", plan.workers)),
            list(results.get("workers_done", [])),
            dict(results.get("reasons", {})),
        )
        measurement.readings = {name: measurement.reading(name) for name in READINGS}
        return measurement

    # --- totals --------------------------------------------------------------------------------------------------

    def column(self, position: int) -> list[int]:
        return [row[position] for row in self.columns]

    def total(self, position: int) -> int:
        return sum(row[position] for row in self.columns)

    @property
    def sent(self) -> int:
        return self.total(SENT)

    @property
    def answered(self) -> int:
        return self.sent - self.total(UNANSWERED_REQUESTS)

    @property
    def total_accepted(self) -> int:
        return self.total(ACCEPTED_REQUESTS)

    @property
    def total_refused(self) -> int:
        return self.total(REFUSALS)

    @property
    def refused_with_retry_after(self) -> int:
        return self.total(REFUSALS_WITH_RETRY_AFTER)

    @property
    def not_registered(self) -> int:
        return self.total(UNREGISTERED_REQUESTS)

    @property
    def other_answers(self) -> int:
        return self.total(OTHERS)

    @property
    def only_credential_refusals(self) -> bool:
        answered = [status for status in self.statuses if status.isdigit()]
        return bool(answered) and all(status in ("401", "403") for status in answered)

    @property
    def span(self) -> float:
        """Seconds from the first request's bucket to the end of the last one's."""
        return len(self.columns) * BUCKET

    @property
    def achieved_per_minute(self) -> float:
        """Messages sent a minute, over the span the generators were sending."""
        if not self.columns:
            return 0.0
        return self.sent * self.plan.recipients_per_request / self.span * 60

    @property
    def kept_up(self) -> bool:
        return self.achieved_per_minute >= KEEPS_UP * self.plan.rate_per_minute

    @property
    def below_limit(self) -> bool:
        """The rate asked stays within the limit: every send must be accepted."""
        return self.plan.rate_per_minute <= self.limit

    def latency_percentiles(self) -> dict[str, int]:
        total = sum(self.latencies.values())
        if not total:
            return {}
        ordered = sorted(self.latencies.items())
        shown: dict[str, int] = {}
        for percentile in PERCENTILES:
            wanted, seen = total * percentile / 100, 0
            for ms, n in ordered:
                seen += n
                if seen >= wanted:
                    shown[f"p{percentile}"] = ms
                    break
        shown["max"] = ordered[-1][0]
        return shown

    # --- the readings ---------------------------------------------------------------------------------------------

    def units(self, name: str) -> tuple[list[int], list[int]]:
        """(accepted, offered) per bucket, counted as `name`."""
        per_request = self.plan.recipients_per_request if name == "recipients" else 1
        if name == "recipients":
            accepted = self.column(ACCEPTED_RECIPIENTS)
        else:
            accepted = self.column(ACCEPTED_REQUESTS)
        return accepted, [n * per_request for n in self.column(SENT)]

    def reading(self, name: str) -> Reading:
        accepted, offered = self.units(name)
        cap = self.limit + slack(self.limit)
        floor = self.limit - slack(self.limit)
        trailing = trailing_sums(accepted)
        refusals = self.column(REFUSALS)
        early = [(i, trailing[i]) for i, n in enumerate(refusals) if n and trailing[i] < floor]
        return Reading(
            name,
            max(trailing, default=0),
            max(trailing_sums(offered), default=0),
            over_in_every_minute_kind(accepted, cap),
            over_in_every_minute_kind(offered, cap),
            sum(refusals[i] for i, _ in early),
            round(early[0][0] * BUCKET, 1) if early else None,
            early[0][1] if early else None,
        )

    def early_server_errors(self) -> tuple[int, float | None]:
        """5xx answers while the host had accepted fewer than the limit in the minute before (counting recipients)."""
        trailing = trailing_sums(self.column(ACCEPTED_RECIPIENTS))
        floor = self.limit - slack(self.limit)
        errors = self.column(SERVER_ERRORS)
        early = [i for i, n in enumerate(errors) if n and trailing[i] < floor]
        return sum(errors[i] for i in early), (round(early[0] * BUCKET, 1) if early else None)

    def held_reading(self) -> str:
        """Which counting the host's answers agree with, in words."""
        if self.plan.mode == "single":
            return "single sends: one message a request, so counting requests and recipients agree"
        recipients, requests = self.readings["recipients"], self.readings["requests"]
        if recipients.holds and requests.holds:
            return "either: the run could not tell whether the host counts a batch's numbers or the batch"
        if recipients.holds:
            return "recipients: the host counts each number of a batch against the limit"
        if requests.holds:
            return "requests: the host counts a batch once, whatever its size"
        return "neither: the host's refusals agree with no counting of the documents"

    # --- for the reports -------------------------------------------------------------------------------------------

    def per_second(self) -> list[dict[str, int]]:
        """Messages a second: sent, accepted, refused, failed (5xx, other answers, none), for the chart."""
        per_request = self.plan.recipients_per_request
        step = round(1 / BUCKET)
        seconds = []
        for start in range(0, len(self.columns), step):
            rows = self.columns[start : start + step]
            seconds.append(
                {
                    "second": start // step,
                    "sent": sum(r[SENT] for r in rows) * per_request,
                    "accepted": sum(r[ACCEPTED_RECIPIENTS] for r in rows),
                    "refused": sum(r[REFUSALS] for r in rows) * per_request,
                    "failed": sum(r[SERVER_ERRORS] + r[OTHERS] + r[UNANSWERED_REQUESTS] for r in rows) * per_request,
                }
            )
        return seconds

    def accepted_in_last_minute(self) -> list[int]:
        """Messages accepted in the minute up to each second (counting recipients), for the chart."""
        trailing = trailing_sums(self.column(ACCEPTED_RECIPIENTS))
        step = round(1 / BUCKET)
        return [max(trailing[start : start + step]) for start in range(0, len(trailing), step)]

    def describe(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "asked_per_minute": plan.rate_per_minute,
            "achieved_per_minute": round(self.achieved_per_minute, 1),
            "generators_kept_up": self.kept_up,
            "limit_per_minute": self.limit,
            "limit_source": self.limit_source,
            "tolerance": slack(self.limit),
            "mode": plan.mode,
            "recipients_per_request": plan.recipients_per_request,
            "duration_asked": plan.duration,
            "sending_seconds": round(self.span, 1),
            "workers": {
                "expected": self.workers_expected,
                "reported": len(self.workers_done),
                # CPU the generators spent sending: requests a CPU-second sizes the workers
                "cpu_seconds": round(sum(float(w.get("cpu_seconds") or 0) for w in self.workers_done), 2),
            },
            "users": plan.users,
            "max_requests": plan.max_requests,
            "requests": {
                "sent": self.sent,
                "accepted": self.total(ACCEPTED_REQUESTS),
                "refused": self.total(REFUSALS),
                "refused_with_retry_after": self.total(REFUSALS_WITH_RETRY_AFTER),
                "server_errors": self.total(SERVER_ERRORS),
                "other_answers": self.total(OTHERS),
                "unanswered": self.total(UNANSWERED_REQUESTS),
                "not_registered": self.total(UNREGISTERED_REQUESTS),
            },
            "messages_accepted": self.total(ACCEPTED_RECIPIENTS),
            "statuses": self.statuses,
            "retry_after_seconds": self.retry_after,
            "latency_ms": self.latency_percentiles(),
            "counting": self.held_reading(),
            "readings": {
                name: {
                    "peak_accepted_in_a_minute": r.peak_accepted,
                    "peak_sent_in_a_minute": r.peak_offered,
                    "accepted_over_the_limit": r.over_accepted,
                    "went_over_the_limit": r.exceeded,
                    "refusals_before_the_limit": r.early_refusals,
                    "first_refusal_before_the_limit_at_s": r.first_early,
                }
                for name, r in self.readings.items()
            },
            "per_second": self.per_second(),
            "accepted_in_last_minute": self.accepted_in_last_minute(),
        }
