"""Schema-driven contract tests: schemathesis sends valid callbacks of the suite's chosen form (Koshelek sends no
malformed ones) and checks the receiver answers each, in UTF-8, never with a server error (R-CB-11, R-CB-12),
and - the suite's preference - with 200 (R-CB-10)."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.support import Run, contract_test


@contract_test
@pytest.mark.requirement("R-CB-10")
def test_operation_conforms(case, run: Run, http: requests.Session) -> None:  # noqa: ANN001 - a schemathesis Case
    case.call_and_validate(session=http, checks=list(run.profile.checks))
