"""Schema-driven contract tests of the send operations: schemathesis generates valid and invalid sends and runs
the profile's checks (status codes of the error table, JSON and UTF-8, the {status, errors} error body, the
response schema, invalid sends rejected with 400). The password reset is left to its own test: generating it
would change the suite's own password mid-run."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.support import Run, contract_test


@contract_test
@pytest.mark.requirement("R-PUSH-02", "R-PUSH-09")
def test_operation_conforms(case, run: Run, http: requests.Session) -> None:  # noqa: ANN001 - a schemathesis Case
    case.call_and_validate(session=http, checks=list(run.profile.checks))
