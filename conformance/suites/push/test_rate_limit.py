"""The rate limit (R-RATE-02): sends beyond the target's limit are refused with a non-200 answer (429, A-9).

Runs only when the target config states the target's limit (`rate_limit_per_minute`): the documented
1,000,000 per minute is not something a test should spend. It runs last, since it leaves the account at its
limit for a minute.
"""

from __future__ import annotations

import pytest
import requests

from conformance.suites.push.messages import bulk_body, msisdn
from conformance.suites.support import Run, prefer, send


@pytest.mark.run_last
@pytest.mark.requirement("R-RATE-02")
def test_sends_beyond_the_limit_are_refused(run: Run, http: requests.Session) -> None:
    limit = run.target.config.setting("rate_limit_per_minute")
    to = msisdn(run, "registered")
    if limit is None or to is None:
        pytest.skip("the target config sets no rate_limit_per_minute (or no registered identity)")
    response = send(run, http, "sendPushBulkSingle", body=bulk_body([to] * (int(limit) + 1)))
    assert response.status_code != 200, (
        f"a batch of {int(limit) + 1} messages, over the limit of {limit} per minute, was accepted with 200; "
        "messages beyond the limit must be refused"
    )
    prefer(
        run,
        "R-RATE-04",
        response.status_code == 429,
        f"over the limit the answer was {response.status_code}; the suite prefers 429 (Too Many Requests)",
    )
