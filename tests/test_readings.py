"""Services that take other readings the documents allow are no failures: the suite judges the documented form, and
leaves what the documents leave open to its advisory rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli

from conformance.fixtures.server import serve
from conformance.profiles import get_profile

OPTIONS = ("--reference-data", "--max-examples", "3", "--seed", "11")
IMBEE_AUTH, IMBEE_KEY = "imbee-auth-token-for-readings", "corporate-key-for-readings"


def other_imbee_readings(app):
    """The Imbee reference with two readings of its own: every refusal answered 500 (the envelope and its non-zero
    code kept: the documents give no HTTP statuses), and max_retries written 10.0 (JSON has one number type)."""

    def wrapped(environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = app(environ, capture)
        body = b"".join(result)
        status = captured["status"]
        if status.startswith("400"):
            status = "500 Internal Server Error"
        body = re.sub(rb'"max_retries":\s*(\d+)', rb'"max_retries": \1.0', body)
        headers = [(n, v) for n, v in captured["headers"] if n.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


@pytest.mark.slow
def test_an_imbee_service_that_refuses_with_500_and_writes_integers_as_10_0_conforms(tmp_path: Path) -> None:
    app = other_imbee_readings(get_profile("imbee").reference_app((IMBEE_AUTH, IMBEE_KEY), ()))
    with serve(app) as server:
        result = run_cli(
            [
                "run",
                "imbee",
                "--base-url",
                server.base_url,
                "--ca-bundle",
                server.ca_bundle or "",
                "--reference-data",
                "--max-examples",
                "3",
                "--seed",
                "11",
            ],
            tmp_path,
            env={"CONFORMANCE_IMBEE_AUTH": IMBEE_AUTH, "CONFORMANCE_IMBEE_KEY": IMBEE_KEY},
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.status_of("R-IMB-30", "imbee") == "pass", "an answer that keeps the envelope meets the form's rule"
    assert result.status_of("R-IMB-39", "imbee") == "pass", "10.0 is the integer 10"
    assert result.status_of("R-IMB-45", "imbee") == "warn", "the status is the suite's advisory policy"
