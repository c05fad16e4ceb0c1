"""The suite's own callback listener: where a Push API host posts delivery statuses during a run.

It accepts a POST on any path under its address (the account's callback URL is configured on the host's side,
with whatever path the partner gave), records everything that arrives - credentials, transport, body - and
answers 200, as a partner's receiver would. With callback credentials configured, a callback without them is
refused with 401 and recorded as refused. What arrived is judged by the push suite (test_callbacks.py): the
listener only listens.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .report.masking import Masker
from .target import ConfigurationError, Credentials

MAX_CALLBACK_BODY = 1024 * 1024
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class Callback:
    arrived: float  # time.monotonic()
    method: str
    path: str
    over_tls: bool
    basic: tuple[str, str] | None  # the Basic credentials it carried, if any
    accepted: bool  # False: refused for its credentials
    body: bytes = field(repr=False)

    @property
    def text(self) -> str | None:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    @property
    def json(self) -> Any:
        text = self.text
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    @property
    def state(self) -> str | None:
        """The status it reports, in the suite's chosen body (M-5): its `state` member."""
        body = self.json
        return body.get("state") if isinstance(body, dict) and isinstance(body.get("state"), str) else None

    def mentions(self, message_id: str) -> bool:
        """Whether it names `message_id` anywhere in its body: the documents do not give the callback's format."""
        return message_id.lower() in (self.text or "").lower()


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (login, password) if sep else None


class CallbackListener:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        credentials: Credentials | None,
        tls: tuple[str, str] | None = None,  # certificate and key files
        public_url: str | None = None,
    ) -> None:
        from cheroot import wsgi

        self.credentials = credentials
        self.masker: Masker | None = None  # the run's: what a host posts is masked as it arrives, like any answer
        self.received: list[Callback] = []
        self._changed = threading.Condition()
        self._server = wsgi.Server((host, port), self._app, numthreads=4, server_name="conformance-callbacks")
        self._server.expiration_interval = 0.05  # stop() waits for the server loop's next look-up
        if tls is not None:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            try:
                self._server.ssl_adapter = BuiltinSSLAdapter(*tls)
            except OSError as exc:
                raise ConfigurationError(f"cannot load the callback TLS certificate or key: {exc.strerror}") from None
        try:
            self._server.prepare()
        except OSError as exc:
            raise ConfigurationError(f"cannot listen for callbacks on {host}:{port}: {exc}") from None
        self.tls = tls is not None
        bound_host, bound_port = self._server.bind_addr[:2]
        self.url = f"{'https' if self.tls else 'http'}://{bound_host}:{bound_port}"
        self.public_url = (public_url or self.url).rstrip("/")
        self._thread = threading.Thread(target=self._server.serve, name="conformance-callbacks", daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_CALLBACK_BODY)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length else b""
        basic = _basic(environ.get("HTTP_AUTHORIZATION", ""))
        accepted = self.credentials is None or (
            basic is not None
            and hmac.compare_digest(basic[0].encode(), self.credentials.username.encode())
            and hmac.compare_digest(basic[1].encode(), self.credentials.password.encode())
        )
        masker = self.masker or Masker()
        callback = Callback(
            time.monotonic(),
            masker.text(environ.get("REQUEST_METHOD", "")),
            masker.text(environ.get("PATH_INFO", "")),
            environ.get("wsgi.url_scheme") == "https",
            None if basic is None else (masker.text(basic[0]), masker.text(basic[1])),
            accepted,
            masker.data(body),
        )
        with self._changed:
            self.received.append(callback)
            self._changed.notify_all()
        if callback.method != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Length", "0")])
            return [b""]
        if not accepted:
            start_response(
                "401 Unauthorized", [("WWW-Authenticate", 'Basic realm="callbacks"'), ("Content-Length", "0")]
            )
            return [b""]
        start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "2")])
        return [b"{}"]

    def wait_until(self, done: Callable[[list[Callback]], bool], deadline: float) -> bool:
        """Wait until `done(received)` holds or time.monotonic() passes `deadline`."""
        with self._changed:
            while not done(list(self.received)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))
        return True

    def snapshot(self) -> list[Callback]:
        with self._changed:
            return list(self.received)

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=5)
