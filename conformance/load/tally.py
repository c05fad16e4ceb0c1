"""The outcomes of a load run, counted in tenth-of-a-second buckets: bounded whatever the rate or the target sends.

Each Locust worker keeps a `Tally` of its own answers and hands the master what it counted since the last hand-over
(`drain`); the master adds them up (`merge`) and writes the sum for the `conformance load` command. Only counts,
a latency histogram and the first answer of each kind (cut to `SAMPLE_BYTES`) are kept: no body is held whole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

BUCKET = 0.1  # seconds
SAMPLE_BYTES = 1024  # of a sample answer's body
SAMPLE_HEADERS = ("Content-Type", "Retry-After")  # the only headers a sample keeps
MAX_STATUSES = 50  # distinct statuses counted; the rest count as "other"

# What happened to one request.
ACCEPTED = "accepted"  # 200, the messages queued
UNREGISTERED = "unregistered"  # 200, but MSISDN_NOT_REGISTERED: nothing was sent
REFUSED = "refused"  # 429 or 304: refused by the rate limit
SERVER_ERROR = "server-error"  # 5xx
OTHER = "other"  # any other answer (400, 401, 404, ...): the request itself was not right for this host
UNANSWERED = "unanswered"  # no answer: refused connection, timeout, reset
KINDS = (ACCEPTED, UNREGISTERED, REFUSED, SERVER_ERROR, OTHER, UNANSWERED)
REFUSAL_STATUSES = (429, 304)

# The counters of one bucket, by position.
SENT, ACCEPTED_REQUESTS, ACCEPTED_RECIPIENTS, REFUSALS, REFUSALS_WITH_RETRY_AFTER = 0, 1, 2, 3, 4
SERVER_ERRORS, OTHERS, UNANSWERED_REQUESTS, UNREGISTERED_REQUESTS = 5, 6, 7, 8
WIDTH = 9


def classify(status: int | None, body: bytes) -> str:
    if status is None:
        return UNANSWERED
    if status == 200:
        return UNREGISTERED if b"MSISDN_NOT_REGISTERED" in body and b"ENQUEUED" not in body else ACCEPTED
    if status in REFUSAL_STATUSES:
        return REFUSED
    if status >= 500:
        return SERVER_ERROR
    return OTHER


def recipients_accepted(body: bytes, sent: int) -> int:
    """How many numbers of an accepted send were queued: its ENQUEUED entries, or all of them when the answer does not
    say (the batch answer's shape is not documented, M-2)."""
    if sent == 1:
        return 1
    queued = body.count(b'"ENQUEUED"')
    return queued if queued or b"MSISDN_NOT_REGISTERED" in body else sent


def rounded_ms(seconds: float) -> int:
    """Latency in milliseconds, rounded as Locust rounds it: exact under 100 ms, then to two significant digits."""
    ms = round(seconds * 1000)
    if ms < 100:
        return ms
    digits = len(str(ms)) - 2
    return round(ms, -digits)


@dataclass
class Tally:
    buckets: dict[int, list[int]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: Counter[int] = field(default_factory=Counter)
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    retry_after: list[float] = field(default_factory=list)  # [shortest, longest] seconds a refusal asked for

    def add(
        self,
        at: float,
        kind: str,
        *,
        recipients: int = 0,
        status: int | None = None,
        latency: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        row = self.buckets.setdefault(int(at / BUCKET), [0] * WIDTH)
        row[SENT] += 1
        if kind == ACCEPTED:
            row[ACCEPTED_REQUESTS] += 1
            row[ACCEPTED_RECIPIENTS] += recipients
        elif kind == REFUSED:
            row[REFUSALS] += 1
            if retry_after is not None:
                row[REFUSALS_WITH_RETRY_AFTER] += 1
                self.retry_after = [
                    min(self.retry_after[0], retry_after) if self.retry_after else retry_after,
                    max(self.retry_after[1], retry_after) if self.retry_after else retry_after,
                ]
        elif kind == SERVER_ERROR:
            row[SERVER_ERRORS] += 1
        elif kind == OTHER:
            row[OTHERS] += 1
        elif kind == UNANSWERED:
            row[UNANSWERED_REQUESTS] += 1
        elif kind == UNREGISTERED:
            row[UNREGISTERED_REQUESTS] += 1
        key = str(status) if status is not None else "no answer"
        if key in self.statuses or len(self.statuses) < MAX_STATUSES:
            self.statuses[key] += 1
        else:
            self.statuses["other"] += 1
        if latency is not None:
            self.latencies[rounded_ms(latency)] += 1

    def sample(self, kind: str, status: int | None, headers: dict[str, str], body: bytes, note: str = "") -> None:
        """Keep the first answer of a kind (a refusal, a server error, ...), cut, to show what it looked like."""
        if kind in self.samples:
            return
        self.samples[kind] = {
            "status": status,
            "headers": {name: str(headers[name])[:200] for name in SAMPLE_HEADERS if headers.get(name) is not None},
            "body": body[:SAMPLE_BYTES].decode("utf-8", "replace"),
            "cut": len(body) > SAMPLE_BYTES,
            "note": note[:200],
        }

    def wants_sample(self, kind: str) -> bool:
        return kind not in self.samples and kind != ACCEPTED

    # --- hand-over between processes (msgpack and JSON both carry lists and string keys) --------------------------

    def drain(self) -> dict[str, Any]:
        """What was counted since the last drain, and forget it (the samples are handed over once)."""
        delta = self.as_dict()
        self.buckets, self.statuses, self.latencies = {}, Counter(), Counter()
        self.samples = {kind: {"handed_over": True} for kind in self.samples}
        return delta

    def as_dict(self) -> dict[str, Any]:
        return {
            "buckets": [[index, *row] for index, row in sorted(self.buckets.items())],
            "statuses": dict(self.statuses),
            "latencies": [[ms, n] for ms, n in sorted(self.latencies.items())],
            "samples": {kind: sample for kind, sample in self.samples.items() if "handed_over" not in sample},
            "retry_after": list(self.retry_after),
        }

    def merge(self, delta: dict[str, Any]) -> None:
        for index, *counts in delta.get("buckets", []):
            row = self.buckets.setdefault(int(index), [0] * WIDTH)
            for position, count in enumerate(counts[:WIDTH]):
                row[position] += int(count)
        for status, n in delta.get("statuses", {}).items():
            if status in self.statuses or len(self.statuses) < MAX_STATUSES:
                self.statuses[str(status)] += int(n)
            else:
                self.statuses["other"] += int(n)
        for ms, n in delta.get("latencies", []):
            self.latencies[int(ms)] += int(n)
        for kind, sample in delta.get("samples", {}).items():
            if kind in KINDS and kind not in self.samples and isinstance(sample, dict):
                self.samples[kind] = _bounded(sample)
        theirs = delta.get("retry_after") or []
        if len(theirs) == 2:
            mine = self.retry_after or theirs
            self.retry_after = [min(mine[0], theirs[0]), max(mine[1], theirs[1])]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        tally = cls()
        tally.merge(data)
        return tally


def _bounded(sample: dict[str, Any]) -> dict[str, Any]:
    """A sample as the master keeps it, whatever a worker sent: the known fields, each cut to size."""
    status = sample.get("status")
    headers = sample.get("headers") if isinstance(sample.get("headers"), dict) else {}
    return {
        "status": status if isinstance(status, int) else None,
        "headers": {name: str(headers[name])[:200] for name in SAMPLE_HEADERS if headers.get(name) is not None},
        "body": str(sample.get("body") or "")[:SAMPLE_BYTES],
        "cut": bool(sample.get("cut")),
        "note": str(sample.get("note") or "")[:200],
    }
