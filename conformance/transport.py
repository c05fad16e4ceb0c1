"""The one HTTP layer of a run: every request the suite sends (schemathesis' and the hand-written probes')
goes through a `BoundedSession`, because everything a target sends is untrusted input.

- Each answer (headers and body) has a wall-clock deadline (`--timeout`): a watchdog shuts the socket
  down when it passes, so a body dripped one byte a second or an endless run of `100 Continue` cannot
  hold a run. The socket is held from the moment it connects: http.client lets go of it for an answer that
  will close the connection, and the cut must still reach it. The run has a deadline too (`--deadline`);
  past it no request is sent.
- Informational answers (1xx but 101) are read past, and the final answer is the one judged (RFC 9110
  §15.2). A head cut before its blank line, or with a line that is not `name: value`, is no answer.
- Bodies are read streaming, decompressed by urllib3 in bounded steps, and capped (`--max-body`).
- Redirects are never followed: a redirect is the answer (and credentials never travel to another host).
- Exchanges without an answer trip breakers: after a few on one test, or many in a row on the run, further
  requests fail at once instead of each waiting for its own timeout.
- Each exchange, answered or not, is handed to an observer (the run's recorder), which masks it first.
- Several threads may send at once (`--concurrency`): the breakers bound how many requests are in flight (when
  requests wait, those of the test that comes first in the run go first, as they would one at a time), and a
  429's Retry-After holds back every thread, and every process that shares the run's back-off file.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import http.client
import itertools
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.auth
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEFAULT_MAX_BODY = 10 * 1024 * 1024
CHUNK = 64 * 1024


class TransportFailure(Exception):
    """The target could not be reached at all before the run: refused, unknown host, TLS, timeout (exit 3)."""


class NoAnswer(requests.exceptions.ConnectionError):
    """An exchange that got no (complete) answer; `cause` names why in a few words."""

    cause = "no answer"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class AnswerDeadline(NoAnswer, requests.exceptions.Timeout):
    cause = "timeout"


class RunDeadline(NoAnswer):
    cause = "run deadline reached"


class CutHead(NoAnswer):
    """The connection ended inside the answer's status line or headers: what arrived is no answer."""

    cause = "answer cut inside its headers"


class MalformedHead(NoAnswer):
    """A header line that is not `name: value` with a token for a name: the head cannot be read reliably."""

    cause = "malformed header line"


class NotSent(NoAnswer):
    cause = "not sent: the target stopped answering"


class AnswerTooLarge(requests.exceptions.ContentDecodingError):
    """The answer's body (decompressed) is larger than `--max-body`: it was not read to its end. It is an answer
    all the same: `response` holds its status and headers."""

    cause = "body over --max-body"


def _certificate_problem(text: str) -> str | None:
    """What is wrong with the target's certificate, from the TLS error's text (OpenSSL's or urllib3's words)."""
    if "mismatch" in text or "doesn't match" in text or "not valid for" in text:
        return "the certificate does not name this host"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "the certificate is not trusted"
    return None


def cause_of(exc: BaseException) -> str:
    """A few words for why an exchange got no usable answer."""
    if isinstance(exc, NoAnswer | AnswerTooLarge):
        return exc.cause
    if isinstance(exc, requests.exceptions.SSLError):
        problem = _certificate_problem(str(exc))
        return f"TLS failure: {problem}" if problem else "TLS failure"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "broken body framing"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "undecodable body"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return "too many redirects"
    text = str(exc)
    if "IncompleteRead" in text or "Connection broken" in text:
        return "truncated body"
    if "LineTooLong" in text or "got more than" in text:
        return "oversized answer head"
    if "Connection refused" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text.lower():
        return "connection closed without an answer"
    return "connection failure"


# --- watchdog: the sockets of the exchange in flight, per thread ------------------------------------

_in_flight = threading.local()


def _hold(sock: socket.socket | None) -> None:
    """Tell the watchdog of this thread's exchange that `sock` carries it: held until the exchange is over, whatever
    http.client does with it (it drops the connection's reference for an answer that will close it)."""
    holder = getattr(_in_flight, "holder", None)
    if holder is None or sock is None:
        return
    holder.setdefault("sockets", []).append(sock)
    if holder.get("fired"):  # the deadline passed while this socket was being connected
        _shut(sock)


