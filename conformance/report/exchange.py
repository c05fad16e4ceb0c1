"""One HTTP exchange as the report shows it: masked request and response, and a curl line to reproduce it."""

from __future__ import annotations

import shlex
from typing import Any

from requests import PreparedRequest

from .masking import Masker

BODY_LIMIT = 4000


def show_body(content: bytes | str | None) -> str:
    """Text as text (truncated), binary as a note: a report is read by people."""
    if not content:
        return ""
    if isinstance(content, str):
        content = content.encode("utf-8")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        preview = content[:200]
        return f"<{len(content)} bytes, not UTF-8; first bytes: {preview!r}>"
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT] + f"\n... ({len(text) - BODY_LIMIT} more characters)"
    return text


def curl_command(
    request: PreparedRequest,
    *,
    ca_bundle: str | None,
    env: tuple[str, str],
    auth_headers: tuple[str, str] | None = None,
) -> str:
    """A curl line that replays `request`; credentials come from the environment, never inline."""
    from_env = dict(zip(auth_headers, (f"${env[0]}", f"${env[1]}"), strict=True)) if auth_headers else {}
    parts = ["curl", "-sS", "-i", "-X", str(request.method)]
    if ca_bundle:
        parts += ["--cacert", ca_bundle]
    for name, value in request.headers.items():
        env_name = next((var for header, var in from_env.items() if header.lower() == name.lower()), None)
        if env_name is not None:
            parts += ["-H", f"{name}: {env_name}"]
            continue
        if name.lower() == "authorization":
            if str(value).lower().startswith("basic "):
                parts += ["-u", f"${env[0]}:${env[1]}"]
                continue
            value = "***"
        if name.lower() in {
            "content-length",
            "user-agent",
            "accept-encoding",
            "connection",
            "accept",
        } or name.lower().startswith("x-schemathesis"):
            continue
        parts += ["-H", f"{name}: {value}"]
    if request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        parts += ["--data-binary", body]
    parts.append(str(request.url))
    # $VAR must expand in the shell, so arguments naming one are double-quoted rather than shlex-quoted.
    return " ".join(f'"{p}"' if "$CONFORMANCE_" in p else shlex.quote(p) for p in parts)


def record(
    request: PreparedRequest,
    status: int,
    headers: dict[str, str],
    content: bytes,
    masker: Masker,
    *,
    ca_bundle: str | None,
    env: tuple[str, str],
    auth_headers: tuple[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "request": {
            "method": request.method,
            "url": masker.text(str(request.url)),
            "headers": masker.headers(dict(request.headers)),
            "body": masker.text(show_body(request.body)),
        },
        "response": {"status": status, "headers": masker.headers(headers), "body": masker.text(show_body(content))},
        "curl": masker.text(curl_command(request, ca_bundle=ca_bundle, env=env, auth_headers=auth_headers)),
    }
