"""Ingestion: what a target sends is masked here, once, before any check, test, record or report reads it.

The run's HTTP layer hands every answer to the recorder, whose first act is `answer()`: the secrets the answer
hands out (a user's apikey) are learnt, then the body, the header names and values and the status line are
masked in place (`report.masking`). Everything downstream (schemathesis' checks, the tests, the records, the
reports, the terminal) sees only the masked answer, so no cut, `repr()` or lossy decoding can expose what the
masker would have found.

Two things only the unmasked bytes could tell are kept beside the masked answer:
- the secrets it handed out, by JSON pointer, for the test that asked for them (`handed_out`): an Imbee user's
  apikey is what the suite must send to create that user's chat;
- whether the body was UTF-8 (`raw_facts`): masking a Latin-1 password must not make a non-UTF-8 body look
  valid to the UTF-8 check.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict

from .report.masking import MASK, SENSITIVE_HEADERS, Masker, replace

if TYPE_CHECKING:
    from .client.requests import ClientRequest

_HANDED_OUT = "conformance_handed_out"
_RAW_FACTS = "conformance_raw_facts"
MAX_DEPTH = 50  # of the JSON walked for handed-out secrets


@dataclass(frozen=True)
class RawFacts:
    """What the unmasked body was: `utf8_error` is (the offset in the *masked* body where the first byte that is not
    UTF-8 stands, that byte or None when it was part of a masked secret), or None for a UTF-8 body."""

    utf8_error: tuple[int, int | None] | None = None


def answer(response: requests.Response, masker: Masker, secret_members: tuple[str, ...] = ()) -> None:
    """Mask everything `response` carries from the target, in place; learn the secrets it hands out first."""
    raw = response.content or b""
    handed = _handed_out(raw, secret_members) if secret_members else {}
    for value in handed.values():
        masker.add(value)
    text = raw.decode("latin-1")
    spans = masker.spans(text) if raw else []
    response._content = replace(text, spans).encode("latin-1") if spans else raw
    facts = RawFacts(_utf8_error(raw, spans))
    if response.raw is not None and getattr(response.raw, "headers", None) is not None:
        headers = HTTPHeaderDict()
        for name, value in response.raw.headers.items():
            headers.add(masker.text(name), MASK if name.lower() in SENSITIVE_HEADERS else masker.text(value))
        response.raw.headers = headers
        response.headers = CaseInsensitiveDict(headers)
    else:
        response.headers = CaseInsensitiveDict(masker.headers(response.headers))
    if response.reason:
        response.reason = masker.text(str(response.reason))
    setattr(response, _HANDED_OUT, handed)
    setattr(response, _RAW_FACTS, facts)
    if response.request is not None:  # schemathesis' Response keeps the same request object: the checks find it
        setattr(response.request, _RAW_FACTS, facts)


def client_request(request: ClientRequest, masker: Masker) -> ClientRequest:
    """The request a certified client sent, masked: path, query, header names and values, body (the credentials it
    carried were told apart before, and the secrets it sent learnt)."""
    text = request.body.decode("latin-1")
    spans = masker.spans(text) if request.body else []
    return dataclasses.replace(
        request,
        path=masker.text(request.path),
        query=masker.text(request.query),
        headers={masker.text(name): masker.text(value) for name, value in request.headers.items()},
        body=replace(text, spans).encode("latin-1") if spans else request.body,
        raw_utf8_error=_utf8_error(request.body, spans),
        masked=True,
    )


def handed_out(response: Any, member: str) -> str | None:
    """The unmasked value of the first `member` the answer handed out (e.g. "apikey"), for the test that needs it."""
    found: dict[str, str] = getattr(response, _HANDED_OUT, {})
    return next((value for pointer, value in found.items() if pointer.rsplit("/", 1)[-1] == member), None)


def raw_facts(response: Any) -> RawFacts | None:
    """The facts kept at ingestion for a requests or a schemathesis response (None: it was never ingested)."""
    facts = getattr(response, _RAW_FACTS, None)
    if facts is None:
        facts = getattr(getattr(response, "request", None), _RAW_FACTS, None)
    return facts


def _utf8_error(raw: bytes, spans: list[tuple[int, int]]) -> tuple[int, int | None] | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset, shift = exc.start, 0
        for start, end in spans:
            if end <= offset:
                shift += (end - start) - len(MASK)
            elif start <= offset:  # the byte was part of a secret: its value is not shown
                return start - shift, None
        return offset - shift, raw[offset]
    return None


def _handed_out(raw: bytes, members: tuple[str, ...]) -> dict[str, str]:
    """JSON pointer -> value of every string member named in `members`, anywhere in a JSON body."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    found: dict[str, str] = {}

    def walk(value: Any, pointer: str, depth: int) -> None:
        if depth > MAX_DEPTH or len(found) > 1000:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
                if key in members and isinstance(item, str):
                    found[here] = item
                walk(item, here, depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{pointer}/{index}", depth + 1)

    walk(body, "", 0)
    return found