# --- the answer's head: informational answers skipped, a cut or malformed head refused --------------------

_FIELD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:")  # field-name = token (RFC 9110 §5.1), then the colon
_BLANK = (b"\r\n", b"\n")
_MAX_LINE, _MAX_LINES = 65536, 100  # http.client's own limits on one head


class _Lines:
    """The answer's file, with the lines http.client reads of the head kept, to check them once it is done."""

    def __init__(self, fp: Any) -> None:
        self.fp, self.lines = fp, []

    def readline(self, limit: int = -1) -> bytes:
        line = self.fp.readline(limit)
        self.lines.append(line)
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fp, name)


def _check_head(lines: list[bytes]) -> None:
    """The status line and the header lines of one head, its blank line last."""
    if not lines or not lines[0].endswith(b"\n"):
        raise CutHead("the connection ended inside the answer's status line")
    if lines[-1] not in _BLANK:
        raise CutHead("the connection ended inside the answer's headers (before the blank line that ends them)")
    for number, line in enumerate(lines[1:-1], start=1):
        folded = number > 1 and line[:1] in (b" ", b"\t")  # obs-fold continues the line above (RFC 9112 §5.2)
        if not folded and not _FIELD_LINE.match(line):
            raise MalformedHead(
                f"header line {number} of the answer is not `name: value` (a name is a token, with no space or "
                "control character, and the colon follows it at once)"
            )


