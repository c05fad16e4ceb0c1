"""The outcome model: every test phase and every check invocation of a run yields one `Record`.

A record says which requirements it speaks for, what it found (`pass`, `fail`, `warn`, `skip`, `error`),
why, and on which exchange. Records are all the judge sees (`conformance.judge`): nothing else decides
a requirement's status or the run's verdict.

What is *not* a record matters as much: a check that does not apply to an answer (a card check on a
search that found nothing, a negative-data check on a valid request) leaves none, so it is no evidence.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Literal


class SuiteBug(Exception):
    """The suite itself is wrong (a check that ends without saying what it examined, a finding of a rule no profile
    maps): no verdict on part of a run can be trusted, so the run stops as a suite bug (exit 5)."""


Status = Literal["pass", "fail", "warn", "skip", "error"]
PASS: Status = "pass"
FAIL: Status = "fail"
WARN: Status = "warn"
SKIP: Status = "skip"
ERROR: Status = "error"
STATUSES: tuple[Status, ...] = (PASS, FAIL, WARN, SKIP, ERROR)


@dataclass(frozen=True)
class Record:
    requirements: tuple[str, ...]
    status: Status
    test: str  # the pytest node id (or "run" for what the run itself observed)
    check: str  # the check's name, "test" for a test's own assertions, "setup"/"teardown", "transport"
    reason: str = ""  # one sentence: what was expected and what came back
    title: str = ""  # a short headline that groups identical findings (e.g. "Error body is not JSON")
    exchange: dict[str, Any] | None = field(default=None, compare=False)  # masked request, response, curl
    count: int = field(default=1, compare=False)  # identical records merged into one
    signature: str = ""  # the rule broken and where (e.g. a schema failure's JSON pointer): part of a finding's key

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown record status {self.status!r}")

    def key(self) -> tuple[Any, ...]:
        """What makes two records the same finding (their exchanges and counts aside)."""
        return (self.requirements, self.status, self.test, self.check, self.title or self.reason)


class RecordLog:
    """The records of one run, identical ones merged (a check failing on 300 generated cases is one entry).

    Memory stays bounded whatever the target sends: one record per distinct finding, each holding the
    first exchange it was seen on. Tests on several threads add to it at once: a lock keeps each merge whole.
    """

    def __init__(self) -> None:
        self._records: dict[tuple[Any, ...], Record] = {}
        self._lock = threading.Lock()

    def add(self, record: Record) -> None:
        key = record.key()
        with self._lock:
            known = self._records.get(key)
            self._records[key] = record if known is None else replace(known, count=known.count + record.count)

    def __iter__(self):  # noqa: ANN204 - an iterator of records
        with self._lock:
            return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)
