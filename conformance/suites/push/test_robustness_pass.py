"""The robustness pass on every field of the Push API's sends (see conformance.suites.robustness). The password
reset is left out: a probe it accepted as the new password would lock the suite out of the account."""

from __future__ import annotations

import requests

from conformance.suites.push.messages import bulk_body, msisdn, send_body
from conformance.suites.robustness import BaseRequest, robustness_test
from conformance.suites.support import Run


def base_request(run: Run, operation_id: str, http: requests.Session) -> BaseRequest:
    to = msisdn(run, "unregistered") or 79990000000  # nobody receives a probe
    return BaseRequest(body=bulk_body([to]) if operation_id == "sendPushBulkSingle" else send_body(to))


test_every_field_survives_hostile_input = robustness_test(base_request, skip=frozenset({"resetPassword"}))