class _FinalAnswer(http.client.HTTPResponse):
    """Reads past informational answers to the final one, and refuses a head that is cut or malformed (http.client
    takes any status but 100 as final, and the end of the connection as the end of the headers)."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        head = _Lines(self.fp)
        self.fp = head
        try:
            super().begin()
        except ConnectionError:  # the built-in one (reset, broken pipe) mid-head: some of it came, no more will
            if any(head.lines):
                raise CutHead("the connection was reset inside the answer's head") from None
            raise
        finally:
            if self.fp is head:
                self.fp = head.fp
        _check_head(head.lines)
        if self.status == 101:  # Switching Protocols: no HTTP/1.1 follows on this connection
            self.will_close = True

    def _read_status(self) -> tuple[str, int, str]:
        head = self.fp  # the _Lines of begin()
        while True:
            head.lines.clear()  # each head is checked on its own, the final one once begin() is done
            version, status, reason = super()._read_status()
            if not 100 <= status < 200 or status == 101:
                return version, status, reason
            while head.lines[-1].endswith(b"\n") and (len(head.lines) == 1 or head.lines[-1] not in _BLANK):
                if len(head.lines) > _MAX_LINES:
                    raise http.client.HTTPException(f"got more than {_MAX_LINES} headers")
                if len(head.readline(_MAX_LINE + 1)) > _MAX_LINE:
                    raise http.client.LineTooLong("header line")
            _check_head(head.lines)


class _HeldSockets:
    """What both connection classes add: their socket held for the watchdog, and the answer read by _FinalAnswer."""

    response_class = _FinalAnswer
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _hold(sock)  # from the moment it connects: a TLS handshake that never ends is cut too
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _hold(self.sock)  # under TLS, the wrapping socket (the plain one was detached into it)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _hold(self.sock)  # a kept-alive connection, connected before this exchange
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedConnection(_HeldSockets, HTTPConnection):
    pass


class _WatchedTLSConnection(_HeldSockets, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedTLSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedTLSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedTLSPool}


def _cut(holder: dict[str, Any]) -> None:
    """Shut the exchange's sockets down: the reading thread's recv returns at once."""
    holder["fired"] = True
    for sock in list(holder.get("sockets", ())):
        _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also under TLS: SSLSocket.shutdown would drop its state mid-read
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed (its descriptor is gone, never another socket's) or not connected
        pass


class Watchdog:
    """One thread for every deadline of the process: `arm` a holder, and when its time passes before it is
    disarmed, its socket is cut. (A timer thread per request would cost a thread start per exchange.)"""

    def __init__(self, idle: float = 5.0) -> None:
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._idle = idle  # seconds the thread waits with nothing to watch before it ends (`arm` starts another)

    def arm(self, seconds: float, holder: dict[str, Any]) -> None:
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), holder))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="conformance-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is holder:
                self._wake.notify()  # the new deadline is the nearest

    def disarm(self, holder: dict[str, Any]) -> None:
        with self._wake:  # under the lock: a holder is never cut once its exchange is over
            holder["disarmed"] = True  # dropped from the heap when its time comes

    def _watch(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0][2].get("disarmed"):
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait(timeout=self._idle)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                due, _, holder = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(timeout=wait)
                    continue
                heapq.heappop(self._heap)
                _cut(holder)


_WATCHDOG = Watchdog()


# --- the session --------------------------------------------------------------------------------------


@dataclass
class Limits:
    timeout: float = 10.0  # wall-clock seconds for one answer, headers and body
    max_body: int = DEFAULT_MAX_BODY
    deadline: float | None = None  # time.monotonic() after which no request is sent
    per_test_unanswered: int = 2  # unanswered exchanges of one test before its further requests fail at once
    per_operation_unanswered: int = 3  # unanswered exchanges of one operation before its further requests fail at once
    run_unanswered: int = 8  # unanswered exchanges in a row before every further request fails at once


MAX_BACK_OFF = 60.0  # seconds one 429 can pause the run for; the run deadline bounds the sum
DEFAULT_BACK_OFF = 1.0  # seconds after a 429 that names no Retry-After


def retry_after(value: str | None, now: float | None = None) -> float:
    """Seconds a 429's Retry-After asks for (delta-seconds or an HTTP date), within [0, MAX_BACK_OFF]. A value that
    is neither is treated like an absent one: whatever the header holds, this never raises."""
    value = (value or "").strip(" \t")
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)  # float, not int: a thousand digits are just a very long wait
    else:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = DEFAULT_BACK_OFF
    return min(max(seconds, 0.0), MAX_BACK_OFF)


_DELTA_SECONDS = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also takes "²", which float() refuses


class Slots:
    """The requests in flight at once. When requests wait for a slot, the one of the test that comes first in the
    run's order goes first, as it would have one test at a time (a hand-written probe is never held up behind a
    whole contract test); among one test's requests, the first to ask."""

    def __init__(self, size: int) -> None:
        self.free = max(1, size)
        self._waiting: list[tuple[int, int]] = []  # (rank, ticket) of each request that waits, a heap
        self._tickets = itertools.count()
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def held(self, rank: int = 0) -> Iterator[None]:
        with self._changed:
            turn = (rank, next(self._tickets))
            heapq.heappush(self._waiting, turn)
            while not self.free or self._waiting[0] != turn:
                self._changed.wait()
            heapq.heappop(self._waiting)
            self.free -= 1
            if self.free and self._waiting:
                self._changed.notify_all()  # the next in line may go too
        try:
            yield
        finally:
            with self._changed:
                self.free += 1
                self._changed.notify_all()


