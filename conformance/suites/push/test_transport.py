"""Transport: the Push API is served over HTTPS with a certificate the client can verify (R-PUSH-01)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from conformance.suites.push.messages import msisdn, send_body
from conformance.suites.support import Run, send


@pytest.mark.requirement("R-PUSH-01")
def test_served_over_verified_https(run: Run, http: requests.Session) -> None:
    scheme = urlsplit(run.target.base_url).scheme
    assert scheme == "https", f"the Push API is served over {scheme}:// ({run.target.base_url}); it must be HTTPS"
    send(run, http, "sendPush", body=send_body(msisdn(run, "unregistered") or 79990000000))
