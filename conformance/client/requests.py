"""A request a client sent, as the rules read it: operation, headers, media type, encoding and JSON body."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_NOT_PARSED = object()


def operations(spec: Mapping[str, Any]) -> list[tuple[str, re.Pattern[str], str]]:
    """(METHOD, path pattern, operationId) of every documented operation."""
    found = []
    for path, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in item.items():
            if method in METHODS:
                found.append((method.upper(), pattern, str(operation.get("operationId", f"{method} {path}"))))
    return found


@dataclass
class ClientRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # names as sent; kept in memory only, the journal gets them masked
    body: bytes
    operation: str | None = None  # the documented operation it calls, None for any other method and path
    # Where the unmasked body stopped being UTF-8, when the request was masked at ingestion (conformance.ingest):
    # (offset in the masked body, the byte or None when it was part of a secret); None: it was UTF-8.
    raw_utf8_error: tuple[int, int | None] | None = None
    masked: bool = False
    _json: Any = field(default=_NOT_PARSED, repr=False)

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    @cached_property
    def _content_type(self) -> Message:
        message = Message()
        message["content-type"] = self.header("Content-Type") or ""
        return message

    @property
    def media_type(self) -> str | None:
        """The Content-Type's media type, lower-cased (None without the header)."""
        return self._content_type.get_content_type() if self.header("Content-Type") else None

    @property
    def charset(self) -> str | None:
        value = self._content_type.get_param("charset")
        return str(value).lower() if isinstance(value, str) else None

    @cached_property
    def utf8_problem(self) -> str | None:
        """Where the body (as the client sent it) is not UTF-8, in words; None when it is."""
        if self.masked:
            if self.raw_utf8_error is None:
                return None
            offset, byte = self.raw_utf8_error
            return (
                f"a byte of a masked secret at offset {offset}"
                if byte is None
                else f"byte 0x{byte:02x} at offset {offset}"
            )
        try:
            self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"byte 0x{self.body[exc.start]:02x} at offset {exc.start}"
        return None

    @property
    def utf8(self) -> bool:
        return self.utf8_problem is None

    @cached_property
    def text(self) -> str:
        """The body as the journal shows it: UTF-8, or the bytes escaped after a marker."""
        if self.utf8:
            return self.body.decode("utf-8")
        return "(not UTF-8) " + self.body.decode("utf-8", "backslashreplace")

    @property
    def json(self) -> Any:
        """The body parsed as JSON (read as UTF-8), or `None` when it is empty or not JSON (see `json_error`)."""
        if self._json is _NOT_PARSED:
            try:
                self._json = json.loads(self.body.decode("utf-8", "replace")) if self.body else None
            except (ValueError, RecursionError):
                self._json = None
        return self._json

    @property
    def json_error(self) -> str | None:
        if not self.body:
            return "the body is empty"
        if self.json is None and self.body.strip() != b"null":
            return "the body is not JSON"
        return None
