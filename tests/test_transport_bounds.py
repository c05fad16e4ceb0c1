"""The transport's bounds, one at a time: what a Retry-After is worth, when the breakers refuse a request, how a
429 holds the run back (never past its deadline), the watchdog that cuts an answer at its time, the body cap after
decompression, and what an exchange that hit a bound tells the run's observer. Raw servers on 127.0.0.1."""

from __future__ import annotations

import email.utils
import gzip
import io
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from hostile.servers import raw_server, read_request
from urllib3 import HTTPResponse

from conformance import transport
from conformance.plugin import Interruption
from conformance.transport import (
    DEFAULT_BACK_OFF,
    MAX_BACK_OFF,
    AnswerDeadline,
    AnswerTooLarge,
    BoundedSession,
    Breakers,
    Limits,
    NotSent,
    RunDeadline,
    Watchdog,
    cause_of,
    retry_after,
)

# --- Retry-After --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, seconds",
    [("0", 0.0), ("7", 7.0), (" 7\t", 7.0), ("60", 60.0), ("61", MAX_BACK_OFF), ("9" * 400, MAX_BACK_OFF)],
)
def test_retry_after_in_seconds_is_honoured_up_to_a_minute(value: str, seconds: float) -> None:
    assert retry_after(value) == seconds


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = time.time()
    in_ten = email.utils.formatdate(now + 10, usegmt=True)
    assert retry_after(in_ten, now=now) == pytest.approx(10, abs=1)
    assert retry_after(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0
    assert retry_after(email.utils.formatdate(now + 3600, usegmt=True), now=now) == MAX_BACK_OFF
    assert 8 <= retry_after(in_ten) <= 10  # without `now`: the clock's now
    then = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=then) == 30.0  # `now` is the clock it counts from


@pytest.mark.parametrize(
    "value", [None, "", "soon", "-5", "5X", "X5", "\xa05", "5\x0b", "Thu, 32 Foo 2024 00:00:00 GMT"]
)  # only spaces and tabs surround a header's value
def test_a_retry_after_that_is_neither_waits_the_default(value: str | None) -> None:
    assert retry_after(value) == DEFAULT_BACK_OFF == 1.0


# --- breakers -----------------------------------------------------------------------------------------------------


def test_a_test_whose_requests_go_unanswered_is_refused_after_its_limit() -> None:
    breakers = Breakers(Limits(per_test_unanswered=2, run_unanswered=100))
    breakers.unanswered("test_a")
    assert breakers.refusal("test_a") is None
    breakers.unanswered("test_a")
    refusal = breakers.refusal("test_a")
    assert isinstance(refusal, NotSent) and str(refusal) == "not sent: 2 earlier requests of this test got no answer"
    assert breakers.refusal("test_b") is None  # another test still gets its chances
    breakers.answered()
    assert breakers.refusal("test_a") is not None  # an answer to another test gives this one nothing back


def test_an_operation_that_goes_unanswered_is_refused_until_it_answers_again() -> None:
    breakers = Breakers(Limits(per_test_unanswered=100, per_operation_unanswered=3, run_unanswered=100))
    for test in ("t1", "t2"):
        breakers.unanswered(test, "GET /v1/card")
    assert breakers.refusal("t3", "GET /v1/card") is None
    breakers.unanswered("t3", "GET /v1/card")
    refusal = breakers.refusal("t4", "GET /v1/card")
    assert str(refusal) == "not sent: 3 earlier requests to GET /v1/card got no answer"
    assert breakers.refusal("t4", "POST /v1/promo/qrCode") is None
    assert breakers.refusal("t4") is None  # a request no operation documents is not held back by one
    breakers.answered("POST /v1/promo/qrCode")
    assert breakers.refusal("t4", "GET /v1/card") is not None
    breakers.answered("GET /v1/card")
    assert breakers.refusal("t4", "GET /v1/card") is None