class Breakers:
    """Shared by every session of a run: counts exchanges without an answer, bounds the requests in flight at once
    (`concurrency`, in the order of `rank_of`: test -> its place in the run), and holds the run back while the
    target's rate limit asks it to (429 + Retry-After).

    `back_off_file`, when given, carries the hold to every process of the run (pytest-xdist workers): it holds the
    wall-clock time before which none of them sends.
    """

    def __init__(
        self,
        limits: Limits,
        operation_of: Callable[[str, str], str] = lambda method, path: "",
        *,
        concurrency: int = 1,
        back_off_file: Path | None = None,
    ) -> None:
        self.limits = limits
        self.operation_of = operation_of  # (method, URL path) -> the documented operation it calls
        self.in_a_row = 0
        self.per_test: dict[str, int] = {}
        self.per_operation: dict[str, int] = {}
        self.not_before = 0.0  # time.monotonic() before which no request is sent (a 429's Retry-After)
        # Set by the run's Ctrl-C handler: every further request raises KeyboardInterrupt again, so a Ctrl-C that
        # landed where Python swallows exceptions (a gc callback, a __del__: "Exception ignored in ...") still ends it.
        self.ctrl_c = threading.Event()
        self.lock = threading.Lock()
        self.slots = Slots(concurrency)
        self.rank_of: Callable[[str], int] = lambda test: 0
        self.back_off_file = back_off_file

    def back_off(self, seconds: float) -> None:
        with self.lock:
            self.not_before = max(self.not_before, time.monotonic() + seconds)
            if self.back_off_file is not None:
                until = max(_read_until(self.back_off_file), time.time() + seconds)
                scratch = self.back_off_file.with_name(f"{self.back_off_file.name}.{os.getpid()}")
                scratch.write_text(repr(until), encoding="ascii")
                os.replace(scratch, self.back_off_file)  # whole, for the other processes that read it

    def pause(self) -> float:
        """Seconds left of the longest Retry-After this run (or another of its processes) received."""
        pause = self.not_before - time.monotonic()
        if self.back_off_file is not None:
            pause = max(pause, _read_until(self.back_off_file) - time.time())
        return pause

    def wait_for_rate_limit(self) -> None:
        """Sleep until the target's Retry-After has passed (never past the run deadline). Another thread's 429 may
        come during the sleep: the hold is read again after it."""
        while (pause := self.pause()) > 0:
            if self.limits.deadline is not None:
                pause = min(pause, self.limits.deadline - time.monotonic())
                if pause <= 0:
                    return
            time.sleep(pause)

    def refusal(self, test: str, operation: str = "") -> NoAnswer | None:
        """Why a request must not be sent now, or None."""
        limits = self.limits
        if limits.deadline is not None and time.monotonic() >= limits.deadline:
            return RunDeadline("the run deadline was reached before this request")
        if self.in_a_row >= limits.run_unanswered:
            return NotSent(f"not sent: the last {self.in_a_row} requests got no answer")
        if self.per_test.get(test, 0) >= limits.per_test_unanswered:
            return NotSent(f"not sent: {self.per_test[test]} earlier requests of this test got no answer")
        if operation and self.per_operation.get(operation, 0) >= limits.per_operation_unanswered:
            return NotSent(f"not sent: {self.per_operation[operation]} earlier requests to {operation} got no answer")
        return None

    def answered(self, operation: str = "") -> None:
        with self.lock:
            self.in_a_row = 0
            self.per_operation.pop(operation, None)  # it answers again: give it its chances back

    def unanswered(self, test: str, operation: str = "") -> None:
        with self.lock:
            self.in_a_row += 1
            self.per_test[test] = self.per_test.get(test, 0) + 1
            if operation:
                self.per_operation[operation] = self.per_operation.get(operation, 0) + 1


