"""Services that echo what they receive, as real ones do in debug modes, and an independent look for what they
echoed: the reference service behind a layer that writes a secret into its answers in a chosen form and place.

`visible()` is the tests' own reading of an artefact, written apart from the suite's views (stdlib decoders
only), so a gap in the suite's masker and the same gap in its scan cannot hide each other.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

Echo = Callable[[str], str]

# How frameworks write a string they echo back: the forms the echoing services used, and a few more.
FORMS: dict[str, Echo] = {
    "raw": lambda s: s,
    "json-ascii": lambda s: json.dumps(s)[1:-1],
    "php-json": lambda s: json.dumps(s).replace("/", "\\/")[1:-1],  # PHP's json_encode writes / as \/
    "u-escape-every": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "form": lambda s: quote_plus(s, safe="*"),
    "percent": lambda s: quote(s, safe=""),
    "html": lambda s: s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace('"', "&quot;"),
    "entities-hex": lambda s: "".join(f"&#x{ord(c):x};" for c in s),
    "base64-of-text": lambda s: base64.b64encode(f"debug: the password is {s}, kept".encode()).decode(),
    "base64url": lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
    "json-in-json": lambda s: json.dumps(json.dumps({"password": s}))[1:-1],
    "upper": lambda s: s.upper(),
}


def basic_password(environ: dict[str, Any]) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return base64.b64decode(header.removeprefix("Basic ")).decode("utf-8").partition(":")[2] or None
    except (ValueError, UnicodeDecodeError):
        return None


def echoing(
    app: Callable[..., Any],
    secret_of: Callable[[dict[str, Any]], str | None],
    *,
    body: Iterable[str] = (),
    header: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    latin1: bool = False,
    cut_at: int | None = None,
    error: Callable[[str], bytes] | None = None,
    rewrite: Callable[[bytes, str], bytes] | None = None,
) -> Callable[..., Any]:
    """`app` with the secret of each request (`secret_of`) written into every answer: in the JSON body as one member
    per form in `body`, in a header value (form `header`), in the status line's reason, in a Location; as Latin-1
    bytes in a body labelled UTF-8 (`latin1`); or so that it straddles character `cut_at` of the body. `error`
    replaces the body of every error answer; `rewrite` rewrites every body."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None

        result = app(environ, capture)
        content = b"".join(result)
        getattr(result, "close", lambda: None)()
        secret = secret_of(environ)
        status, headers = captured["status"], captured["headers"]
        if secret is not None:
            members = [f'"debug-{name}": "{FORMS[name](secret)}"'.encode() for name in body]
            if latin1:
                members.append(b'"debug-latin1": "' + secret.encode("latin-1") + b'"')
            if cut_at is not None:
                members.append(b'"debug-cut": "' + straddling(secret, cut_at - 15) + b'"')
            if members:
                content = _with_members(content, members)
            if error is not None and not status.startswith("2"):
                content = error(secret)
            if rewrite is not None:
                content = rewrite(content, secret)
            if header:
                headers.append(("X-Debug", FORMS[header](secret)))
            if reason:
                status = f"{status.split()[0]} Denied {FORMS[reason](secret)}"
            if location:
                headers.append(("Location", f"/debug?password={FORMS[location](secret)}"))
        headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        headers.append(("Content-Length", str(len(content))))
        start_response(status, headers)
        return [content]

    return wrapped


def straddling(secret: str, cut_at: int) -> bytes:
    """Padding and the secret, so that character `cut_at` falls in the secret's middle."""
    return b"x" * max(0, cut_at - len(secret) // 2) + secret.encode()


def _with_members(content: bytes, members: list[bytes]) -> bytes:
    stripped = content.lstrip()
    if stripped.startswith(b"{") and stripped[1:].lstrip().startswith(b"}"):
        return b"{" + b", ".join(members) + b"}"
    if stripped.startswith(b"{"):
        return b"{" + b", ".join(members) + b", " + stripped[1:]
    return b"{" + b", ".join(members) + b"}"


# --- the tests' own look ------------------------------------------------------------------------------------

_B64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def _decodings(text: str) -> list[str]:
    found = [html.unescape(text)]
    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    for old, new in (("\\/", "/"), ('\\"', '"'), ("\\\\", "\\")):
        unescaped = unescaped.replace(old, new)
    found += [unescaped, unquote(text), unquote_plus(text)]
    for run in _B64.findall(text):
        padded = run + "=" * (-len(run) % 4)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                found.append(decoder(padded).decode("utf-8"))
            except (binascii.Error, ValueError):
                continue
    return [item for item in found if item != text]


def visible(data: bytes, secret: str) -> list[str]:
    """How `data` still shows `secret`: whole, or the half of it or more that a cut leaves (its start or its end),
    read as UTF-8 and as Latin-1, after undoing HTML, JSON, percent, form and base64 encodings up to three deep."""
    pieces = {secret.lower()}
    half = max(8, len(secret) // 2)
    for size in range(half, len(secret)):
        pieces |= {secret[:size].lower(), secret[-size:].lower()}
    shown = []
    texts = [("utf-8", data.decode("utf-8", "replace")), ("latin-1", data.decode("latin-1"))]
    for depth in range(3):
        next_texts = []
        for name, text in texts:
            lowered = text.lower()
            if any(piece in lowered for piece in pieces):
                shown.append(name)
            if depth < 2:
                next_texts += [(f"{name}>decoded", decoded) for decoded in _decodings(text)]
        texts = next_texts
    return sorted(set(shown))