def test_a_run_whose_requests_go_unanswered_in_a_row_is_refused_until_one_answers() -> None:
    breakers = Breakers(Limits(per_test_unanswered=100, run_unanswered=3))
    breakers.unanswered("t1", "")
    breakers.unanswered("t2", "")
    assert breakers.refusal("t9") is None
    breakers.answered()
    breakers.unanswered("t3")
    breakers.unanswered("t4")
    assert breakers.refusal("t9") is None  # the answer in between reset the row
    breakers.unanswered("t5")
    assert str(breakers.refusal("t9")) == "not sent: the last 3 requests got no answer"
    assert breakers.per_operation == {}  # requests without an operation count against none


def test_a_limit_of_one_unanswered_request_still_lets_the_first_one_go() -> None:
    breakers = Breakers(Limits(per_test_unanswered=1, per_operation_unanswered=1, run_unanswered=100))
    assert breakers.refusal("t1", "GET /v1/card") is None
    breakers.unanswered("t1", "GET /v1/card")
    assert breakers.refusal("t1", "POST /other") is not None
    assert breakers.refusal("t2", "GET /v1/card") is not None
    assert breakers.refusal("t2", "POST /other") is None


def test_past_the_run_deadline_no_request_is_sent() -> None:
    breakers = Breakers(Limits(deadline=time.monotonic() - 0.001))
    assert isinstance(breakers.refusal("t"), RunDeadline)
    assert str(breakers.refusal("t")) == "the run deadline was reached before this request"
    assert breakers.refusal("t") is not None
    assert Breakers(Limits(deadline=time.monotonic() + 60)).refusal("t") is None


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses a 429 asks for, recorded instead of slept: a clock of its own moves on by each (the hold is read
    again after a pause, as another thread's 429 may have come meanwhile)."""
    slept: list[float] = []
    clock = [time.monotonic()]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(transport.time, "sleep", sleep)
    monkeypatch.setattr(transport.time, "monotonic", lambda: clock[0])
    return slept


def test_a_back_off_holds_the_next_request_for_its_time(pauses: list[float]) -> None:
    breakers = Breakers(Limits())
    breakers.wait_for_rate_limit()
    assert pauses == []
    breakers.back_off(30)
    breakers.back_off(5)  # a shorter back-off never shortens a longer one
    breakers.wait_for_rate_limit()
    assert len(pauses) == 1 and 29 < pauses[0] <= 30


def test_a_back_off_never_holds_the_run_past_its_deadline(pauses: list[float]) -> None:
    breakers = Breakers(Limits(deadline=time.monotonic() + 2))
    breakers.back_off(30)
    breakers.wait_for_rate_limit()
    assert len(pauses) == 1 and 1 < pauses[0] <= 2
    soon = Breakers(Limits(deadline=time.monotonic() + 0.1))
    soon.back_off(0.8)  # a short back-off is bounded by the deadline too
    soon.wait_for_rate_limit()
    assert len(pauses) == 2 and pauses[1] <= 0.1 + 1e-9
    late = Breakers(Limits(deadline=time.monotonic() - 1))
    late.back_off(30)
    late.wait_for_rate_limit()
    assert len(pauses) == 2  # already past it: no pause at all


# --- the watchdog ------------------------------------------------------------------------------------------------


@contextmanager
def connected() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_watchdog_cuts_an_exchange_at_its_time_and_not_before() -> None:
    watchdog = Watchdog()
    with connected() as (ours, theirs):
        holder: dict[str, Any] = {"sockets": [ours]}
        started = time.monotonic()
        watchdog.arm(0.2, holder)
        assert not holder.get("fired")
        assert wait_for(lambda: holder.get("fired", False))
        assert 0.15 < time.monotonic() - started < 1.5
        assert ours.recv(1) == b""  # shut down: a read returns at once
        assert theirs.recv(1) == b""


def test_a_disarmed_exchange_is_never_cut() -> None:
    watchdog = Watchdog()
    with connected() as (ours, _):
        holder: dict[str, Any] = {"sockets": [ours]}
        watchdog.arm(0.05, holder)
        watchdog.disarm(holder)
        after = {"sockets": []}
        watchdog.arm(0.2, after)  # the watchdog goes on past the disarmed one
        assert wait_for(lambda: after.get("fired", False))
        assert not holder.get("fired")
        ours.setblocking(False)
        with pytest.raises(BlockingIOError):
            ours.recv(1)  # still open: nothing to read, and no end of stream


def test_a_nearer_deadline_armed_later_is_kept_first() -> None:
    watchdog = Watchdog()
    far, near = {"sockets": []}, {"sockets": []}
    watchdog.arm(30, far)
    started = time.monotonic()
    watchdog.arm(0.1, near)
    assert wait_for(lambda: near.get("fired", False))
    assert time.monotonic() - started < 1.5
    assert not far.get("fired")
    watchdog.disarm(far)


def test_deadlines_are_kept_in_their_order_whatever_the_order_they_were_armed_in() -> None:
    watchdog = Watchdog()
    holders = [{"sockets": []} for _ in range(3)]
    for holder, seconds in zip(holders, (0.3, 0.1, 0.2), strict=True):
        watchdog.arm(seconds, holder)
    assert wait_for(lambda: holders[1].get("fired", False))
    assert not holders[0].get("fired")
    assert wait_for(lambda: all(holder.get("fired") for holder in holders))


def watchdog_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "conformance-watchdog"}


