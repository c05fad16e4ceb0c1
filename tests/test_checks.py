"""Unit tests of the checks' building blocks; the checks themselves are proven against the faulty variants."""

from __future__ import annotations

import pytest

from conformance.checks.common import non_string_scalars, parse_media_type
from conformance.checks.loyalty import barcode_problem


@pytest.mark.parametrize(
    "value, expected",
    [
        ("application/json; charset=utf-8", ("application/json", {"charset": "utf-8"})),
        ("application/json; charset=utf-8;", ("application/json", {"charset": "utf-8"})),
        ("Application/JSON;Charset=UTF-8", ("application/json", {"charset": "utf-8"})),
        ("application/json", ("application/json", {})),
        ("text/html; charset=windows-1251", ("text/html", {"charset": "windows-1251"})),
    ],
)
def test_media_type_parsing_tolerates_the_documented_trailing_semicolon(value: str, expected: tuple) -> None:
    assert parse_media_type(value) == expected


def test_non_string_scalars_are_found_at_any_depth() -> None:
    body = {"card": {"n": "1", "bonus": {"total": 300, "list": ["a", True, None]}}, "ok": "yes"}
    assert non_string_scalars(body) == [
        ("$.card.bonus.total", 300),
        ("$.card.bonus.list[1]", True),
        ("$.card.bonus.list[2]", None),
    ]
    assert non_string_scalars({"all": ["strings", {"here": "too"}]}) == []


@pytest.mark.parametrize(
    "number, kind",
    [("4600000000008", "EAN_13"), ("96385074", "EAN_8"), ("036000291452", "UPC_A"), ("anything", "QR_CODE")],
)
def test_valid_barcodes_pass(number: str, kind: str) -> None:
    assert barcode_problem(number, kind) is None


@pytest.mark.parametrize(
    "number, kind, reason",
    [
        ("4600000000009", "EAN_13", "check digit"),
        ("460000000000", "EAN_13", "13 digits"),
        ("96385075", "EAN_8", "check digit"),
    ],
)
def test_invalid_barcodes_are_explained(number: str, kind: str, reason: str) -> None:
    assert reason in barcode_problem(number, kind)
