"""The Locust side of `conformance load`: what each generator sends, and how the master collects what came back.

This file runs only inside Locust's own processes (`python -m locust -f <this file>`), which gevent patches; the
`conformance` command starts them and never imports it. Nothing here judges: a worker counts every answer in a
`Tally` and hands it to the master every second and when it stops; the master adds them up and, as it quits,
writes the sum and why the run stopped to the file the command reads (`--conformance-results`).

A worker sends only to the base URL its own command line allows (`CONFORMANCE_LOAD_BASE_URL`), with the
credentials of its own environment (`CONFORMANCE_USERNAME` / `CONFORMANCE_PASSWORD`); the master's plan carries
neither a secret nor, for a worker, the authority to send elsewhere.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
from collections import Counter
from email.utils import parsedate_to_datetime
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from conformance.load.plan import LoadPlan
from conformance.load.tally import (
    ACCEPTED,
    REFUSED,
    SAMPLE_HEADERS,
    SERVER_ERROR,
    UNANSWERED,
    Tally,
    classify,
    recipients_accepted,
)
from conformance.report.masking import Masker

HAND_OVER_EVERY = 1.0  # seconds between a worker's hand-overs of what it counted
BURST = 10  # 5xx answers in a row on one generator: the host is failing, the run stops
DRAIN_GRACE = 1.0  # seconds past the answer timeout a stopping worker waits for requests in flight
CATCH_UP = 1.0  # seconds of sends a late simulated user makes up for

# Why a run stopped (the command turns each into a sentence).
DURATION, MAX_REQUESTS, SERVER_ERROR_BURST, REFUSED_PLAN, NO_CREDENTIALS = (
    "duration",
    "max-requests",
    "5xx-burst",
    "refused-plan",
    "no-credentials",
)


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    # Locust hands the master's custom options to every worker when the test starts.
    parser.add_argument("--conformance-plan", default="", include_in_web_ui=False, help="the load plan (JSON)")
    parser.add_argument("--conformance-results", default="", include_in_web_ui=False, help="master: results file")


# --- a worker: one generator ----------------------------------------------------------------------------------------


def _masker() -> Masker:
    username, password = os.environ.get("CONFORMANCE_USERNAME"), os.environ.get("CONFORMANCE_PASSWORD")
    masker = Masker()
    if username and password:
        masker.add_basic(username, password)
    return masker


class Generator:
    """The state of one worker process: its plan, what it counted, how many it sent, and whether it is stopping."""

    def __init__(self) -> None:
        self.plan: LoadPlan | None = None
        self.tally = Tally()
        self.body = b""
        self.headers: dict[str, str] = {}
        self.share = 0
        self.sent = 0
        self.in_flight = 0
        self.server_errors_in_a_row = 0
        self.closing: str | None = None  # why this generator stops sending
        self.closed_at = 0.0
        self.started = 0.0
        self.runner: Any = None
        self.cpu_at_start = 0.0
        self.started_monotonic = 0.0
        self.masker = _masker()  # a sample answer is masked before it is cut or kept (conformance.ingest's rule)

    def close(self, reason: str) -> None:
        if self.closing is None:
            self.closing, self.closed_at = reason, time.time()


GENERATOR = Generator()


def _credentials_header() -> str | None:
    username, password = os.environ.get("CONFORMANCE_USERNAME"), os.environ.get("CONFORMANCE_PASSWORD")
    if not username or password is None:
        return None
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")  # UTF-8, as the suite sends it
    return f"Basic {token}"


def _retry_after(value: str | None) -> float | None:
    """Seconds a refusal's Retry-After asks for (delta-seconds or an HTTP date), None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to str.isdigit, and no number to float()
        return min(float(value), 86400.0)
    try:
        return max(0.0, min(parsedate_to_datetime(value).timestamp() - time.time(), 86400.0))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    return None if value is None else str(value)


