"""Transport: the service is served over HTTPS with a certificate the client can verify (R-LOY-01)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from conformance.suites.support import Run, send


@pytest.mark.requirement("R-LOY-01")
def test_served_over_verified_https(run: Run, http: requests.Session) -> None:
    scheme = urlsplit(run.target.base_url).scheme
    assert scheme == "https", (
        f"The target is served over {scheme}:// ({run.target.base_url}); Koshelek calls the Loyalty "
        "Online API over HTTPS only. Serve it with TLS and a certificate Koshelek can verify."
    )
    identity = run.target.config.identity("with_card") or {}
    # The session verifies the certificate; a TLS failure surfaces as a transport error of the run.
    send(run, http, "findCard", query={"msisdn": identity.get("msisdn", "79000000000")})
