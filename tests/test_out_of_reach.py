"""Every rule a profile declares out of reach is one no run can test: no test of its suite examines it, and the
reason holds (a sender's rule in the receiver's suite, a limit no run can exhaust)."""

from __future__ import annotations

from importlib import resources

import pytest

from conformance.profiles import PROFILES
from conformance.target import TargetConfig

DECLARED = [
    pytest.param(api, req_id, reason, id=f"{api}-{req_id}")
    for api, profile in PROFILES.items()
    for req_id, reason in profile.out_of_reach.items()
]


def suite_text(api: str) -> str:
    package = resources.files(PROFILES[api].suite)
    return "\n".join(path.read_text("utf-8") for path in package.iterdir() if path.name.endswith(".py"))


@pytest.mark.parametrize("api, req_id, reason", DECLARED)
def test_no_test_of_the_suite_examines_a_rule_it_declares_out_of_reach(api: str, req_id: str, reason: str) -> None:
    assert req_id not in suite_text(api), f"{api} declares {req_id} out of reach, yet a test of its suite names it"


@pytest.mark.parametrize("api, req_id, reason", [p for p in DECLARED if p.values[0] == "push-callback"])
def test_the_receiver_suite_declares_only_sender_rules(api: str, req_id: str, reason: str) -> None:
    entry = PROFILES[api].spec["x-requirements"][req_id]
    subject = entry.get("subject")
    assert subject == "sender", f"{req_id} binds the {subject}: the receiver suite can test it"
    assert req_id in suite_text("push"), f"{req_id} is said to be tested by `conformance run push`; no push test does"


def test_the_documented_rate_limit_is_beyond_any_run() -> None:
    push = PROFILES["push"]
    assert "1,000,000" in push.spec["x-requirements"]["R-RATE-01"]["rule"]
    assert "1,000,000" in push.out_of_reach["R-RATE-01"]


WITHOUT_LIMIT = "[identities.registered]\nmsisdn = 79216668899\n[identities.unregistered]\nmsisdn = 79990000000\n"


def test_the_rate_limit_rule_is_out_of_reach_only_without_a_reachable_limit() -> None:
    push = PROFILES["push"]
    with_limit = TargetConfig.parse(push.default_target_config(), "default", push.config_settings)
    assert "rate_limit_per_minute" in with_limit.settings and push.reach_of(with_limit) == {}
    without = TargetConfig.parse(WITHOUT_LIMIT, "test", push.config_settings)
    assert "R-RATE-02" in push.reach_of(without) and "1,000,000/min" in push.reach_of(without)["R-RATE-02"]
