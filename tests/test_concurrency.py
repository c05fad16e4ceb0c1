"""`--concurrency N`: the run's tests on N threads of one process, one judge on the records they all add to.

The proofs: a faulty variant behind a few milliseconds of latency reaches the same statuses on 4 threads as on one,
and the same seed gives the same run on 4 threads; a module's tests keep their order on one thread while the other
lanes run beside them; what needs order runs sequentially and says so; a rate limit (429 + Retry-After) holds back
every thread, and every process that shares the run's back-off file.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from conftest import run_here, start_service
from test_variants import REFERENCE_OPTIONS, VARIANTS
from test_variants import RUN_OPTIONS as VARIANT_OPTIONS

from conformance.fixtures.latency import LatencyProxy
from conformance.profiles import PROFILES
from conformance.transport import MAX_BACK_OFF, BoundedSession, Breakers, Limits, retry_after

RUN_OPTIONS = ["--max-examples", "5", "--seed", "20261127"]


def statuses(verdict: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in verdict["requirements"]}


def finding_keys(verdict: dict) -> list[tuple[str, str, int]]:
    return sorted((r["id"], f["key"], f["count"]) for r in verdict["requirements"] for f in r["findings"])


@pytest.mark.slow
def test_threads_reach_what_one_thread_reaches_and_a_seed_gives_the_same_run(tmp_path: Path) -> None:
    # A variant with findings, 5 ms away: the threads' answers interleave, and every finding needs its evidence.
    with start_service("loyalty", ("two-defects",)) as server:
        with LatencyProxy(("127.0.0.1", urlsplit(server.base_url).port or 443), 0.005) as proxy:
            url = f"https://127.0.0.1:{proxy.port}"
            arguments = ["run", "loyalty", "--base-url", url, "--ca-bundle", server.ca_bundle or "", "--reference-data"]
            arguments += RUN_OPTIONS
            one = run_here([*arguments, "--concurrency", "1"], tmp_path / "one")
            four = run_here([*arguments, "--concurrency", "4"], tmp_path / "four")
            again = run_here([*arguments, "--concurrency", "4"], tmp_path / "again")
    assert four.exit_code == one.exit_code == again.exit_code == 1, four.stdout + four.stderr
    assert ", 4 requests at a time ..." in four.stdout and "requests at a time" not in one.stdout
    sequential, threaded = one.verdict(), four.verdict()
    assert statuses(threaded) == statuses(sequential)
    assert threaded["verdict"] == sequential["verdict"]
    # The failing requirements' findings arrive whole from every thread: each with its exchange and curl line.
    failing = [r for r in threaded["requirements"] if r["status"] == "fail"]
    assert failing and all(r["findings"] and r["findings"][0]["exchange"]["curl"] for r in failing)
    # At a given concurrency the seed decides the run: the same requests, statuses and findings.
    reproduced = again.verdict()
    assert statuses(reproduced) == statuses(threaded)
    assert reproduced["exchanges"] == threaded["exchanges"]
    assert finding_keys(reproduced) == finding_keys(threaded)
    rows = four.html_rows()  # every row names its requirements; a failed one says what its finding says
    assert rows and all('<td class="col-requirements">R-' in row["resultsTableRow"][2] for row in rows)
    failed = [row for row in rows if row["result"] == "Failed"]
    assert failed and all(row["log"].endswith("see Findings above") for row in failed)


@pytest.mark.parametrize("latency, threads", [(0.002, 1), (0.012, 2), (0.05, 10), (0.2, 16), (3.0, 16)])
def test_auto_keeps_a_request_in_flight_per_5_ms_of_latency_from_1_to_16(latency: float, threads: int) -> None:
    from conformance.cli.run import auto_concurrency

    assert auto_concurrency(latency) == threads


# The proofs over every variant and reference (`nox -s proofs`): threads change neither a status nor, on a reference,
# more than 5 % of the requests. The variants at their proof budget, the references at the default one.
ON_THREADS = [api for api in sorted(PROFILES) if not PROFILES[api].sequential_because]


@pytest.mark.proof
@pytest.mark.parametrize("api, fault", [param for param in VARIANTS if param.values[0] in ON_THREADS])
def test_threads_reach_the_statuses_of_one_thread_on_every_faulty_variant(api: str, fault, tmp_path: Path) -> None:
    arguments = ["run", api, "--fault", fault.name, *VARIANT_OPTIONS, *fault.run_options]
    one = run_here([*arguments, "--concurrency", "1"], tmp_path / "one")
    four = run_here([*arguments, "--concurrency", "4"], tmp_path / "four")
    assert four.exit_code == one.exit_code, four.stdout + four.stderr
    assert statuses(four.verdict(api)) == statuses(one.verdict(api))


@pytest.mark.proof
@pytest.mark.parametrize("api", ON_THREADS)
def test_threads_reach_the_statuses_and_requests_of_one_thread_on_every_reference(api: str, tmp_path: Path) -> None:
    one = run_here(["run", api, *REFERENCE_OPTIONS, "--concurrency", "1"], tmp_path / "one")
    four = run_here(["run", api, *REFERENCE_OPTIONS, "--concurrency", "4"], tmp_path / "four")
    assert four.exit_code == one.exit_code == 0, four.stdout + four.stderr
    assert statuses(four.verdict(api)) == statuses(one.verdict(api))
    sequential, threaded = (result.verdict(api)["exchanges"]["answered"] for result in (one, four))
    assert abs(threaded - sequential) <= 0.05 * sequential


@pytest.mark.slow
def test_an_order_bound_suite_runs_sequentially_and_says_why(tmp_path: Path) -> None:
    result = run_here(["run", "push", "--max-examples", "1", "--seed", "3", "--concurrency", "4"], tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "push runs one request at a time: the callback round" in result.stdout
    assert "service ..." in result.stdout


def test_a_module_keeps_its_order_on_one_thread_while_other_lanes_run_beside_it(tmp_path: Path) -> None:
    from test_plugin_records import run_suite

    code, outcome = run_suite(
        tmp_path,
        """
        import threading, time
        from conformance.suites.support import examined

        SEEN = []  # (test, thread, start, end)

        def note(name, run):
            start = time.monotonic()
            time.sleep(0.1)
            SEEN.append((name, threading.get_ident(), start, time.monotonic()))
            examined(run, f"when {name} ran")

        @pytest.fixture(scope="module")
        def account():
            return "one per module"

        @pytest.mark.requirement("R-LOY-01")
        def test_first(run: Run):
            note("first", run)

        @pytest.mark.requirement("R-LOY-01")
        @pytest.mark.any_order
        def test_free_a(run: Run):
            note("free_a", run)

        @pytest.mark.requirement("R-LOY-01")
        def test_second(run: Run):
            note("second", run)

        @pytest.mark.requirement("R-LOY-01")
        @pytest.mark.any_order
        def test_free_b(run: Run):
            note("free_b", run)

        @pytest.mark.requirement("R-LOY-01")
        @pytest.mark.any_order
        def test_shares_the_module_fixture(account, run: Run):
            note("shares", run)

        @pytest.mark.requirement("R-LOY-01")
        def test_third(run: Run):
            note("third", run)
            by = {name: (thread, start, end) for name, thread, start, end in SEEN}
            in_order = ["first", "second", "shares", "third"]  # a module fixture keeps its user in the module's lane
            assert [name for name, *_ in SEEN if name in in_order] == in_order
            assert len({by[name][0] for name in in_order}) == 1, "the module's tests ran on more than one thread"
            assert all(by[a][2] <= by[b][1] for a, b in zip(in_order, in_order[1:])), "they overlapped"
            assert by["free_a"][0] != by["free_b"][0] != by["first"][0], "the free tests did not run on threads"
            assert by["free_a"][1] < by["first"][2] and by["free_b"][1] < by["first"][2], "nothing ran beside"
        """,
        "--conformance-concurrency",
        "4",
    )
    assert code == pytest.ExitCode.OK  # test_third's assertions held
    tests = {record.test.rsplit("::", 1)[-1] for record in outcome.records if record.status == "pass"}
    assert len(tests) == 6 and "test_third" in tests


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


def test_a_429_holds_back_every_thread(rate_limited: str) -> None:
    limits = Limits(timeout=5)
    breakers = Breakers(limits, concurrency=4)  # one run's: every session of every thread shares them
    sessions = [BoundedSession(limits, breakers) for _ in range(4)]
    assert sessions[0].get(rate_limited).status_code == 429
    threads = [threading.Thread(target=session.get, args=(rate_limited,)) for session in sessions[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, *others = RateLimited.arrivals
    assert len(others) == 3 and all(arrival - first >= 0.95 for arrival in others)


def test_a_429_holds_back_every_process_of_the_run(rate_limited: str, tmp_path: Path) -> None:
    # Two processes' breakers: nothing in common but the run's back-off file (an xdist worker gets its path).
    limits = Limits(timeout=5)
    shared = tmp_path / "back-off"
    worker_one, worker_two = Breakers(limits, back_off_file=shared), Breakers(limits, back_off_file=shared)
    assert BoundedSession(limits, worker_one).get(rate_limited).status_code == 429
    assert BoundedSession(limits, worker_two).get(rate_limited).status_code == 200
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
