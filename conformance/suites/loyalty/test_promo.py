"""POST /v1/promo/qrCode (v1.1.0): a partner claiming 1.1.0 implements it (R-LOY-26).

Its body is not in the documents (A-1): the suite sends the spec's example and accepts 200 or 422; the
envelope rules are checked on the answer like on any other.
"""

from __future__ import annotations

import pytest
import requests

from conformance.suites.support import Run, has_operation, operation, send


@pytest.mark.requirement("R-LOY-26")
def test_qr_code_method_is_implemented(run: Run, http: requests.Session) -> None:
    if not has_operation(run, "sendQrCode"):
        pytest.skip(f"POST /v1/promo/qrCode is new in 1.1.0; the target claims {run.target.api_version}")
    example = operation(run, "sendQrCode").definition.raw["requestBody"]["content"]["application/json"]["example"]
    response = send(run, http, "sendQrCode", body=example)
    assert response.status_code in (200, 422), (
        f"POST /v1/promo/qrCode answered {response.status_code}: a v1.1.0 service implements it and answers "
        "200 or 422 (use --api-version 1.0.0 if the service implements v1.0.0 only)"
    )