def test_one_daemon_thread_watches_every_deadline_and_ends_when_idle() -> None:
    before = watchdog_threads()
    watchdog = Watchdog(idle=0.1)
    holders = [{"sockets": []} for _ in range(4)]
    for holder in holders:
        watchdog.arm(0.05, holder)
    (thread,) = watchdog_threads() - before
    assert thread.daemon  # it never holds the process open
    assert wait_for(lambda: all(holder.get("fired") for holder in holders))
    assert wait_for(lambda: not thread.is_alive())  # idle: it ended
    later = {"sockets": []}
    watchdog.arm(0.05, later)  # the next exchange starts another
    assert wait_for(lambda: later.get("fired", False))


def test_an_idle_watchdog_still_cuts_the_next_exchange() -> None:
    watchdog = Watchdog(idle=30)
    first, second = {"sockets": []}, {"sockets": []}
    watchdog.arm(0.01, first)
    assert wait_for(lambda: first.get("fired", False))
    time.sleep(0.05)  # nothing left to watch: the thread waits
    watchdog.arm(0.05, second)
    assert wait_for(lambda: second.get("fired", False))


def test_a_deadline_that_passes_before_the_exchange_connected_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    errors: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    watchdog = Watchdog()
    holder: dict[str, Any] = {}  # no socket held yet
    watchdog.arm(0.01, holder)
    assert wait_for(lambda: holder.get("fired", False))
    after = {"sockets": []}
    watchdog.arm(0.05, after)
    assert wait_for(lambda: after.get("fired", False))
    assert errors == []  # the watchdog's thread did not die on it


def test_a_socket_connected_after_its_deadline_is_cut_at_once() -> None:
    with connected() as (ours, _):
        transport._in_flight.holder = {"fired": True}
        try:
            transport._hold(ours)
        finally:
            transport._in_flight.holder = None
        assert ours.recv(1) == b""
    transport._hold(None)  # outside an exchange: nothing to hold


# --- the session: bounds on each exchange -----------------------------------------------------------------------


class Seen:
    """What the run's observer was handed, one (status or None, error class name or None) per exchange, and the
    requests."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[int | None, str | None]] = []
        self.requests: list[str] = []

    def __call__(self, request: Any, response: Any, error: BaseException | None) -> None:
        self.exchanges.append(
            (response.status_code if response is not None else None, type(error).__name__ if error else None)
        )
        self.requests.append(f"{request.method} {request.path_url}")


def session(limits: Limits, seen: Seen | None = None, test: str = "test_x") -> BoundedSession:
    breakers = Breakers(limits, lambda method, path: f"{method} {path}")
    return BoundedSession(limits, breakers, observer=seen, current_test=lambda: test)


def answering(*answers: bytes) -> Callable[[socket.socket, int], None]:
    """Each request on a connection gets the next answer (the last one again once they run out)."""

    def handler(conn: socket.socket, number: int) -> None:
        index = 0
        while read_request(conn):
            conn.sendall(answers[min(index, len(answers) - 1)])
            index += 1

    return handler


def ok(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{header}\r\n" for header in headers)
    return f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def budget_of(timeout: BaseException) -> float:
    """The seconds a timeout's message names: the watchdog's ("within 0.3 s") or the socket's ("timeout=0.3")."""
    found = re.search(r"within ([0-9.e-]+) s|timeout=([0-9.e-]+)", str(timeout))
    assert found is not None, str(timeout)
    return float(found.group(1) or found.group(2))


