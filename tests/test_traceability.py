"""Schema failures are attributed to the requirement of the deepest schema node on the failing path."""

from __future__ import annotations

from conformance.profiles import get_profile
from conformance.traceability import response_requirements, schema_failure_requirements

SPEC = get_profile("loyalty").spec
FIND_CARD = SPEC["paths"]["/v1/card"]["get"]


def test_enum_failure_maps_to_its_own_rule() -> None:
    assert schema_failure_requirements(SPEC, FIND_CARD, 200, ["card", "cardState"]) == ("R-LOY-16",)
    assert schema_failure_requirements(SPEC, FIND_CARD, 200, ["card", "barcode", "barcodeType"]) == ("R-LOY-17",)


def test_missing_member_maps_to_the_enclosing_object() -> None:
    assert schema_failure_requirements(SPEC, FIND_CARD, 200, ["card"]) == ("R-LOY-40",)


def test_error_response_is_resolved_through_its_ref() -> None:
    assert response_requirements(SPEC, FIND_CARD, 422) == ("R-LOY-08", "R-LOY-09")
    assert schema_failure_requirements(SPEC, FIND_CARD, 422, ["code"]) == ("R-LOY-09",)