def _ssl_context() -> ssl.SSLContext:
    bundle = os.environ.get("CONFORMANCE_LOAD_CA_BUNDLE") or None
    return ssl.create_default_context(cafile=bundle)


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        return
    generator = GENERATOR
    plan = LoadPlan.from_json(environment.parsed_options.conformance_plan)
    generator.plan, generator.started, generator.runner = plan, time.time(), runner
    generator.cpu_at_start, generator.started_monotonic = time.process_time(), time.monotonic()
    generator.body = plan.body()
    generator.share = plan.share_of_requests(max(runner.worker_index, 0))
    allowed = os.environ.get("CONFORMANCE_LOAD_BASE_URL", "")
    authorization = _credentials_header()
    if plan.base_url != allowed:  # the master asked for another target than this worker was started for
        generator.close(REFUSED_PLAN)
    elif authorization is None:
        generator.close(NO_CREDENTIALS)
    else:
        generator.headers = {"Authorization": authorization, "Content-Type": "application/json"}
    Sender.host = plan.base_url
    Sender.network_timeout = Sender.connection_timeout = plan.timeout
    gevent.spawn(_control, runner)


def _control(runner: Any) -> None:
    """Close at the end of the duration, hand over the tally every second, and report once nothing is in flight."""
    generator = GENERATOR
    plan = generator.plan
    assert plan is not None
    handed_over = time.time()
    while True:
        gevent.sleep(0.1)
        now = time.time()
        if generator.closing is None and now >= generator.started + plan.duration:
            generator.close(DURATION)
        if now - handed_over >= HAND_OVER_EVERY:
            runner.send_message("conformance_tally", generator.tally.drain())
            handed_over = now
        if generator.closing is not None and (
            generator.in_flight == 0 or now > generator.closed_at + plan.timeout + DRAIN_GRACE
        ):
            break
    runner.send_message(
        "conformance_done",
        {
            "worker": runner.worker_index,
            "reason": generator.closing,
            "sent": generator.sent,
            "in_flight": generator.in_flight,
            "cpu_seconds": round(time.process_time() - generator.cpu_at_start, 3),  # what sending cost: sizing
            "tally": generator.tally.drain(),
        },
    )


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message("conformance_close", lambda environment, msg, **kw: GENERATOR.close(msg.data))
    elif isinstance(runner, MasterRunner):
        Collector(environment).listen()


class Sender(FastHttpUser):
    """One simulated partner connection: sends the plan's message on a fixed schedule (so the rate does not drift
    with the answers' latency), never follows a redirect, verifies TLS."""

    insecure = False
    ssl_context_factory = staticmethod(_ssl_context)
    max_retries = 0
    concurrency = 1

    def on_start(self) -> None:
        # Every user's schedule starts with its generator's run: one spawned late makes up for it (within CATCH_UP).
        self._next = max(GENERATOR.started_monotonic, time.monotonic() - CATCH_UP)

    def wait_time(self) -> float:
        plan = GENERATOR.plan
        interval = 1.0 / plan.per_user_rate if plan else 1.0
        now = time.monotonic()
        # A late answer is made up for within CATCH_UP seconds (a stalled generator keeps the rate); beyond, lost.
        self._next = max(self._next + interval, now - CATCH_UP)
        return max(0.0, self._next - now)

    @task
    def send(self) -> None:
        generator = GENERATOR
        plan = generator.plan
        if plan is None or generator.closing is not None:
            raise StopUser()
        if generator.sent >= generator.share:
            generator.close(MAX_REQUESTS)
            raise StopUser()
        generator.sent += 1  # counted before the request leaves: --max-requests is a hard bound
        generator.in_flight += 1
        started_wall, started = time.time(), time.perf_counter()
        try:
            with self.client.request(
                "POST",
                plan.path,
                data=generator.body,
                headers=generator.headers,
                catch_response=True,
                allow_redirects=False,
                name=plan.path,
            ) as response:
                response.success()  # the conformance command judges the answers, not Locust
                _count(generator, plan, response, started_wall, time.perf_counter() - started)
        finally:
            generator.in_flight -= 1


