"""Checks that any JSON-over-HTTP API of this suite can use: media type, charset, UTF-8, scalar typing."""

from __future__ import annotations

from email.message import Message
from typing import Any

from schemathesis import Case, CheckContext, Response

from ..ingest import raw_facts
from . import NOT_APPLICABLE, RuleViolation, RuleWarning, check, examined, report


def header(response: Response, name: str) -> str | None:
    values = response.headers.get(name.lower())
    return values[0] if values else None


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """`application/json; charset=UTF-8;` -> ("application/json", {"charset": "utf-8"}); tolerant of a trailing ';'."""
    message = Message()
    message["content-type"] = value.strip().rstrip(";")
    params = {key.lower(): val.lower() for key, val in message.get_params()[1:]}
    return message.get_content_type(), params


def json_content_type(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every answer with a body, errors included, says `Content-Type: application/json`."""
    if not response.content:
        return NOT_APPLICABLE  # no body (a 204, a 304, an empty 200): nothing to type
    value = header(response, "content-type")
    if value is None:
        raise RuleViolation(
            "content-type-json",
            "Content-Type header missing",
            "The response has no Content-Type header; every answer must say `Content-Type: application/json`.",
        )
    media_type, _ = parse_media_type(value)
    if media_type != "application/json":
        raise RuleViolation(
            "content-type-json",
            "Content-Type is not application/json",
            f"Got `Content-Type: {value}`; expected `application/json; charset=utf-8`.",
        )
    return examined(f"Content-Type: {media_type}")


json_content_type = check(json_content_type, "content-type-json")


def utf8_charset_declared(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The Content-Type names the UTF-8 charset (`application/json; charset=utf-8`, any case, trailing ';' ok)."""
    value = header(response, "content-type")
    if value is None or not response.content:
        return NOT_APPLICABLE  # json_content_type reports a missing header; a body-less answer has no charset
    _, params = parse_media_type(value)
    if params.get("charset") != "utf-8":
        raise RuleViolation(
            "charset-utf8",
            "Content-Type lacks charset=utf-8",
            f"Got `Content-Type: {value}`; the charset parameter must be utf-8 (`application/json; charset=utf-8`).",
        )
    return examined("charset=utf-8")


utf8_charset_declared = check(utf8_charset_declared, "charset-utf8")


def utf8_body(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The body is valid UTF-8 (Cyrillic as UTF-8 or \\u escapes, never a legacy code page)."""
    if not response.content:
        return NOT_APPLICABLE
    error = _utf8_error(response)
    if error is not None:
        offset, byte = error
        what = "A byte of a masked secret" if byte is None else f"Byte {offset} ({byte:#04x})"
        snippet = response.content[max(offset - 20, 0) : offset + 20]  # masked already: cutting exposes nothing
        raise RuleViolation(
            "utf8-body",
            "Body is not valid UTF-8",
            f"{what} is not UTF-8: {snippet!r}. Encode the body as UTF-8 (Windows-1251 is a common cause).",
        )
    return examined(f"{len(response.content)} bytes of UTF-8")


utf8_body = check(utf8_body, "utf8-body")


def _utf8_error(response: Response) -> tuple[int, int | None] | None:
    """Where the body, as the target sent it, stops being UTF-8 (masking may have replaced the very bytes)."""
    facts = raw_facts(response)
    if facts is not None:
        return facts.utf8_error
    try:
        response.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start, response.content[exc.start]
    return None


def json_body(response: Response) -> Any:
    """The decoded JSON body, or None when the body is empty or not JSON (other checks report that)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _scalars(value: Any) -> Any:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


def non_string_scalars(value: Any, path: str = "$") -> list[tuple[str, Any]]:
    """Every scalar below `value` that is not a string, with its JSONPath."""
    if isinstance(value, dict):
        return [hit for key, item in value.items() for hit in non_string_scalars(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [hit for index, item in enumerate(value) for hit in non_string_scalars(item, f"{path}[{index}]")]
    return [] if isinstance(value, str) else [(path, value)]


def scalars_are_strings(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every elementary value at any depth of a JSON body is a string; a null only warns."""
    body = json_body(response)
    if body is None:
        return NOT_APPLICABLE
    hits = non_string_scalars(body)
    if not any(True for _ in _scalars(body)):
        return NOT_APPLICABLE  # an empty object or array: no elementary value to type
    typed = [(path, value) for path, value in hits if value is not None]
    nulls = [path for path, value in hits if value is None]
    found: list[RuleViolation] = []
    if typed:
        listing = ", ".join(f"{path} = {value!r} ({type(value).__name__})" for path, value in typed[:10])
        found.append(
            RuleViolation(
                "string-scalars",
                "Non-string scalar in the response body",
                f"Every elementary value must be a JSON string, even numbers and booleans "
                f'(write "300", not 300): {listing}.',
            )
        )
    if nulls:
        found.append(
            RuleWarning("string-nulls", "null where a string is expected", "null at " + ", ".join(nulls[:10]) + ".")
        )
    report(found)
    return examined("every elementary value is a string")


scalars_are_strings = check(scalars_are_strings, "string-scalars", "string-nulls")
