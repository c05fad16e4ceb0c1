"""Bad input still gets the envelope (R-IMB-30) and is refused with a non-zero code (R-IMB-31); a body not declared
JSON is refused (R-IMB-35, advisory); the service answers at the configured HOST (R-IMB-07), over HTTPS in the
suite's preference (R-IMB-47, advisory). HTTP statuses are the suite's preference (R-IMB-45, advisory)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests

from conformance.suites.imbee.accounts import code_of, new_unique_id, processed, user_body
from conformance.suites.support import Run, body_json, prefer, send

ENVELOPE = ("time", "code", "message", "body")
MALFORMED = pytest.mark.parametrize(
    "raw", [b'{"uniqueIdSha": ', b"not json", b"[1, 2, 3]"], ids=["truncated", "text", "array"]
)


@pytest.mark.requirement("R-IMB-07")
def test_served_over_verified_https(run: Run, http: requests.Session) -> None:
    # The configured base URL is the HOST Imbee provides: a documented request sent there is processed.
    response = send(run, http, "createExternalUser", body=user_body(new_unique_id(run)))
    processed(response, f"/third_parties/user/new at {run.target.base_url}")
    scheme = urlsplit(run.target.base_url).scheme
    prefer(
        run,
        "R-IMB-47",
        scheme == "https",
        f"the API is served over {scheme}:// ({run.target.base_url}); the suite prefers https://HOST",
    )


@pytest.mark.requirement("R-IMB-30")
@MALFORMED
def test_malformed_json_gets_the_envelope(raw: bytes, run: Run, http: requests.Session) -> None:
    response = send(run, http, "createExternalUser", raw_body=raw)
    envelope = body_json(response)
    assert isinstance(envelope, dict) and all(member in envelope for member in ENVELOPE), (
        f"a malformed body {raw!r} answered {response.status_code} {response.text[:200]!r}; every answer is the "
        "envelope {time, code, message, body}"
    )


@pytest.mark.requirement("R-IMB-31")
@MALFORMED
def test_malformed_json_is_refused_with_a_non_zero_code(raw: bytes, run: Run, http: requests.Session) -> None:
    response = send(run, http, "createExternalUser", raw_body=raw)
    code = code_of(response)
    assert code != 0, (
        f"a malformed body {raw!r} answered {response.status_code} with code {code!r}; a request that cannot be "
        "processed is answered with a non-zero code"
    )
    status = response.status_code
    prefer(run, "R-IMB-45", status == 400, f"a malformed body {raw!r} was refused with {status}; the suite prefers 400")


@pytest.mark.requirement("R-IMB-35")
@pytest.mark.parametrize("content_type", [None, "text/plain"], ids=["none", "text-plain"])
def test_a_body_that_is_not_declared_json_is_refused(
    content_type: str | None, run: Run, http: requests.Session
) -> None:
    raw = json.dumps(user_body(new_unique_id(run))).encode()
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
    response = send(run, http, "createExternalUser", raw_body=raw, headers=headers)
    code = code_of(response)
    assert code != 0, (
        f"a request with Content-Type {content_type!r} answered {response.status_code} with code {code!r}; the "
        "suite prefers a refusal with the error envelope: every request must say application/json"
    )
    status = response.status_code
    prefer(
        run,
        "R-IMB-45",
        status == 415,
        f"Content-Type {content_type!r} was refused with {status}; the suite prefers 415",
    )
