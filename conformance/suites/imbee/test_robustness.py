"""Bad input still gets the envelope (R-IMB-30, R-IMB-31, R-IMB-35) and the service is served over HTTPS (R-IMB-07)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from conformance.suites.imbee.accounts import new_unique_id, user_body
from conformance.suites.support import Run, body_json, send


@pytest.mark.requirement("R-IMB-07")
def test_served_over_verified_https(run: Run, http: requests.Session) -> None:
    scheme = urlsplit(run.target.base_url).scheme
    assert scheme == "https", f"the API is served over {scheme}:// ({run.target.base_url}); production is https://HOST"
    send(run, http, "createExternalUser", body=user_body(new_unique_id(run)))


@pytest.mark.requirement("R-IMB-30", "R-IMB-31")
@pytest.mark.parametrize("raw", [b'{"uniqueIdSha": ', b"not json", b"[1, 2, 3]"], ids=["truncated", "text", "array"])
def test_malformed_json_gets_the_error_envelope(raw: bytes, run: Run, http: requests.Session) -> None:
    response = send(run, http, "createExternalUser", raw_body=raw)
    envelope = body_json(response)
    assert response.status_code == 400, f"a malformed body {raw!r} answered {response.status_code}, not 400"
    assert isinstance(envelope, dict) and envelope.get("code") not in (0, None), (
        f"a malformed body {raw!r} must get the error envelope with a non-zero code; got {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-IMB-35")
@pytest.mark.parametrize("content_type", [None, "text/plain"], ids=["none", "text-plain"])
def test_a_body_that_is_not_declared_json_is_refused(
    content_type: str | None, run: Run, http: requests.Session
) -> None:
    import json

    raw = json.dumps(user_body(new_unique_id(run))).encode()
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
    response = send(run, http, "createExternalUser", raw_body=raw, headers=headers)
    assert response.status_code == 415 and (body_json(response) or {}).get("code") not in (0, None), (
        f"a request with Content-Type {content_type!r} answered {response.status_code}; every request must say "
        "application/json, and the suite expects 415 with the error envelope"
    )
