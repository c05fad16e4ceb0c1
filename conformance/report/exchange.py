"""One HTTP exchange as the report shows it: masked request and response, and a repro line.

Bodies are shown as people read them: JSON pretty-printed with arrays past ARRAY_LIMIT items elided (with a
count), any body past BODY_LIMIT characters cut (with a count). A body cut or elided is kept whole, masked, in a
side file next to the report (`Sidecar`), and the repro line reads a request body of more than CURL_INLINE_LIMIT
bytes from that file (`--data-binary @FILE`) instead of carrying it inline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from requests import PreparedRequest

from .masking import Masker

BODY_LIMIT = 4000
ARRAY_LIMIT = 20
CURL_INLINE_LIMIT = 1024
# Headers a replay does not need: curl sets them itself, or they only describe the original client.
_DROPPED_HEADERS = frozenset({"content-length", "user-agent", "accept-encoding", "connection", "accept"})


@dataclass(frozen=True)
class Sidecar:
    """Where whole bodies go (masked) when the report shows them cut: a directory next to the reports."""

    directory: Path

    def keep(self, text: str, suffix: str = ".txt") -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8", "surrogatepass")
        path = self.directory / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
        if not path.exists():
            path.write_bytes(data)
        return path.resolve()


@dataclass(frozen=True)
class Replay:
    """How a repro line reaches the target: its CA, the credentials' variables, and for the embedded reference
    the `conformance serve` command that starts the same service where the line points."""

    env: tuple[str, str]
    auth_headers: tuple[str, str] | None = None
    ca_bundle: str | None = None
    serve: str | None = None  # e.g. "conformance serve loyalty --port 8080 --fault html-errors"
    base_url: str | None = None  # the run's target, replaced by `serve_url` when `serve` is set
    serve_url: str = "http://127.0.0.1:8080"
    # The run's own credentials by header name: a request lists the headers that carried exactly them
    # (`from_environment`), which `conformance rerun` fills in from the environment again.
    own_headers: dict[str, str] | None = field(default=None, compare=False, repr=False)  # never printed


def _elide(value: Any) -> tuple[Any, bool]:
    if isinstance(value, list):
        shown, cut = [], len(value) > ARRAY_LIMIT
        for item in value[:ARRAY_LIMIT]:
            item, inner = _elide(item)
            shown.append(item)
            cut = cut or inner
        if len(value) > ARRAY_LIMIT:
            shown.append(f"... ({len(value) - ARRAY_LIMIT} more items)")
        return shown, cut
    if isinstance(value, dict):
        shown_dict, cut = {}, False
        for key, item in value.items():
            shown_dict[key], inner = _elide(item)
            cut = cut or inner
        return shown_dict, cut
    return value, False


def _text(content: bytes | str | None) -> str:
    if not content:
        return ""
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return "(not UTF-8) " + content.decode("utf-8", "backslashreplace")


def show_body(
    content: bytes | str | None, masker: Masker | None = None, sidecar: Sidecar | None = None
) -> tuple[str, str | None]:
    """(the body as the report shows it, the side file holding it whole when shown cut). Masked first: a cut
    could otherwise leave half a secret unmasked."""
    text = _text(content)
    if not text:
        return "", None
    if masker is not None:
        text = masker.text(text)
    shown, cut = text, False
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, list | dict):
        elided, cut = _elide(parsed)
        if cut:
            shown = json.dumps(elided, ensure_ascii=False, indent=1)
    if len(shown) > BODY_LIMIT:
        shown, cut = shown[:BODY_LIMIT] + f"\n... ({len(shown) - BODY_LIMIT} more characters)", True
    kept = str(sidecar.keep(text, ".json" if parsed is not None else ".txt")) if cut and sidecar is not None else None
    return shown, kept


def credential_reference(var: str) -> str:
    """`${VAR:?set it}`: the shell reads the secret from the environment and stops with a message when unset."""
    return f"${{{var}:?set it}}"


def curl_command(
    request: PreparedRequest,
    *,
    ca_bundle: str | None,
    env: tuple[str, str],
    auth_headers: tuple[str, str] | None = None,
    masker: Masker | None = None,
    body_file: str | None = None,
    url: str | None = None,
) -> str:
    """A curl line that replays `request`, safe to paste into a POSIX shell whatever the target sent.

    Every argument that carries text from the request (URL, header values, body, which a hostile target
    can shape through the values it hands out) is masked first and then single-quoted with `shlex.quote`,
    so no `$`, backtick or `$(...)` in it is ever expanded. The credentials are the only double-quoted
    arguments: they are the suite's own constant text, `${VAR:?...}` references to the environment.
    """

    def quoted(text: str) -> str:
        # A shell argument cannot hold a NUL byte: show it as U+FFFD rather than cut the line short.
        return shlex.quote((masker.text(text) if masker is not None else text).replace("\x00", "\ufffd"))

    from_env = dict(zip((h.lower() for h in auth_headers), env, strict=True)) if auth_headers else {}
    words: list[str] = ["curl", "-sS", "-i", "-X", quoted(str(request.method))]
    if ca_bundle:
        words += ["--cacert", quoted(ca_bundle)]
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered in from_env:  # the header's name is the profile's constant, its value the environment's
            words += ["-H", f'"{_constant_header_name(name)}: {credential_reference(from_env[lowered])}"']
            continue
        if lowered == "authorization":
            if str(value).lower().startswith("basic "):
                words += ["-u", f'"{credential_reference(env[0])}:{credential_reference(env[1])}"']
                continue
            value = "***"
        if lowered in _DROPPED_HEADERS or lowered.startswith("x-schemathesis"):
            continue
        words += ["-H", quoted(f"{name}: {value}")]
    if body_file is not None:
        words += ["--data-binary", "@" + quoted(body_file)]
    elif request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        words += ["--data-binary", quoted(body)]
    words.append(quoted(url or str(request.url)))
    return " ".join(words)


def _constant_header_name(name: str) -> str:
    """A header name from the profile, checked to be a plain token before it goes between double quotes."""
    if not name.replace("-", "").isalnum():
        raise ValueError(f"credential header name {name!r} is not a plain token")
    return name


def repro(request: PreparedRequest, replay: Replay, masker: Masker, sidecar: Sidecar | None) -> str:
    """The lines that reproduce the exchange: the curl line, preceded, for the embedded reference, by the
    command that starts the same service where the line points."""
    raw = request.body.encode("utf-8") if isinstance(request.body, str) else (request.body or b"")
    body_file = None
    if len(raw) > CURL_INLINE_LIMIT and sidecar is not None:
        body_file = str(sidecar.keep(masker.text(_text(raw)), ".body"))
    url = str(request.url)
    if replay.serve and replay.base_url and url.startswith(replay.base_url):
        url = replay.serve_url + url[len(replay.base_url) :]
    line = curl_command(
        request,
        ca_bundle=None if replay.serve else replay.ca_bundle,
        env=replay.env,
        auth_headers=replay.auth_headers,
        masker=masker,
        body_file=body_file,
        url=url,
    )
    if replay.serve:
        # Pasted as printed, the lines start the same reference service, wait until it listens (however slow
        # the machine: curl retries a refused connection), and replay.
        wait = f"curl -s -o /dev/null --retry 30 --retry-delay 1 --retry-connrefused {replay.serve_url}/"
        return f"{replay.serve} &  # the same reference service, in the background\n{wait}  # until it listens\n{line}"
    return line


def own_credential_headers(auth: dict[str, Any]) -> dict[str, str]:
    """The headers a request carries the run's own credentials in (from a profile's `auth_kwargs`), by value."""
    if "auth" in auth:
        basic = auth["auth"]  # the run's BasicAuth (UTF-8), or a (user, password) pair
        user, password = (basic.username, basic.password) if hasattr(basic, "username") else basic
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    return {str(name): str(value) for name, value in auth.get("headers", {}).items()}


def record(
    request: PreparedRequest,
    status: int | None,
    headers: dict[str, str],
    content: bytes,
    masker: Masker,
    replay: Replay,
    *,
    sidecar: Sidecar | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The exchange as reports show it, masked. `status` None: no answer arrived (`note` says why).

    With the run's own credentials known (`replay.own_headers`), the request lists the headers that carried exactly
    them (`from_environment`): a replay fills those in from the environment. Any other masked header held something
    else (a made-up credential, a key the service handed out)."""
    request_body, request_file = show_body(request.body, masker, sidecar)
    exchange: dict[str, Any] = {
        "request": {
            "method": request.method,
            "url": masker.text(str(request.url)),
            "headers": masker.headers(dict(request.headers)),
            "body": request_body,
        },
        "response": None,
        "curl": repro(request, replay, masker, sidecar),
    }
    if request_file:
        exchange["request"]["body_file"] = request_file
    if replay.own_headers is not None:
        sent = {str(name).lower(): str(value) for name, value in request.headers.items()}
        exchange["request"]["from_environment"] = [
            name for name, value in replay.own_headers.items() if sent.get(name.lower()) == value
        ]
    if status is not None:
        response_body, response_file = show_body(content, masker, sidecar)
        exchange["response"] = {"status": status, "headers": masker.headers(headers), "body": response_body}
        if response_file:
            exchange["response"]["body_file"] = response_file
    if note:
        exchange["note"] = masker.text(note)
    return exchange
