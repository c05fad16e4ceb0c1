"""Schema-driven contract tests: schemathesis generates valid and invalid requests for every operation
and runs the profile's checks (status codes, media type and charset, UTF-8, error object, all-strings,
response schema, negative data rejected) on each answer."""

from __future__ import annotations

import pytest
import requests

from conformance.suites.support import Run, contract_test


@contract_test
@pytest.mark.requirement("R-LOY-02")
def test_operation_conforms(case, run: Run, http: requests.Session) -> None:  # noqa: ANN001 - a schemathesis Case
    case.call_and_validate(session=http, checks=list(run.profile.checks))
