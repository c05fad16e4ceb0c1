"""`--concurrency N`: the run's tests spread over pytest-xdist workers, one judge on the merged records.

The proofs: the same requests reach the same statuses as a sequential run, on a faulty variant, with its
findings and report rows whole; what needs order runs sequentially and says so; a rate limit (429 +
Retry-After) holds every request back for as long as it asks.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import run_here

from conformance.transport import MAX_BACK_OFF, BoundedSession, Breakers, Limits, retry_after

RUN_OPTIONS = ["--max-examples", "5", "--seed", "20261127"]


def statuses(verdict: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in verdict["requirements"]}


@pytest.mark.slow
def test_workers_reach_what_one_process_reaches(tmp_path: Path) -> None:
    # A variant with findings: the records, exchanges and report rows that workers send back are all needed.
    api, fault = "loyalty", "two-defects"
    faults = ["--fault", fault]
    one = run_here(["run", api, *faults, *RUN_OPTIONS, "--concurrency", "1"], tmp_path / "one")
    two = run_here(["run", api, *faults, *RUN_OPTIONS, "--concurrency", "2"], tmp_path / "two")
    assert two.exit_code == one.exit_code == 1, two.stdout + two.stderr
    assert "service on 2 workers ..." in two.stdout and "service ..." in one.stdout
    sequential, distributed = one.verdict(api), two.verdict(api)
    assert statuses(distributed) == statuses(sequential)
    assert distributed["verdict"] == sequential["verdict"]
    # The same cases are generated; only the tests that open a session per worker add their setup requests.
    assert abs(distributed["exchanges"]["answered"] - sequential["exchanges"]["answered"]) <= 2
    # The workers' findings arrive whole: each failing requirement has its finding, with the exchange and curl.
    failing = [r for r in distributed["requirements"] if r["status"] == "fail"]
    assert failing and all(r["findings"] and r["findings"][0]["exchange"]["curl"] for r in failing)
    for result in (one, two):  # every row names its requirements; a failed one says what its finding says
        rows = result.html_rows(api)
        assert rows and all('<td class="col-requirements">R-' in row["resultsTableRow"][2] for row in rows)
        failed = [row for row in rows if row["result"] == "Failed"]
        assert failed
        assert all(row["log"].endswith("see Findings above") and "class=" not in row["log"] for row in failed)


@pytest.mark.slow
def test_an_order_bound_suite_runs_sequentially_and_says_why(tmp_path: Path) -> None:
    result = run_here(["run", "push", "--max-examples", "1", "--seed", "3", "--concurrency", "4"], tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "push runs one request at a time: the callback round" in result.stdout
    assert "service ..." in result.stdout


# --- a rate limit is honoured ----------------------------------------------------------------------


class RateLimited(http.server.BaseHTTPRequestHandler):
    """429 with Retry-After: 1 on the first request, 200 after; it notes when each request arrived."""

    arrivals: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        self.arrivals.append(time.monotonic())
        limited = len(self.arrivals) == 1
        self.send_response(429 if limited else 200)
        if limited:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rate_limited() -> Iterator[str]:
    RateLimited.arrivals = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RateLimited)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_429_holds_the_next_request_back_for_its_retry_after(rate_limited: str) -> None:
    limits = Limits(timeout=5)
    with BoundedSession(limits, Breakers(limits)) as session:
        assert session.get(rate_limited).status_code == 429  # the answer itself is the test's evidence
        assert session.get(rate_limited).status_code == 200
    first, second = RateLimited.arrivals
    assert second - first >= 0.95


def test_the_run_deadline_bounds_a_long_retry_after(rate_limited: str) -> None:
    limits = Limits(timeout=5, deadline=time.monotonic() + 0.3)
    breakers = Breakers(limits)
    breakers.back_off(MAX_BACK_OFF)
    started = time.monotonic()
    breakers.wait_for_rate_limit()
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "value, seconds",
    [("2", 2.0), (None, 1.0), ("", 1.0), ("soon", 1.0), ("99999", MAX_BACK_OFF), ("Wed, 21 Oct 2015 07:28:00 GMT", 0)],
)
def test_retry_after_is_read_as_seconds_or_a_date_within_bounds(value: str | None, seconds: float) -> None:
    assert retry_after(value) == seconds


# --- no verdict on part of a run -------------------------------------------------------------------


def test_a_worker_that_dies_leaves_no_verdict(tmp_path: Path) -> None:
    from test_plugin_records import run_suite

    code, outcome = run_suite(
        tmp_path,
        """
        import os

        @pytest.mark.requirement("R-LOY-01")
        def test_dies(run: Run):
            os._exit(3)  # the worker process is gone, and the records it held with it

        @pytest.mark.requirement("R-LOY-02")
        def test_fine(run: Run):
            pass
        """,
        *("-n", "2", "--dist", "loadgroup", "--max-worker-restart", "0"),
    )
    assert code != pytest.ExitCode.OK
    assert outcome.verdict is None, "a run that lost a worker's records must not be judged"
