"""The robustness pass on every field of every Loyalty operation (see conformance.suites.robustness)."""

from __future__ import annotations

import requests

from conformance.suites.robustness import BaseRequest, robustness_test
from conformance.suites.support import Run, operation


def base_request(run: Run, operation_id: str, http: requests.Session) -> BaseRequest:
    person = run.target.config.identity("with_card") or {}
    if operation_id == "findCard":
        return BaseRequest(query={"msisdn": person.get("msisdn", "79000000000")})
    if operation_id == "updateCommunication":
        return BaseRequest(
            path_parameters={"cardNumber": person.get("card_number", "0")}, body={"allow": ["sms"], "deny": []}
        )
    content = operation(run, operation_id).definition.raw.get("requestBody", {}).get("content", {})
    return BaseRequest(body=content.get("application/json", {}).get("example"))


test_every_field_survives_hostile_input = robustness_test(base_request)