def test_a_body_of_exactly_max_body_is_read_and_one_byte_more_is_not() -> None:
    with raw_server(answering(ok(b"x" * 1000), ok(b"x" * 1001))) as server, session(Limits(max_body=1000)) as s:
        assert s.get(server.url).content == b"x" * 1000
        with pytest.raises(AnswerTooLarge) as raised:
            s.get(server.url)
    assert raised.value.response.status_code == 200
    assert cause_of(raised.value) == "body over --max-body"
    assert str(raised.value) == "the body is larger than 1000 bytes (--max-body); it was not read further"


def test_the_body_cap_holds_after_decompression() -> None:
    bomb = gzip.compress(b"0" * 200_000)
    assert len(bomb) < 1000
    with (
        raw_server(answering(ok(bomb, "Content-Encoding: gzip"))) as server,
        session(Limits(max_body=100_000)) as s,
    ):
        with pytest.raises(AnswerTooLarge):
            s.get(server.url)
    with raw_server(answering(ok(bomb, "Content-Encoding: gzip"))) as server, session(Limits(max_body=200_000)) as s:
        assert len(s.get(server.url).content) == 200_000


def test_an_answer_read_whole_leaves_its_connection_for_the_next_and_a_cut_one_does_not() -> None:
    answers = answering(ok(b"{}"), ok(b"{}"), ok(b"x" * 200_000), ok(b"{}"))
    with raw_server(answers) as server, session(Limits(max_body=1000)) as s:
        assert [s.get(server.url).status_code for _ in range(2)] == [200, 200]
        assert server.connections == 1
        with pytest.raises(AnswerTooLarge):
            s.get(server.url)
        assert s.get(server.url).status_code == 200
        assert server.connections == 2  # unread bytes of the cut answer: its connection never went back to the pool


