"""Schema-driven contract tests: schemathesis sends valid callbacks (Koshelek sends no malformed ones) and checks
the receiver answers each with 200, in UTF-8, and never with a server error."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.support import Run, contract_test


@contract_test
@pytest.mark.requirement("R-CB-03")
def test_operation_conforms(case, run: Run, http: requests.Session) -> None:  # noqa: ANN001 - a schemathesis Case
    case.call_and_validate(session=http, checks=list(run.profile.checks))
