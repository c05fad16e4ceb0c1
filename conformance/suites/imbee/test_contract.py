"""Schema-driven contract tests: schemathesis generates valid and invalid requests for the three operations and
runs the profile's checks: the envelope on every answer and no server error (R-IMB-30, R-IMB-03), the response
schemas (their nodes' rules), and the suite's advice (R-IMB-32 JSON in UTF-8; R-IMB-45 the status policy, a
non-zero code on every error status, invalid input refused; R-IMB-46 a message on every error). Chat creation is
user-scoped: its X-WOOS-KEY is the apikey of a user the suite creates first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from conformance.suites.imbee.accounts import create_user, new_unique_id
from conformance.suites.support import Run, contract_test


@pytest.fixture(scope="session")
def creator_key(run: Run, http: requests.Session) -> Iterator[str]:
    yield create_user(run, http, new_unique_id(run))["apikey"]


@contract_test
@pytest.mark.requirement("R-IMB-01")
def test_operation_conforms(case, run: Run, http: requests.Session, creator_key: str) -> None:  # noqa: ANN001 - a Case
    headers = {"X-WOOS-KEY": creator_key} if case.operation.definition.raw["operationId"] == "createChat" else None
    case.call_and_validate(session=http, headers=headers, checks=list(run.profile.checks))
