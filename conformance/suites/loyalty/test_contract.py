"""Schema-driven contract tests: schemathesis generates valid and invalid requests for every operation
and runs the profile's checks (status codes, media type and charset, UTF-8, error object, all-strings,
response schema, negative data rejected with 422) on each answer."""

from __future__ import annotations

import pytest
import requests

from conformance import runtime

run = runtime.current()


@run.contract_schema.parametrize()
@pytest.mark.requirement("R-LOY-02")
def test_operation_conforms(case, http: requests.Session) -> None:  # noqa: ANN001 - a schemathesis Case
    case.call_and_validate(session=http, checks=list(run.profile.checks))
