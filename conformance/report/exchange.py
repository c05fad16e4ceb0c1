"""One HTTP exchange as the report shows it: masked request and response, and a curl line to reproduce it."""

from __future__ import annotations

import shlex
from typing import Any

from requests import PreparedRequest

from .masking import Masker

BODY_LIMIT = 4000


def show_body(content: bytes | str | None, masker: Masker | None = None) -> str:
    """Text as text, masked, then cut to BODY_LIMIT; bytes that are not UTF-8 shown as \\xNN escapes."""
    if not content:
        return ""
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = "(not UTF-8) " + content.decode("utf-8", "backslashreplace")
    else:
        text = content
    if masker is not None:  # mask the whole body first: a cut could leave half a secret unmasked
        text = masker.text(text)
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT] + f"\n... ({len(text) - BODY_LIMIT} more characters)"
    return text


# Headers a replay does not need: curl sets them itself, or they only describe the original client.
_DROPPED_HEADERS = frozenset({"content-length", "user-agent", "accept-encoding", "connection", "accept"})


def credential_reference(var: str) -> str:
    """`${VAR:?...}`: the shell reads the secret from the environment and stops with a message when it is unset."""
    return f"${{{var}:?set it}}"


def curl_command(
    request: PreparedRequest,
    *,
    ca_bundle: str | None,
    env: tuple[str, str],
    auth_headers: tuple[str, str] | None = None,
    masker: Masker | None = None,
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
    if request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        words += ["--data-binary", quoted(body)]
    words.append(quoted(str(request.url)))
    return " ".join(words)


def _constant_header_name(name: str) -> str:
    """A header name from the profile, checked to be a plain token before it goes between double quotes."""
    if not name.replace("-", "").isalnum():
        raise ValueError(f"credential header name {name!r} is not a plain token")
    return name


def record(
    request: PreparedRequest,
    status: int | None,
    headers: dict[str, str],
    content: bytes,
    masker: Masker,
    *,
    ca_bundle: str | None,
    env: tuple[str, str],
    auth_headers: tuple[str, str] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The exchange as reports show it, masked. `status` None: no answer arrived (`note` says why)."""
    exchange: dict[str, Any] = {
        "request": {
            "method": request.method,
            "url": masker.text(str(request.url)),
            "headers": masker.headers(dict(request.headers)),
            "body": show_body(request.body, masker),
        },
        "response": None
        if status is None
        else {"status": status, "headers": masker.headers(headers), "body": show_body(content, masker)},
        "curl": curl_command(request, ca_bundle=ca_bundle, env=env, auth_headers=auth_headers, masker=masker),
    }
    if note:
        exchange["note"] = masker.text(note)
    return exchange