def _read_until(path: Path) -> float:
    """The wall-clock time a back-off file holds (0 when there is none yet, or it cannot be read)."""
    try:
        return float(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return 0.0


Observer = Callable[[requests.PreparedRequest, "requests.Response | None", "BaseException | None"], None]


class BoundedSession(requests.Session):
    """A requests session with the run's limits; `verify` wins over REQUESTS_CA_BUNDLE from the environment."""

    def __init__(
        self,
        limits: Limits,
        breakers: Breakers,
        *,
        verify: bool | str = True,
        observer: Observer | None = None,
        current_test: Callable[[], str] = lambda: "",
        connections: int = 10,
    ) -> None:
        super().__init__()
        self.limits, self.breakers, self.observer, self.current_test = limits, breakers, observer, current_test
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.verify = verify  # redirects are never followed (send); max_redirects 0 would make requests raise on one
        # One kept-alive connection per thread that may send at once: a connection dropped from a full pool costs a
        # new TLS handshake, several round trips to a distant target.
        adapter = _WatchedAdapter(max_retries=0, pool_maxsize=max(connections, 1))
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def twin(self) -> BoundedSession:
        """A session like this one (limits, breakers, trust, observer, credentials) on the same connections, with
        headers and auth of its own: schemathesis empties a session's headers while it sends, which must not reach
        another thread's requests."""
        twin = BoundedSession(
            self.limits, self.breakers, verify=self.verify, observer=self.observer, current_test=self.current_test
        )
        twin.adapters = self.adapters  # urllib3's pools are shared between threads: no new connection, no handshake
        twin.headers = requests.structures.CaseInsensitiveDict(self.headers)
        twin.auth, twin.cookies = self.auth, self.cookies
        twin._environment = self._environment
        return twin

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        # The environment (proxies, CA bundle) is read once per host: requests reads every variable on every
        # request, a large share of a loopback exchange's cost, and the environment cannot change mid-run.
        verify = self.verify if verify is None else verify
        key = (*urlsplit(str(url))[:2], repr(proxies), stream, repr(verify), repr(cert))
        known = self._environment.get(key)
        if known is None:
            known = self._environment[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        return {**known, "proxies": dict(known["proxies"])}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        test = self.current_test()
        operation = self.breakers.operation_of(str(request.method), urlsplit(str(request.url)).path)
        breakers = self.breakers
        if breakers.ctrl_c.is_set():
            raise KeyboardInterrupt
        with breakers.slots.held(breakers.rank_of(test)):  # first: a 429 that comes meanwhile holds this one too
            breakers.wait_for_rate_limit()
            refusal = breakers.refusal(test, operation)
            if refusal is None:  # what the answer tells the breakers, before another thread's request asks them
                response, failure = self._exchange(request, kwargs)
                if response is None:
                    if not isinstance(failure, RunDeadline):  # the deadline's cut is no silence of the target
                        breakers.unanswered(test, operation)
                else:
                    breakers.answered(operation)
                    if response.status_code == 429:  # the target's rate limit: honoured, never hammered
                        breakers.back_off(retry_after(response.headers.get("Retry-After")))
        if refusal is not None:
            self._observe(request, None, refusal)
            raise refusal
        if response is None:
            self._observe(request, None, failure)
            raise failure
        self._observe(request, response, None)
        return response

    def _exchange(
        self, request: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> tuple[requests.Response, None] | tuple[None, BaseException]:
        """The answer, read whole within the time bounds, or why there is none."""
        limits = self.limits
        budget = limits.timeout
        if limits.deadline is not None:
            budget = max(0.001, min(budget, limits.deadline - time.monotonic()))
        kwargs.update(stream=True, allow_redirects=False, timeout=(budget, budget))
        holder: dict[str, Any] = {}
        _in_flight.holder = holder
        _WATCHDOG.arm(budget, holder)
        try:
            response = super().send(request, **kwargs)
            response._content = self._read_body(response, holder)
            response._content_consumed = True
        except requests.RequestException as exc:
            failure: BaseException = _own_failure(exc)
            if holder.get("fired") and not isinstance(exc, AnswerTooLarge):
                failure = AnswerDeadline(f"no complete answer within {budget:g} s")
            if budget < limits.timeout and isinstance(failure, requests.exceptions.Timeout):
                # The run's deadline cut the wait short, not the service's slowness: the user's bound, no finding.
                failure = RunDeadline("the run deadline (--deadline) was reached while this answer was coming")
            if failure is not exc:  # this layer's own words stand alone, as `raise ... from None` would leave them
                failure.__cause__, failure.__suppress_context__ = None, True
            return None, failure
        finally:
            _WATCHDOG.disarm(holder)
            _in_flight.holder = None
        return response, None

    def _read_body(self, response: requests.Response, holder: dict[str, Any]) -> bytes:
        if holder.get("fired"):
            response.raw.close()
            raise AnswerDeadline("no complete answer in time")
        cap = self.limits.max_body
        chunks, size = [], 0
        try:
            for chunk in response.raw.stream(CHUNK, decode_content=True):
                size += len(chunk)
                if size > cap:
                    raise AnswerTooLarge(
                        f"the body is larger than {cap} bytes (--max-body); it was not read further", response=response
                    )
                chunks.append(chunk)
            if holder.get("fired"):
                raise AnswerDeadline("no complete answer in time")
        except requests.RequestException:  # this layer's own verdict on the answer (an OSError too: kept as it is)
            response.raw.close()
            raise
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError, OSError) as exc:
            response.raw.close()  # a connection with unread bytes must never go back to the pool
            if holder.get("fired"):
                raise AnswerDeadline("no complete answer in time") from None
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except urllib3.exceptions.DecodeError as exc:
            response.raw.close()
            raise requests.exceptions.ContentDecodingError(exc) from None
        except BaseException:
            response.raw.close()
            raise
        response.raw.release_conn()
        return b"".join(chunks)

    def _observe(
        self, request: requests.PreparedRequest, response: requests.Response | None, error: BaseException | None
    ) -> None:
        if self.observer is not None:
            self.observer(request, response, error)


def _own_failure(exc: requests.RequestException) -> BaseException:
    """This layer's own NoAnswer when urllib3 and requests wrapped it (as "Connection aborted"), else `exc`."""
    pending: list[Any] = [exc]
    for _ in range(8):  # requests' ConnectionError holds urllib3's ProtocolError, which holds what was raised
        if not pending:
            break
        current = pending.pop()
        if isinstance(current, NoAnswer) and current is not exc:
            return current
        if isinstance(current, BaseException):
            pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return exc


# --- reachability, in plain words ------------------------------------------------------------------


def describe(exc: BaseException, url: str, *, ca_bundle_given: bool = False) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        problem = _certificate_problem(text)
        if problem == "the certificate does not name this host":
            return (
                f"TLS failure at {url}: {problem} ({_reason(text)}). Use the host name the certificate was issued for."
            )
        if problem is not None:
            advice = (
                "the --ca-bundle given does not trust it"
                if ca_bundle_given
                else "use a certificate from a public CA, or pass --ca-bundle FILE for a private CA"
            )
            return f"TLS failure at {url}: {problem} ({_reason(text)}); {advice}."
        return f"TLS failure at {url}: {_reason(text)}"
    if isinstance(exc, CutHead | MalformedHead):
        return f"{exc.cause} at {url}: {exc}"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"timeout: {url} did not answer in time (raise --timeout if the service is just slow)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "NameResolutionError" in text or "Name or service not known" in text or "nodename nor servname" in text:
            return f"unknown host: the name in {url} does not resolve (DNS)"
        if "Connection refused" in text or "ConnectionRefusedError" in text:
            return f"connection refused: nothing listens at {url}"
        if url.startswith("http://") and cause_of(exc) == "connection closed without an answer":
            # A TLS server drops a plain-HTTP request like this (or answers it with a few bytes that are no HTTP).
            return (
                f"connection closed without an answer at {url}: did you mean https://{url.removeprefix('http://')}? "
                "(a service that speaks HTTPS drops a plain-HTTP request)"
            )
        return f"connection failure at {url}: {_reason(text)}"
    return f"request to {url} failed: {_reason(text)}"


def _reason(text: str) -> str:
    # urllib3 nests its reason in a long repr ("(Caused by SSLError(...))", "('Connection aborted.', Error('...'))"):
    # its quoted messages are the useful part, and a cut never leaves a bracket open.
    inner = text.rsplit("(Caused by ", 1)[-1]
    messages = [a or b for a, b in re.findall(r"'([^']+)'|\"([^\"]+)\"", inner)]
    return ": ".join(message.rstrip(".") for message in messages)[:300] if messages else inner.rstrip(")")[:300]


def probe(session: requests.Session, url: str, *, ca_bundle_given: bool = False) -> int:
    """One authenticated GET through the run's own layer; returns the status code or raises TransportFailure.
    An answer too large to read whole is an answer: the target is there."""
    try:
        return session.get(url).status_code
    except AnswerTooLarge as exc:
        return exc.response.status_code  # always set by BoundedSession._read_body
    except (requests.RequestException, NoAnswer) as exc:
        raise TransportFailure(describe(exc, url, ca_bundle_given=ca_bundle_given)) from None


class BasicAuth(requests.auth.AuthBase):
    """HTTP Basic credentials (RFC 7617) encoded as UTF-8, whatever characters they hold.

    requests' own `auth=(user, password)` encodes Latin-1 and fails on anything beyond it; RFC 7617's
    `charset="UTF-8"` is the encoding servers expect today. The masker knows both forms of the token.
    """

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        request.headers["Authorization"] = f"Basic {token}"
        return request

    def __repr__(self) -> str:  # never print the password, even by accident
        return f"BasicAuth({self.username!r}, '***')"
