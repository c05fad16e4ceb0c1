"""The robustness pass on every field of a callback (see conformance.suites.robustness): Koshelek would not send
these, but a receiver that crashes on them is one malformed upstream message away from losing statuses."""

from __future__ import annotations

import requests

from conformance.suites.push_callback.callbacks import callback
from conformance.suites.robustness import BaseRequest, robustness_test
from conformance.suites.support import Run


def base_request(run: Run, operation_id: str, http: requests.Session) -> BaseRequest:
    return BaseRequest(body=callback(msisdn=79216668899))


test_every_field_survives_hostile_input = robustness_test(base_request)
