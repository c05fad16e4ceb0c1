"""A run a person can follow: on a terminal, one live line (tests done of all, requests, failing requirements,
elapsed) drawn with rich; elsewhere (CI logs), the same facts as a plain line every few seconds."""

from __future__ import annotations

import time
from typing import IO, Any

import pytest

PLAIN_EVERY = 5.0  # seconds between plain lines when the output is not a terminal


class Progress:
    """A pytest plugin the CLI registers: it reads the run's recorder, and writes to the user's own output."""

    def __init__(self, stream: IO[str], started: float) -> None:
        self.stream, self.started = stream, started
        self.total = self.done = 0
        self.workers = 0  # pytest-xdist's worker processes (0: the tests run in this process)
        self.config: pytest.Config | None = None
        self.last_plain = started
        self.live: Any = None
        if stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live("", console=Console(file=stream), refresh_per_second=4, transient=True)

    def line(self) -> str:
        from ..plugin import active_run

        run = active_run(self.config) if self.config is not None else None
        elapsed = time.perf_counter() - self.started
        if run is None or self.workers:  # workers send their requests and records back when they end
            workers = f" on {self.workers} workers" if self.workers else ""
            return f"conformance: {self.done}/{self.total} tests{workers}, {elapsed:.0f} s"
        recorder = run.recorder
        requests = recorder.answered + sum(recorder.unanswered.values())
        if run.client is not None:  # a client's journal is judged: the requests are the ones the client sent
            requests = run.client.facts().answered
        catalogue = run.profile.requirements  # a failure on an advisory rule is only a warning: not counted
        failing = len(
            {
                req_id
                for record in recorder.records
                if record.status == "fail"
                for req_id in record.requirements
                if req_id in catalogue and catalogue[req_id].level != "advisory"
            }
        )
        return (
            f"conformance: {self.done}/{self.total} tests, {requests} requests, {failing} requirement(s) "
            f"failing so far, {elapsed:.0f} s"
        )

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.workers += 1
        if self.workers == 1:  # every worker collects the same tests
            self._collected(len(ids))

    def _collected(self, total: int) -> None:
        self.total = total
        if self.live is not None:
            self.live.start()
            self.live.update(self.line())

    def pytest_runtest_logfinish(self) -> None:
        self.done += 1
        now = time.perf_counter()
        if self.live is not None:
            self.live.update(self.line())
        elif now - self.last_plain >= PLAIN_EVERY:
            self.last_plain = now
            print(self.line(), file=self.stream, flush=True)

    def pytest_sessionfinish(self) -> None:
        if self.live is not None:
            self.live.stop()
