"""Checks specific to the Koshelek Loyalty Online API."""

from __future__ import annotations

from schemathesis import Case, CheckContext, Response

from . import NOT_APPLICABLE, RuleViolation, RuleWarning, check, examined, report
from .common import header, parse_media_type


def loyalty_error_object(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every error answer (4xx, 5xx) is the JSON object {"code": "...", "description": "..."}, both strings.

    A success or a redirect with another status than the documented 200 is no error: the status rule judges it."""
    if response.status_code < 400:
        return NOT_APPLICABLE
    declared = header(response, "content-type")
    media_type = parse_media_type(declared)[0] if declared else ""  # an absent type is no text/plain
    try:
        body = response.json()
    except ValueError:
        kind = "an HTML page" if b"<html" in response.content[:512].lower() else f"not JSON ({media_type or 'no type'})"
        raise RuleViolation(
            "error-is-json",
            "Error body is not JSON",
            f"The {response.status_code} answer is {kind}: {response.content[:120]!r}. "
            'An error must be the JSON object {"code": "...", "description": "..."}.',
        ) from None
    if not isinstance(body, dict):
        raise RuleViolation(
            "error-object",
            "Error body is not {code, description}",
            f"The {response.status_code} answer is {str(body)[:200]}; it must be a JSON object "
            'with string members "code" and "description".',
        )
    found: list[RuleViolation] = []
    missing = [name for name in ("code", "description") if name not in body]
    if missing:
        found.append(
            RuleViolation(
                "error-object",
                "Error body is not {code, description}",
                f"The {response.status_code} answer {str(body)[:200]} lacks {' and '.join(missing)}; it must be a "
                'JSON object with string members "code" and "description".',
            )
        )
    if "code" in body and not isinstance(body["code"], str):
        found.append(
            RuleViolation(
                "error-code-string",
                "Error code is not a JSON string",
                f'"code" is {body["code"]!r} ({type(body["code"]).__name__}); write it as a string, '
                f'e.g. "code": "{body["code"]}".',
            )
        )
    if "description" in body and not isinstance(body["description"], str):
        found.append(
            RuleViolation(
                "error-object",
                "Error description is not a JSON string",
                f'"description" is {body["description"]!r}; it must be a string.',
            )
        )
    report(found)
    return examined(f"the {response.status_code} answer's error object")


loyalty_error_object = check(loyalty_error_object, "error-is-json", "error-object", "error-code-string")


def at_most_one_card(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A card search answers one `card` object at most, never an array or a list of cards."""
    if case.operation.definition.raw.get("operationId") != "findCard" or response.status_code != 200:
        return NOT_APPLICABLE
    if not response.content:
        return NOT_APPLICABLE  # nothing found: no card to count
    try:
        body = response.json()
    except ValueError:
        return NOT_APPLICABLE  # not JSON: the schema check reports it
    if isinstance(body, list) or (isinstance(body, dict) and isinstance(body.get("card"), list)):
        count = len(body) if isinstance(body, list) else len(body["card"])
        raise RuleViolation(
            "single-card",
            "More than one card returned",
            f"The search answered a list of {count} card(s); it must answer a single "
            '{"card": {...}} object (or 422 when the partner cannot choose).',
        )
    if not isinstance(body, dict) or "card" not in body:
        return NOT_APPLICABLE  # no card at all (`{}`, a search that found nothing): none to count
    return examined("one card object")


at_most_one_card = check(at_most_one_card, "single-card")


BARCODE_LENGTHS = {"EAN_8": 8, "EAN_13": 13, "UPC_A": 12}  # the kinds with a digit count and a check digit


def barcode_problem(number: str, kind: str) -> str | None:
    """Why `number` is not a valid barcode of `kind`, or None when it is (or when the kind has no digit rule)."""
    lengths = BARCODE_LENGTHS
    if kind not in lengths:
        return None
    if not number.isdigit() or len(number) != lengths[kind]:
        return f"{kind} needs {lengths[kind]} digits, got {number!r}"
    digits = [int(d) for d in number]
    body, check = digits[:-1], digits[-1]
    # Weights 3,1,3,... counted from the digit next to the check digit (EAN-8, EAN-13 and UPC-A alike).
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    expected = (10 - total % 10) % 10
    return None if check == expected else f"{kind} {number} has check digit {check}, expected {expected}"


def barcode_consistent_with_type(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """barcodeNumber fits barcodeType (length, check digit). The documents do not say so: a warning only."""
    if response.status_code != 200 or not response.content:
        return NOT_APPLICABLE
    try:
        card = response.json().get("card")
        number, kind = card["barcode"]["barcodeNumber"], card["barcode"]["barcodeType"]
    except (ValueError, AttributeError, KeyError, TypeError):
        return NOT_APPLICABLE
    if not isinstance(number, str) or not isinstance(kind, str) or kind not in BARCODE_LENGTHS:
        return NOT_APPLICABLE  # QR_CODE, CODE_128, ...: no length or check digit to hold the number to
    if problem := barcode_problem(number, kind):
        raise RuleWarning("barcode-consistency", "barcodeNumber does not fit barcodeType", problem)
    return examined(f"{kind} {number}: length and check digit")


barcode_consistent_with_type = check(barcode_consistent_with_type, "barcode-consistency")
