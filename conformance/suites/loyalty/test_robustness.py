"""Malformed requests (R-LOY-31, R-LOY-38) and the optional methods (R-LOY-28, R-LOY-29, R-LOY-30)."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.support import Run, body_json, has_operation, send

MALFORMED_BODIES = [b'{"allow": ["sms"', b"not json at all", b'{"allow": "\xff\xfe"}']


@pytest.mark.requirement("R-LOY-31")
@pytest.mark.parametrize("operation_id", ["updateCommunication", "sendQrCode"])
@pytest.mark.parametrize("raw", MALFORMED_BODIES, ids=["truncated", "not-json", "not-utf8"])
def test_malformed_json_body_is_a_422(operation_id: str, raw: bytes, run: Run, http: requests.Session) -> None:
    if not has_operation(run, operation_id):
        pytest.skip(f"{operation_id} is not part of API version {run.target.api_version}")
    card = (run.target.config.identity("with_card") or {}).get("card_number", "0")
    response = send(run, http, operation_id, path_parameters={"cardNumber": card}, raw_body=raw)
    assert response.status_code == 422, (
        f"a malformed JSON body {raw!r} answered {response.status_code}; it must answer 422 with the error object"
    )


@pytest.mark.requirement("R-LOY-38")
@pytest.mark.parametrize(
    "query",
    [
        {"msisdn": "+79216668899"},
        {"msisdn": "7921666889912345"},
        {"birthDate": "01.01.1990"},
        {"birthDate": "1990-02-30"},
    ],
    ids=["msisdn-plus", "msisdn-too-long", "date-dotted", "date-impossible"],
)
def test_malformed_search_value_is_a_422(query: dict[str, str], run: Run, http: requests.Session) -> None:
    response = send(run, http, "findCard", query=query)
    assert response.status_code == 422, (
        f"GET /v1/card with {query} answered {response.status_code}; the suite prefers 422 with the error object "
        "for a value that breaks the documented format (the documents do not say; answering 200 also conforms)"
    )


@pytest.mark.requirement("R-LOY-28", "R-LOY-30")
def test_get_all_users_lists_phone_numbers(run: Run, http: requests.Session) -> None:
    if not has_operation(run, "getAllUsers"):
        pytest.skip("getAllUsers is not among the target config's optional_methods")
    response = send(run, http, "getAllUsers")
    assert response.status_code == 200 and isinstance(body_json(response), list), (
        f"GET /v1/card/getAllUsers answered {response.status_code} {response.text[:200]!r}; an agreed optional "
        "method answers 200 with an array of phone numbers (is it routed as /v1/card/{cardNumber}?)"
    )


@pytest.mark.requirement("R-LOY-29", "R-LOY-30")
def test_get_all_users_extended_lists_users(run: Run, http: requests.Session) -> None:
    if not has_operation(run, "getAllUsersExtended"):
        pytest.skip("getAllUsersExtended is not among the target config's optional_methods")
    response = send(run, http, "getAllUsersExtended")
    assert response.status_code == 200 and isinstance(body_json(response), list), (
        f"GET /v1/card/getAllUsersExtended answered {response.status_code} {response.text[:200]!r}; an agreed "
        "optional method answers 200 with an array of users"
    )
