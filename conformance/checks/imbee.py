"""Checks specific to the Imbee REST API: the {time, code, message, body} envelope on every answer."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

from . import NOT_APPLICABLE, RuleViolation, report, rules


def _envelope(response: Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@schemathesis.check
@rules("envelope", "envelope-time")
def imbee_envelope(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every answer, errors and unknown paths included, is {time: number >= 0, code: integer, message, body}."""
    envelope = _envelope(response)
    if envelope is None or not {"time", "code", "message", "body"} <= envelope.keys():
        raise RuleViolation(
            "envelope",
            "Answer is not the envelope",
            f"The {response.status_code} answer is {response.content[:160]!r}; every answer must be the JSON object "
            '{"time": <seconds>, "code": <integer>, "message": "...", "body": ...}.',
        )
    found: list[RuleViolation] = []
    time = envelope["time"]
    if isinstance(time, bool) or not isinstance(time, int | float) or time < 0:
        found.append(
            RuleViolation(
                "envelope-time",
                "time is not a non-negative number",
                f'"time" is {time!r} ({type(time).__name__}); it must be a JSON number of seconds, e.g. 0.00019.',
            )
        )
    code = envelope["code"]
    if isinstance(code, bool) or not isinstance(code, int) or not isinstance(envelope["message"], str):
        found.append(
            RuleViolation(
                "envelope",
                "code or message has the wrong type",
                f'"code" is {code!r} and "message" is {envelope["message"]!r}; code is an integer, message a string.',
            )
        )
    report(found)
    return None


@schemathesis.check
@rules("error-code")
def imbee_error_code(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error never says code 0: a refused request carries a non-zero code and a message (status policy A)."""
    envelope = _envelope(response)
    if envelope is None or response.status_code < 400:
        return NOT_APPLICABLE
    if envelope.get("code") == 0 or not envelope.get("message"):
        raise RuleViolation(
            "error-code",
            "Error answered with code 0 or no message",
            f"The {response.status_code} answer carries code {envelope.get('code')!r} and message "
            f"{envelope.get('message')!r}; an error must carry a non-zero code (1 is the generic error) and a message.",
        )
    return None
