"""Checks specific to the Koshelek Push API."""

from __future__ import annotations

from schemathesis import Case, CheckContext, Response

from . import NOT_APPLICABLE, RuleViolation, check, examined, report


def push_error_body(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error answer is a JSON object shaped as the documents' example error answers show it: a string `status` and an
    `errors` array of strings (the example fixes the shape; its literal values stay the suite's advice)."""
    if response.status_code < 300 or (response.status_code == 304 and not response.content):
        return NOT_APPLICABLE
    try:
        body = response.json()
    except ValueError:
        raise RuleViolation(
            "push-error-json",
            "Error body is not JSON",
            f"The {response.status_code} answer is {response.content[:120]!r}; an error must be the JSON object "
            '{"status": "...", "errors": ["field: message"]}.',
        ) from None
    if not isinstance(body, dict):
        raise RuleViolation(
            "push-error-json",
            "Error body is not a JSON object",
            f'The {response.status_code} answer is {str(body)[:200]}; it must be {{"status": "...", "errors": [...]}}.',
        )
    found: list[RuleViolation] = []
    if not isinstance(body.get("status"), str):
        found.append(
            RuleViolation(
                "push-error-shape",
                "Error body has no string status",
                f"The {response.status_code} answer is {str(body)[:200]}; it must carry a string "
                '"status" (e.g. "BAD_REQUEST").',
            )
        )
    errors = body.get("errors")
    if not isinstance(errors, list) or not all(isinstance(item, str) for item in errors):
        found.append(
            RuleViolation(
                "push-error-shape",
                "Error body has no errors array of strings",
                f'"errors" is {errors!r}; it must be an array of strings such as "payload.title: size must be '
                'between 0 and 50".',
            )
        )
    report(found)
    return examined(f"the {response.status_code} answer's error body {{status, errors}}")


push_error_body = check(push_error_body, "push-error-json", "push-error-shape")
