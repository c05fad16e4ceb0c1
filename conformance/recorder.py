"""What a run saw: the records for the judge, and the traffic facts beside them.

The HTTP layer hands every exchange to `Recorder.observe` before anything else sees it: the answer is
ingested (`conformance.ingest`: the secrets it hands out learnt, then everything it carries masked in place),
and kept as "the last exchange" (the evidence a failing check or test points at). An exchange that got no
answer fails the API's availability rule on the spot; a transport outcome is never evidence for or against a
content rule.

Tests may run on several threads at once (`--concurrency`): what belongs to the running test (its node id, its
last exchange, the check failures it defers) is kept per thread, and the counts and records shared by the run are
changed under a lock.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from . import ingest
from .judge import RunFacts
from .outcomes import FAIL, Record, RecordLog
from .report.exchange import Replay, Sidecar, own_credential_headers
from .report.exchange import record as exchange_record
from .target import base_url_advice
from .transport import AnswerTooLarge, NotSent, RunDeadline, cause_of

if TYPE_CHECKING:
    from .profiles import Profile
    from .report.masking import Masker
    from .target import Target


@dataclasses.dataclass
class Evidence:
    """What a test examined: the answers it got (on any thread working for it) and what it named itself."""

    answers: int = 0
    named: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RunningTest:
    """What one thread knows of the test it works for: its node id, the check failures it defers to the test's end,
    what it examined, and the last exchange it sent (kept raw; turned into a masked record only if a finding cites
    it)."""

    test: str = "run"
    deferred: list[str] = dataclasses.field(default_factory=list)
    evidence: Evidence = dataclasses.field(default_factory=Evidence)
    last: tuple[Any, ...] | None = None
    last_record: dict[str, Any] | None = None


class Recorder:
    def __init__(self, profile: Profile, masker: Masker, target: Target, artefacts: Path | None = None) -> None:
        self.profile, self.masker, self.target = profile, masker, target
        self.sidecar = Sidecar(artefacts) if artefacts is not None else None
        serve = None
        if target.embedded:  # its CA is gone with the run: the repro starts the same reference service instead
            serve = " ".join(
                ["conformance", "serve", profile.name, "--port", "8080", *(f"--fault {f}" for f in target.faults)]
            )
        self.replay = Replay(
            env=profile.credential_env,
            auth_headers=profile.auth_headers,
            ca_bundle=str(Path(target.verify).resolve()) if isinstance(target.verify, str) else None,
            serve=serve,
            base_url=target.base_url,
            own_headers=own_credential_headers(profile.auth_kwargs(target.credentials)),
        )
        self.records = RecordLog()
        self._threads = threading.local()  # .scope: the RunningTest of the test this thread works for
        self._lock = threading.Lock()  # the counts below, changed by every thread that sends
        self.answered = 0
        self.unanswered: Counter[str] = Counter()  # cause -> count, exchanges really attempted
        self.not_sent: Counter[str] = Counter()  # cause -> count, refused by the breakers or the run deadline
        self.credentialed_statuses: Counter[int] = Counter()
        self.operation_successes: Counter[str] = Counter()
        self.skips: dict[str, str] = {}  # test -> why it did not run
        self.auth_statuses: dict[str, int] = {}  # auth probe -> the status the target used
        self.suite_bugs: list[str] = []  # the suite's own faults, found while it ran: no verdict stands on them
        self.deadline_reached: str | None = None
        self.handed_out_ids: set[str] = set()  # ids the target's answers named (profile.response_ids)
        self._expected_auth = self._credential_header()
        # Answers to documented operations, by status: nearly all 404 says the base URL is wrong, not the service.
        self.documented_statuses: Counter[int] = Counter()
        self.operation_of: Any = None  # (method, URL path) -> the documented operation's label ("" for none)

    def add(self, record: Record) -> None:
        self.records.add(record)

    # --- the running test, per thread ------------------------------------------------------------------

    @property
    def scope(self) -> RunningTest:
        """The test this thread works for (a thread that works for none: "run")."""
        scope = getattr(self._threads, "scope", None)
        if scope is None:
            scope = self._threads.scope = RunningTest()
        return scope

    def begin_test(self, nodeid: str) -> None:
        """This thread now works for the test `nodeid`: nothing of the test before it carries over."""
        self._threads.scope = RunningTest(nodeid)

    def examined(self, what: str) -> None:
        """The running test says what it examined (an answer a fixture got, callbacks, a client's journal)."""
        with self._lock:
            self.scope.evidence.named.append(what)

    def test_evidence(self) -> str:
        """What the running test examined, in a few words ("" for nothing: no answer of its own, nothing named)."""
        evidence = self.scope.evidence
        parts = ([f"{evidence.answers} answer(s)"] if evidence.answers else []) + evidence.named[:3]
        return "; ".join(parts)

    @property
    def current_test(self) -> str:
        return self.scope.test

    @current_test.setter
    def current_test(self, test: str) -> None:
        self.scope.test = test

    @property
    def deferred_check_failures(self) -> list[str]:
        """Check failures on the answers of the running hand-written test, shown on the test when its body ends."""
        return self.scope.deferred

    @deferred_check_failures.setter
    def deferred_check_failures(self, failures: list[str]) -> None:
        self.scope.deferred = failures

    @property
    def last_exchange(self) -> dict[str, Any] | None:
        """The exchange a finding of the running test cites (this thread's last): masked with every secret learnt
        so far."""
        scope = self.scope
        if scope.last_record is None and scope.last is not None:
            scope.last_record = self._exchange(*scope.last)
        return scope.last_record

    @last_exchange.setter
    def last_exchange(self, value: dict[str, Any] | None) -> None:
        scope = self.scope
        scope.last, scope.last_record = None, value

    @contextlib.contextmanager
    def helping(self, scope: RunningTest) -> Iterator[RunningTest]:
        """Do a part of the test `scope` belongs to (on this thread or another): the same node id and deferred
        failures, a last exchange of its own (a finding cites the answer this part received)."""
        before = getattr(self._threads, "scope", None)
        part = self._threads.scope = RunningTest(scope.test, scope.deferred, scope.evidence)
        try:
            yield part
        finally:
            self._threads.scope = before

    def _keep(self, *exchange: Any) -> None:
        scope = self.scope
        scope.last, scope.last_record = exchange, None

    # --- the HTTP layer's observer ---------------------------------------------------------------

    def observe(
        self, request: requests.PreparedRequest, response: requests.Response | None, error: BaseException | None
    ) -> None:
        if response is not None:
            ingest.answer(response, self.masker, self.profile.response_secrets)  # before anything reads it
            documented = self.operation_of is not None and self.operation_of(
                str(request.method), urlsplit(request.url).path
            )
            with self._lock:
                self.answered += 1
                self.scope.evidence.answers += 1
                if self._carries_own_credentials(request):
                    self.credentialed_statuses[response.status_code] += 1
                if documented:
                    self.documented_statuses[response.status_code] += 1
            if self.profile.response_ids:
                self._learn_ids(response.content)
            self._keep(request, response.status_code, dict(response.headers), response.content)
            return
        assert error is not None
        if isinstance(error, AnswerTooLarge):  # it answered; the answer is just more than the run reads
            with self._lock:
                self.answered += 1
            self._keep(request, None, {}, b"", str(error))
            return
        cause = cause_of(error)
        if isinstance(error, NotSent | RunDeadline):
            with self._lock:
                self.not_sent[cause] += 1
            if isinstance(error, RunDeadline):
                self.deadline_reached = "the run deadline (--deadline) was reached: the rest of the run was not sent"
            return
        with self._lock:
            self.unanswered[cause] += 1
        self._keep(request, None, {}, b"", f"no answer: {cause}")
        self.add(
            Record(
                (self.profile.availability_requirement,),
                FAIL,
                self.current_test,
                "availability",
                reason=f"{request.method} {self.masker.text(str(request.path_url))} got no answer: {cause}",
                title=f"No answer: {cause}",
                exchange=self.last_exchange,
            )
        )

    def note_operation(self, label: str, request: Any, status: int) -> None:
        """An answer to a documented operation: counts as that operation's success when 2xx and credentialed."""
        if 200 <= status < 300 and self._carries_own_credentials(request):
            with self._lock:
                self.operation_successes[label] += 1

    # --- one run over several worker processes (pytest-xdist) ---------------------------------------

    def export(self) -> dict[str, Any]:
        """What a worker saw, in plain values a worker can send back (execnet serialises nothing richer)."""
        return {
            "records": [
                {**dataclasses.asdict(record), "requirements": list(record.requirements)} for record in self.records
            ],
            "answered": self.answered,
            "unanswered": dict(self.unanswered),
            "not_sent": dict(self.not_sent),
            "credentialed_statuses": {str(status): n for status, n in self.credentialed_statuses.items()},
            "operation_successes": dict(self.operation_successes),
            "skips": dict(self.skips),
            "auth_statuses": dict(self.auth_statuses),
            "deadline_reached": self.deadline_reached,
            "handed_out_ids": sorted(self.handed_out_ids),
            "secrets": sorted(self.masker.secrets),
            "suite_bugs": list(self.suite_bugs),
            "documented_statuses": {str(status): n for status, n in self.documented_statuses.items()},
        }

    def merge(self, seen: dict[str, Any]) -> None:
        """Add what a worker saw: its secrets first, so that nothing this process writes can show them."""
        for secret in seen["secrets"]:
            self.masker.add(secret)
        for record in seen["records"]:
            self.add(Record(**{**record, "requirements": tuple(record["requirements"])}))
        self.answered += seen["answered"]
        self.unanswered.update(seen["unanswered"])
        self.not_sent.update(seen["not_sent"])
        self.credentialed_statuses.update({int(status): n for status, n in seen["credentialed_statuses"].items()})
        self.operation_successes.update(seen["operation_successes"])
        self.skips.update(seen["skips"])
        self.auth_statuses.update(seen["auth_statuses"])
        self.deadline_reached = self.deadline_reached or seen["deadline_reached"]
        self.suite_bugs += seen.get("suite_bugs", [])
        self.handed_out_ids.update(seen["handed_out_ids"])
        self.documented_statuses.update({int(status): n for status, n in seen["documented_statuses"].items()})

    # --- facts for the judge -----------------------------------------------------------------------

    def facts(self, operations: list[str], not_applicable: dict[str, str], out_of_reach: dict[str, str]) -> RunFacts:
        return RunFacts(
            answered=self.answered,
            unanswered=sum(self.unanswered.values()),
            unanswered_causes=dict(self.unanswered + self.not_sent),
            credentialed_statuses=dict(self.credentialed_statuses),
            credential_env=self.profile.credential_env,
            operations_without_success=tuple(op for op in operations if self.operation_successes[op] == 0),
            not_applicable=not_applicable,
            out_of_reach=dict(out_of_reach),
            deadline_reached=self.deadline_reached,
            documented_statuses=dict(self.documented_statuses),
            base_url_advice=base_url_advice(self.target.base_url, list(self.profile.spec["paths"])),
        )

    # --- helpers -------------------------------------------------------------------------------------

    def _exchange(
        self,
        request: requests.PreparedRequest,
        status: int | None,
        headers: dict[str, str],
        content: bytes,
        note: str | None = None,
    ) -> dict[str, Any]:
        return exchange_record(
            request, status, headers, content, self.masker, self.replay, sidecar=self.sidecar, note=note
        )

    def _credential_header(self) -> tuple[str, str]:
        auth = self.profile.auth_kwargs(self.target.credentials)
        if "auth" in auth:
            user, password = self.target.credentials.as_tuple()
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return ("Authorization", f"Basic {token}")
        # The account's own token; the second header may be a user's key (Imbee's chat creation).
        return next(iter(auth["headers"].items()))

    def _carries_own_credentials(self, request: Any) -> bool:
        headers = getattr(request, "headers", {}) or {}
        name, value = self._expected_auth
        return headers.get(name) == value

    def _learn_ids(self, content: bytes) -> None:
        """Keep the ids an answer names (a messageId), to tell the run's own callbacks from strays."""

        def walk(value: Any, depth: int = 0) -> None:
            if depth > 50:
                return
            if isinstance(value, dict):
                for key, item in value.items():
                    if key in self.profile.response_ids and isinstance(item, str) and len(self.handed_out_ids) < 10000:
                        self.handed_out_ids.add(item.lower())  # one set.add: atomic, whichever thread adds
                    walk(item, depth + 1)
            elif isinstance(value, list):
                for item in value:
                    walk(item, depth + 1)

        try:
            walk(json.loads(content))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return