def _count(generator: Generator, plan: LoadPlan, response: Any, started_wall: float, elapsed: float) -> None:
    status = response.status_code or None
    body = (response.content or b"") if status is not None else b""
    kind = classify(status, body)
    answer_headers = response.headers  # case-insensitive; a header given twice reads as a tuple
    headers = {name: _header(answer_headers, name) for name in SAMPLE_HEADERS} if answer_headers else {}
    retry_after = _retry_after(headers.get("Retry-After")) if kind == REFUSED else None
    recipients = recipients_accepted(body, plan.recipients_per_request) if kind == ACCEPTED else 0
    at = started_wall + elapsed / 2  # the host decided somewhere between sending and answering
    generator.tally.add(
        at,
        kind,
        recipients=recipients,
        status=status,
        latency=elapsed if status is not None else None,
        retry_after=retry_after,
    )
    if generator.tally.wants_sample(kind):
        shown = generator.masker.headers({name: value for name, value in headers.items() if value is not None})
        note = type(getattr(response, "error", None)).__name__ if kind == UNANSWERED else ""
        generator.tally.sample(kind, status, shown, generator.masker.data(body), note)
    generator.server_errors_in_a_row = generator.server_errors_in_a_row + 1 if kind == SERVER_ERROR else 0
    if generator.server_errors_in_a_row >= BURST and generator.closing is None:
        generator.close(SERVER_ERROR_BURST)
        generator.runner.send_message("conformance_burst", SERVER_ERROR_BURST)  # the master stops every generator


# --- the master: adds up what the workers counted ---------------------------------------------------------------------


class Collector:
    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.tally = Tally()
        self.done: dict[str, dict[str, Any]] = {}
        self.reasons: Counter[str] = Counter()
        self.started = time.time()
        self.quitting = False

    @property
    def plan(self) -> LoadPlan:
        return LoadPlan.from_json(self.environment.parsed_options.conformance_plan)

    def listen(self) -> None:
        runner = self.environment.runner
        runner.register_message("conformance_tally", self.on_tally)
        runner.register_message("conformance_done", self.on_done)
        runner.register_message("conformance_burst", self.on_burst)
        self.environment.events.test_start.add_listener(self.on_test_start)
        self.environment.events.quitting.add_listener(self.on_quitting)

    def on_test_start(self, **_: Any) -> None:
        self.started = time.time()

    def on_tally(self, environment: Any, msg: Any, **_: Any) -> None:
        self.tally.merge(msg.data)

    def on_done(self, environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data
        self.tally.merge(data.get("tally", {}))
        self.done[str(msg.node_id)] = {k: data.get(k) for k in ("worker", "reason", "sent", "in_flight", "cpu_seconds")}
        self.reasons[str(data.get("reason"))] += 1
        if len(self.done) >= self.plan.workers and not self.quitting:
            self.quitting = True
            self.write(environment, complete=True)  # the command reads it at once: no need to wait for the quit
            gevent.spawn(environment.runner.quit)

    def on_burst(self, environment: Any, msg: Any, **_: Any) -> None:
        self.reasons[str(msg.data)] += 0  # named even if the worker that saw it never reports its end
        environment.runner.send_message("conformance_close", str(msg.data))

    def on_quitting(self, environment: Any, **_: Any) -> None:
        if not self.quitting:  # stopped before every worker reported (the hard bound, Ctrl-C): what there is
            self.write(environment, complete=False)

    def write(self, environment: Any, *, complete: bool) -> None:
        path = environment.parsed_options.conformance_results
        if not path:
            return
        results = {
            "complete": complete,
            "started": self.started,
            "ended": time.time(),
            "workers_expected": self.plan.workers,
            "workers_done": list(self.done.values()),
            "reasons": dict(self.reasons),
            "tally": self.tally.as_dict(),
        }
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as file:
            json.dump(results, file)
        os.replace(partial, path)  # the command never reads a half-written file
