"""The recording layer: a WSGI app in front of the sandbox that records, judges and shows every exchange.

For each request: read it (capped), tell which credentials it carries, let the step's stance or the sandbox
answer, learn the secrets the exchange carries, judge it against the per-request client rules, write it to the
journal (masked), print one line per exchange and one per finding, and tell the driver. `/_certify/...` is the
control endpoint (loopback callers only): `GET status`, `POST next` (end the running step).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

from .. import ingest
from ..cli.common import printable
from .journal import MAX_ENTRIES, Journal
from .requests import ClientRequest, operations
from .rules import Judgement, judge_imbee, judge_push
from .scenarios import Answer, Scenario, Seen

if TYPE_CHECKING:
    from ..report.masking import Masker
    from .driver import Driver

MAX_REQUEST_BODY = 4 * 1024 * 1024  # bytes read from a client's request: a batch of 10,000 numbers is ~130 KB
SHOWN_BODY = 256 * 1024  # characters of a body the journal keeps (its length and hash are always kept)
DRAIN_LIMIT = 64 * 1024 * 1024  # bytes of a too-large body read and dropped so that the client sees the 413
JOURNAL_BUDGET = 64 * 1024 * 1024  # bytes of bodies a journal holds in full; past it, each body is cut short
SHOWN_BODY_PAST_BUDGET = 1024
SECRET_HEADERS = ("authorization", "x-woos-key", "proxy-authorization", "cookie")
JUDGES: dict[str, Callable[..., Judgement]] = {"push": judge_push, "imbee": judge_imbee}
LOOPBACK = ("127.0.0.1", "::1")
MAX_LEARNT = 500  # values masked because a client sent them (each password it tries): a looping client grows no more
SHOWN_PATH = 200  # characters of a path on the terminal


class Recording:
    def __init__(
        self,
        scenario: Scenario,
        spec: dict[str, Any],
        journal: Journal,
        masker: Masker,
        driver: Driver,
        out: TextIO,
    ) -> None:
        self.scenario, self.spec, self.journal, self.masker = scenario, spec, journal, masker
        self.driver, self.out = driver, out
        self._operations = operations(spec)
        self._judge = JUDGES[scenario.api]
        self._lock = threading.Lock()
        self._count = 0
        self._body_bytes = 0  # of bodies written to the journal so far
        self._tried: set[str] = set()
        self.started = time.monotonic()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_certify/"):
            return self._control(environ, start_response, path.removeprefix("/_certify/"))
        with self._lock:
            self._count += 1
            number = self._count
            if number > MAX_ENTRIES:
                self.journal.dropped += 1
        if number > MAX_ENTRIES:  # a client in a loop: the sandbox, the journal and the masker stop growing
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "60")])
            return [f"this certification has taken its {MAX_ENTRIES} requests\n".encode()]
        request, too_large, undrained = self._read(environ)
        credentials = self.scenario.classify(request)
        stance = None
        with self._lock:
            step, interrupt = self.driver.running()
            if interrupt is not None and self.scenario.credentials_ok(request, credentials):
                stance = interrupt.answer(request)
        if too_large:
            answer: Answer = (413, {"Content-Type": "text/plain"}, b"request body too large for the sandbox")
        else:
            answer = stance or self._sandbox(environ, request)
        status, headers, body = answer
        own, tried = self.scenario.secrets_in(request, body)
        for secret in own:
            self.masker.add(secret)  # before anything is written or shown
        for secret in tried:
            if len(self._tried) < MAX_LEARNT and secret not in self._tried:
                self._tried.add(secret)
                self.masker.add(secret)
        request = ingest.client_request(request, self.masker)  # from here on, only the masked request is read
        judgement = self._judge(request, credentials, self.spec)
        self.journal.write(self._entry(number, step, request, credentials, answer, stance is not None, judgement))
        self._show(number, request, status, stance is not None, judgement)
        self.driver.observe(Seen(request, status, stance is not None))
        if undrained:
            headers = {**headers, "Connection": "close"}  # the unread body must not be read as the next request
        start_response(f"{status} {_reason(status)}", list(headers.items()))
        return [body]

    # --- one exchange --------------------------------------------------------------------------------

    def _read(self, environ: dict[str, Any]) -> tuple[ClientRequest, bool, bool]:
        """The request (its body empty when too large), whether it was too large, and whether its body is left
        unread on the connection."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ["wsgi.input"]
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = stream.read(MAX_REQUEST_BODY + 1)  # no length announced: read up to the cap
            too_large = len(body) > MAX_REQUEST_BODY
            drained = not too_large or _drain(stream, DRAIN_LIMIT)
        else:
            too_large = length > MAX_REQUEST_BODY
            body = b"" if too_large or length <= 0 else stream.read(length)
            drained = not too_large or (length <= DRAIN_LIMIT and _drain(stream, length))
        if too_large:
            body = b""
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        operation = next((op for verb, pattern, op in self._operations if verb == method and pattern.match(path)), None)
        request = ClientRequest(method, path, environ.get("QUERY_STRING", ""), headers, body, operation)
        return request, too_large, not drained

    def _sandbox(self, environ: dict[str, Any], request: ClientRequest) -> Answer:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)
            return lambda data: None

        inner = dict(environ, **{"wsgi.input": io.BytesIO(request.body), "CONTENT_LENGTH": str(len(request.body))})
        result = self.scenario.app(inner, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return captured["status"], captured["headers"], body

    def _entry(
        self,
        number: int,
        step: str | None,
        request: ClientRequest,
        credentials: dict[str, str],
        answer: Answer,
        stance: bool,
        judgement: Judgement,
    ) -> dict[str, Any]:
        status, headers, body = answer
        shown = SHOWN_BODY if self._body_bytes < JOURNAL_BUDGET else SHOWN_BODY_PAST_BUDGET
        self._body_bytes += min(len(request.body), shown) + min(len(body), shown)
        return {
            "kind": "exchange",
            "n": number,
            "at": round(time.monotonic() - self.started, 3),
            "step": step,
            "operation": request.operation,
            "credentials": credentials,
            "request": {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": {name: _shown_header(name, value) for name, value in request.headers.items()},
                "body": request.text[:shown],  # masked at ingestion: cutting it now cannot expose half a secret
                "bytes": len(request.body),
                "sha256": hashlib.sha256(request.body).hexdigest(),
            },
            "response": {
                "status": status,
                "headers": {name: _shown_header(name, value) for name, value in headers.items()},
                "body": self.masker.text(body.decode("utf-8", "backslashreplace"))[:shown],
            },
            "stance": stance,
            "examined": judgement.examined,
            "findings": [finding.as_dict() for finding in judgement.findings],
        }

    def _show(self, number: int, request: ClientRequest, status: int, stance: bool, judgement: Judgement) -> None:
        lines = [
            f"  #{number:<4} {request.method[:20]} {request.path[:SHOWN_PATH]} -> {status}"
            + (" (the step's stance)" if stance else "")
            + ("" if judgement.findings else "  ok")
        ]
        lines += [f"        {f.rule} {f.pointer or '(request)'}: {f.message}" for f in judgement.findings]
        self.out.write(printable(self.masker.text("\n".join(lines))) + "\n")
        self.out.flush()

    # --- the control endpoint ------------------------------------------------------------------------

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any], command: str) -> Iterable[bytes]:
        if environ.get("REMOTE_ADDR") not in LOOPBACK:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"the control endpoint answers this machine only\n"]
        method = environ.get("REQUEST_METHOD")
        if command == "next" and method == "POST":
            self.driver.next_step()
        elif command != "status" or method != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"GET /_certify/status or POST /_certify/next\n"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(self.driver.status()).encode()]


def _drain(stream: Any, limit: int) -> bool:
    """Read and drop up to `limit` bytes of a body too large to keep; True when the body ended within them."""
    left = limit
    while left > 0:
        chunk = stream.read(min(65536, left))
        if not chunk:
            return True
        left -= len(chunk)
    return not stream.read(1)


def _shown_header(name: str, value: str) -> str:
    """Credentials never reach the journal; a Basic scheme is kept (the repro line sends the variables)."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0]
    return f"{scheme} ***" if name.lower() == "authorization" and scheme.lower() == "basic" else "***"


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
