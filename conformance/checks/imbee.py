"""Checks specific to the Imbee REST API: the {time, code, message, body} envelope on every answer (documented), and
the suite's advice on error answers (the documents give no HTTP statuses and set no minimum on `message`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from schemathesis import Case, CheckContext, Response

from . import NOT_APPLICABLE, RuleViolation, RuleWarning, check, examined, report


def _envelope(response: Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def is_refusal_envelope(response: Any) -> bool:
    """Whether an answer is the documented envelope with a non-zero code: the documented form of a refusal, whatever
    its HTTP status (the documents give none)."""
    try:
        body = response.json()
    except ValueError:
        return False
    code = body.get("code") if isinstance(body, dict) else None
    keys = {"time", "code", "message", "body"}
    return (
        isinstance(body, dict)
        and keys <= body.keys()
        and isinstance(code, int)
        and not isinstance(code, bool)
        and code != 0
    )


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
    return examined("the envelope {time, code, message, body}")


imbee_envelope = check(imbee_envelope, "envelope", "envelope-time")


def imbee_error_code(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An answer with an error status carries a non-zero code (the suite's status policy) and a message.

    Both are the suite's preferences, not the documents' (which give no statuses and call `message` not relevant),
    so a breach is a warning: it never fails the run, nor stops the test that received the answer.
    """
    envelope = _envelope(response)
    if envelope is None or response.status_code < 400:
        return NOT_APPLICABLE
    found: list[RuleViolation] = []
    if envelope.get("code") == 0:
        found.append(
            RuleWarning(
                "error-code-zero",
                "Error status answered with code 0",
                f"The {response.status_code} answer carries code 0, the code of a processed request; the suite "
                "expects a non-zero code (1 is the generic error) with an error status.",
            )
        )
    if not envelope.get("message"):
        found.append(
            RuleWarning(
                "error-message",
                "Error answered without a message",
                f"The {response.status_code} answer carries message {envelope.get('message')!r}; the suite expects "
                "a refused request to say why.",
            )
        )
    report(found)
    return examined(f"the {response.status_code} answer's code and message")


imbee_error_code = check(imbee_error_code, "error-code-zero", "error-message")


def is_real_date(value: object) -> bool:
    """A real calendar date written YYYY-MM-DD, as the documents write date_limit (2030-02-30 is not one)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True
