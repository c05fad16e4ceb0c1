"""The robustness pass on every field of every Imbee operation (see conformance.suites.robustness). Each starts
from a valid request of users the suite creates: a token for a fresh user, a chat of one user with another."""

from __future__ import annotations

import requests

from conformance.suites.imbee.accounts import create_user, new_unique_id, token_body, user_body
from conformance.suites.robustness import BaseRequest, robustness_test
from conformance.suites.support import Run


def base_request(run: Run, operation_id: str, http: requests.Session) -> BaseRequest:
    if operation_id == "createExternalUser":
        return BaseRequest(body=user_body(new_unique_id(run)))
    if operation_id == "createToken":
        return BaseRequest(body=token_body(run, create_user(run, http, new_unique_id(run))["virtualUser"]))
    creator, other = create_user(run, http, new_unique_id(run)), create_user(run, http, new_unique_id(run))
    return BaseRequest(
        body={"type": "chat", "contacts": [{"idsha": other["virtualUser"]}]}, headers={"X-WOOS-KEY": creator["apikey"]}
    )


test_every_field_survives_hostile_input = robustness_test(base_request)