def test_a_body_cut_short_or_undecodable_is_no_answer_with_its_cause() -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10

    def cut_then_close(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(cut)

    garbled = ok(b"this is not gzip at all", "Content-Encoding: gzip")
    seen = Seen()
    with session(Limits(), seen) as s:
        with raw_server(cut_then_close) as server, pytest.raises(requests.exceptions.ChunkedEncodingError) as short:
            s.get(server.url)
        with raw_server(answering(garbled)) as server, pytest.raises(requests.exceptions.ContentDecodingError) as bad:
            s.get(server.url)
    assert (cause_of(short.value), cause_of(bad.value)) == ("broken body framing", "undecodable body")
    assert "IncompleteRead" in str(short.value) and "decompressing" in str(bad.value)  # what went wrong, kept
    assert seen.exchanges == [(None, "ChunkedEncodingError"), (None, "ContentDecodingError")]
    assert seen.requests == ["GET /", "GET /"]


def test_an_answer_that_never_comes_is_cut_at_the_timeout_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    def silent(conn: socket.socket, number: int) -> None:
        read_request(conn)
        time.sleep(3)

    seen = Seen()
    limits = Limits(timeout=0.3, per_test_unanswered=5)
    with raw_server(silent) as server, session(limits, seen) as s:
        started = time.monotonic()
        with pytest.raises(requests.exceptions.Timeout) as raised:  # the watchdog's cut, or the socket's own timeout
            s.get(server.url + "/v1/card")
        assert time.monotonic() - started < 2
        assert cause_of(raised.value) == "timeout" and budget_of(raised.value) == pytest.approx(0.3, abs=0.01)
        assert s.breakers.per_test == {"test_x": 1}
        assert s.breakers.per_operation == {"GET /v1/card": 1}
        assert s.breakers.in_a_row == 1
    assert seen.exchanges in ([(None, "AnswerDeadline")], [(None, "ReadTimeout")])
    assert seen.requests == ["GET /v1/card"]


def test_the_run_deadline_shortens_the_answers_timeout() -> None:
    def silent(conn: socket.socket, number: int) -> None:
        read_request(conn)
        time.sleep(3)

    limits = Limits(timeout=10, deadline=time.monotonic() + 0.3)
    breakers = Breakers(limits)
    with raw_server(silent) as server, BoundedSession(limits, breakers) as s:
        started = time.monotonic()
        with pytest.raises(RunDeadline) as raised:  # the user's bound cut it: no timeout of the service's
            s.get(server.url)
        assert time.monotonic() - started < 2
    assert "run deadline" in str(raised.value) and breakers.in_a_row == 0


def test_a_request_the_breakers_refuse_is_never_sent_and_the_observer_is_told() -> None:
    seen = Seen()
    with raw_server(answering(ok(b"{}"))) as server, session(Limits(deadline=time.monotonic() - 1), seen) as s:
        with pytest.raises(RunDeadline):
            s.get(server.url + "/v1/card")
        assert server.connections == 0
    assert seen.exchanges == [(None, "RunDeadline")]
    assert seen.requests == ["GET /v1/card"]


def test_the_breakers_of_a_test_and_of_an_operation_hold_its_requests_back() -> None:
    def silent(conn: socket.socket, number: int) -> None:
        read_request(conn)
        time.sleep(2)

    limits = Limits(timeout=0.1, per_test_unanswered=2, per_operation_unanswered=3, run_unanswered=100)
    breakers = Breakers(limits, lambda method, path: f"{method} {path}")
    current = ["test_a"]
    with raw_server(silent) as server:
        s = BoundedSession(limits, breakers, current_test=lambda: current[0])
        for _ in range(2):
            with pytest.raises(requests.exceptions.Timeout):
                s.get(server.url + "/one")
        with pytest.raises(NotSent, match="2 earlier requests of this test"):
            s.get(server.url + "/two")  # the test's breaker, whatever the operation
        current[0] = "test_b"
        with pytest.raises(requests.exceptions.Timeout):
            s.get(server.url + "/one")
        with pytest.raises(NotSent, match="3 earlier requests to GET /one"):
            s.get(server.url + "/one")  # the operation's breaker, whatever the test
        assert server.connections == 3


def test_an_answer_resets_the_breakers_and_a_429_holds_the_run_back(pauses: list[float]) -> None:
    too_many = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 2\r\n\r\n{}"
    seen = Seen()
    with raw_server(answering(too_many, ok(b"{}"))) as server, session(Limits(), seen) as s:
        s.breakers.unanswered("test_x", "GET /v1/card")
        assert s.get(server.url + "/v1/card").status_code == 429
        assert (s.breakers.in_a_row, s.breakers.per_operation) == (0, {})
        assert 6 < s.breakers.not_before - time.monotonic() <= 7
        assert s.get(server.url + "/v1/card").status_code == 200
    assert len(pauses) == 1 and 6 < pauses[0] <= 7
    assert seen.exchanges == [(429, None), (200, None)]
    assert seen.requests == ["GET /v1/card", "GET /v1/card"]


def test_a_body_read_by_the_session_is_there_for_every_reader() -> None:
    with raw_server(answering(ok(b'{"a": 1}'))) as server, session(Limits()) as s:
        response = s.get(server.url)
    assert b"".join(response.iter_content(3)) == b'{"a": 1}'
    assert response.json() == {"a": 1}


def test_a_connection_never_accepted_is_cut_at_the_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = socket.create_connection(listener.getsockname())  # the one the backlog holds: the next one waits
    try:
        with session(Limits(timeout=0.3)) as s:
            started = time.monotonic()
            with pytest.raises(requests.exceptions.Timeout) as raised:
                s.get(f"http://127.0.0.1:{listener.getsockname()[1]}/")
            assert time.monotonic() - started < 2
        assert cause_of(raised.value) == "timeout"
    finally:
        queued.close()
        listener.close()


def test_a_redirect_is_the_answer() -> None:
    moved = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n"
    with raw_server(answering(moved)) as server, session(Limits()) as s:
        response = s.get(server.url)
        assert (response.status_code, response.headers["Location"]) == (302, "http://127.0.0.1:9/elsewhere")
        assert server.connections == 1


def test_sessions_on_threads_each_keep_their_own_deadline() -> None:
    """The watchdog's holder is per thread: a slow exchange on one thread never cuts a quick one on another."""

    def slow_or_quick(conn: socket.socket, number: int) -> None:
        head = read_request(conn)
        if b"/slow" in head:
            time.sleep(3)
        conn.sendall(ok(b"{}"))

    results: dict[str, object] = {}
    with raw_server(slow_or_quick) as server:

        def fetch(path: str, timeout: float) -> None:
            with session(Limits(timeout=timeout)) as s:
                try:
                    results[path] = s.get(server.url + path).status_code
                except requests.RequestException as exc:
                    results[path] = cause_of(exc)

        threads = [threading.Thread(target=fetch, args=args) for args in (("/slow", 0.3), ("/quick", 5))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == {"/slow": "timeout", "/quick": 200}


# --- reading the body: the deadline checked before, during and after it -------------------------------------------


class Body(io.BytesIO):
    """An answer's body as the socket hands it over; `when_read` runs on each read (the watchdog firing, a reset)."""

    def __init__(self, data: bytes, when_read: Callable[[], None] = lambda: None) -> None:
        super().__init__(data)
        self.when_read = when_read

    def read(self, *args: Any) -> bytes:
        self.when_read()
        return super().read(*args)


def read_body(body: Body, holder: dict[str, Any], *headers: tuple[str, str]) -> bytes:
    response = requests.Response()
    response.raw = HTTPResponse(body=body, headers=dict(headers), status=200, preload_content=False)
    with session(Limits(max_body=1000)) as s:
        return s._read_body(response, holder)


def test_a_body_is_read_whole_when_its_deadline_does_not_pass() -> None:
    assert read_body(Body(b'{"a": 1}'), {}) == b'{"a": 1}'
    assert read_body(Body(gzip.compress(b"x" * 900)), {}, ("Content-Encoding", "gzip")) == b"x" * 900


def test_a_body_whose_deadline_passed_before_or_while_it_was_read_is_no_answer() -> None:
    with pytest.raises(AnswerDeadline, match=r"^no complete answer in time$"):
        read_body(Body(b"{}"), {"fired": True})  # before: not read at all
    holder: dict[str, Any] = {}
    with pytest.raises(AnswerDeadline, match=r"^no complete answer in time$"):
        read_body(Body(b"{}", lambda: holder.update(fired=True)), holder)  # while: read whole, yet too late


def test_a_body_broken_off_is_no_answer_and_says_why() -> None:
    holder: dict[str, Any] = {}

    def cut() -> None:
        holder["fired"] = True
        raise OSError("the socket was shut down")

    with pytest.raises(AnswerDeadline, match=r"^no complete answer in time$"):
        read_body(Body(b"{}", cut), holder)  # the watchdog's cut

    def reset() -> None:
        raise ConnectionResetError("connection reset by peer")

    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="connection reset by peer"):
        read_body(Body(b"{}", reset), {})
    with pytest.raises(requests.exceptions.ContentDecodingError, match="decompressing"):
        read_body(Body(b"not gzip at all"), {}, ("Content-Encoding", "gzip"))


def test_a_ctrl_c_python_swallowed_still_stops_the_run_at_its_next_request() -> None:
    """Where the signal lands inside a gc callback or a finalizer, Python prints "Exception ignored" and goes on;
    the handler has told the breakers, and the next request raises it again, before anything is sent."""
    limits = Limits()
    breakers = Breakers(limits)
    observed: list[Any] = []
    session = BoundedSession(limits, breakers, observer=lambda *exchange: observed.append(exchange))
    handler = Interruption(SimpleNamespace(breakers=breakers))  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        handler._ctrl_c(signal.SIGINT, None)  # the raise a gc callback would swallow
    with pytest.raises(KeyboardInterrupt):
        session.get("http://127.0.0.1:9/never-reached")
    assert observed == []  # nothing was sent, nothing recorded against the service
