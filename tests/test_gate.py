"""The release gate's decisions: failures block, waivers excuse until they expire, warnings and inconclusive
runs block only when the policy says so."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.gate import Policy, decide
from conformance.target import ConfigurationError

TODAY = dt.date(2026, 11, 23)


def verdict(*statuses: tuple[str, str, str], outcome: str = "pass", **extra: object) -> dict:
    requirements = [{"id": i, "status": s, "level": level} for i, s, level in statuses]
    partner = {"base_url": "https://partner.example", "embedded_reference": False, "faulty_variants": []}
    return {
        "api": "loyalty",
        "verdict": outcome,
        "reasons": [],
        "requirements": requirements,
        "target": partner,
        "spec": {"sha256": "ab" * 32},
        **extra,
    }


def policy(text: str = "") -> Policy:
    return Policy.parse(text, "test policy")


def waiver(requirement: str, expires: dt.date, api: str | None = None) -> str:
    scope = f'api = "{api}"\n' if api else ""
    return f'[[waivers]]\nrequirement = "{requirement}"\nreason = "fix scheduled"\n{scope}expires = {expires}\n'


def test_a_clean_verdict_meets_the_default_policy() -> None:
    decision = decide(verdict(("R-LOY-01", "pass", "mandatory")), policy(), TODAY)
    assert decision.passes and decision.blocking == []


def test_a_failed_requirement_blocks() -> None:
    decision = decide(verdict(("R-LOY-09", "fail", "mandatory"), outcome="fail"), policy(), TODAY)
    assert not decision.passes and decision.blocking == ["R-LOY-09 failed"]


def test_a_waiver_excuses_a_failure_until_its_expiry_date_inclusive() -> None:
    failed = verdict(("R-LOY-09", "fail", "mandatory"), outcome="fail")
    assert decide(failed, policy(waiver("R-LOY-09", TODAY)), TODAY).passes
    later = decide(failed, policy(waiver("R-LOY-09", TODAY + dt.timedelta(days=30))), TODAY)
    assert later.passes and "waived until" in later.notes[0]


def test_an_expired_waiver_no_longer_waives_and_says_so() -> None:
    failed = verdict(("R-LOY-09", "fail", "mandatory"), outcome="fail")
    decision = decide(failed, policy(waiver("R-LOY-09", TODAY - dt.timedelta(days=1))), TODAY)
    assert not decision.passes
    assert decision.notes == [f"the waiver for R-LOY-09 expired on {TODAY - dt.timedelta(days=1)} and no longer waives"]


def test_a_waiver_for_another_api_does_not_apply() -> None:
    # R-CB-05 is a rule of both: push borrows it from the callback spec.
    failed = {**verdict(("R-CB-05", "fail", "mandatory"), outcome="fail"), "api": "push"}
    assert decide(failed, policy(waiver("R-CB-05", TODAY, api="push")), TODAY).passes
    assert not decide(failed, policy(waiver("R-CB-05", TODAY, api="push-callback")), TODAY).passes


@pytest.mark.parametrize(
    "requirement, api, message",
    [
        ("R-LOY-99", None, "waiver 1 names R-LOY-99, which no spec defines"),
        ("R-LOY-09", "push", "waiver 1 names R-LOY-09, which the push spec lacks"),
        ("R-LOY-09", "loyalti", "waiver 1 names api 'loyalti'"),
    ],
)
def test_a_waiver_that_can_never_waive_is_a_policy_error(requirement: str, api: str | None, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        policy(waiver(requirement, TODAY, api=api))
    assert policy(waiver("C-PUSH-01", TODAY, api="push-client")).waivers  # a client rule is a known rule too


def test_warnings_block_only_when_the_policy_forbids_them() -> None:
    warned = verdict(("R-LOY-22", "warn", "advisory"))
    assert decide(warned, policy("allow_warnings = true"), TODAY).passes
    strict = decide(warned, policy("allow_warnings = false"), TODAY)
    assert strict.blocking == ["R-LOY-22 warned (the policy allows no warnings)"]


def test_an_inconclusive_run_blocks_unless_allowed() -> None:
    unsure = verdict(("R-LOY-01", "pass", "mandatory"), outcome="inconclusive", reasons=["no success"])
    unsure["reasons"] = ["every request made with the configured credentials was refused"]
    assert not decide(unsure, policy(), TODAY).passes
    assert decide(unsure, policy("allow_inconclusive = true"), TODAY).passes


def test_an_untested_mandatory_requirement_blocks_unless_the_report_excuses_it() -> None:
    untested = verdict(
        ("R-LOY-20", "not-tested", "mandatory"),
        ("R-RATE-01", "not-tested", "mandatory"),
        outcome="inconclusive",
        out_of_reach={"R-RATE-01": "cannot be sent by a test"},
    )
    assert decide(untested, policy(), TODAY).blocking == [
        "the run was inconclusive: ",
        "R-LOY-20 is mandatory and was not tested",
    ]


def test_a_rule_out_of_reach_passes_only_when_the_policy_accepts_it() -> None:
    declared = verdict(("R-RATE-01", "not-tested", "mandatory"), out_of_reach={"R-RATE-01": "1,000,000 per minute"})
    assert decide(declared, policy(), TODAY).passes
    strict = decide(declared, policy("allow_out_of_reach = false"), TODAY)
    assert strict.blocking == ["R-RATE-01 is mandatory and out of the suite's reach (the policy does not accept that)"]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"verdict": "fail", "reasons": ["transport failures"]}, "the run ended in fail"),
        ({"verdict": "error", "reasons": ["the target answered nothing"]}, "the run ended in error"),
        ({"leaks": ["loyalty.html"]}, "a credential was found"),
        ({"target": {"embedded_reference": True, "faulty_variants": []}}, "embedded reference service"),
        ({"target": {"embedded_reference": True, "faulty_variants": ["html-errors"]}}, "faulty variants"),
        ({"spec": {"sha256": "cd" * 32}}, "spec sha256"),
    ],
    ids=["fail-without-failed-requirement", "error", "leak", "embedded", "faulty", "other-spec"],
)
def test_the_gate_blocks_whatever_the_requirements_say(changes: dict, reason: str) -> None:
    clean = verdict(("R-LOY-01", "pass", "mandatory"))
    pinned = policy(f'[spec_sha256]\nloyalty = "{"ab" * 32}"\n')
    assert decide(clean, pinned, TODAY).passes
    decision = decide({**clean, **changes}, pinned, TODAY)
    assert not decision.passes and any(reason in line for line in decision.blocking), decision.blocking


def test_reference_targets_pass_only_when_the_policy_allows_them() -> None:
    embedded = verdict(("R-LOY-01", "pass", "mandatory"), target={"embedded_reference": True, "faulty_variants": []})
    assert decide(embedded, policy("allow_reference_targets = true"), TODAY).passes


def test_an_inconclusive_run_with_an_error_blocks_even_when_inconclusive_is_allowed_by_a_waiver_only() -> None:
    errored = verdict(("R-LOY-20", "error", "mandatory"), outcome="inconclusive")
    assert not decide(errored, policy(), TODAY).passes
    assert decide(errored, policy("allow_inconclusive = true"), TODAY).passes


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[waivers]]\nrequirement = 'R-1'\nexpires = 2027-01-01\n", "lacks reason"),
        ("[[waivers]]\nrequirement = 'R-1'\nreason = 'x'\nexpires = '2027'\n", "must be a date"),
        ("allow_warnings = [", "not valid TOML"),
        ("allow_warning = true", "unknown key"),
        ("allow_warnings = 'yes'", "true or false"),
    ],
)
def test_a_bad_policy_is_a_configuration_error(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        policy(text)


def test_the_gate_command_exits_non_zero_when_any_report_is_blocked(tmp_path: Path) -> None:
    good, bad = tmp_path / "push.json", tmp_path / "loyalty.json"
    good.write_text(json.dumps({**verdict(("R-PUSH-01", "pass", "mandatory")), "api": "push"}), encoding="utf-8")
    bad.write_text(json.dumps(verdict(("R-LOY-09", "fail", "mandatory"), outcome="fail")), encoding="utf-8")
    shipped = Path(__file__).parent.parent / "policies" / "release-gate.toml"
    gate = [sys.executable, "-m", "conformance", "gate", "--policy", str(shipped)]
    assert subprocess.run([*gate, str(good)], capture_output=True).returncode == 0
    blocked = subprocess.run([*gate, str(good), str(bad)], capture_output=True, text=True)
    assert blocked.returncode == 1
    assert f"{bad} (loyalty): BLOCKED" in blocked.stdout and f"{good} (push): meets the policy" in blocked.stdout
    assert "blocks: R-LOY-09 failed" in blocked.stdout
    broken = subprocess.run([*gate, str(tmp_path / "missing.json")], capture_output=True, text=True)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    unknown = tmp_path / "policy.toml"
    unknown.write_text(waiver("R-LOY-99", TODAY), encoding="utf-8")
    refused = subprocess.run([*gate[:-1], str(unknown), str(good)], capture_output=True, text=True)
    assert refused.returncode == 2 and "R-LOY-99, which no spec defines" in refused.stderr, refused.stderr


# --- what a waived failure must not let through -----------------------------------------------------------------


def test_a_waived_failure_does_not_let_an_otherwise_inconclusive_run_through() -> None:
    facts = [
        {"text": "POST /v1/promo/qrCode never answered a request with success", "operation": "POST /v1/promo/qrCode"}
    ]
    failed = verdict(("R-LOY-10", "fail", "mandatory"), outcome="fail", inconclusive_facts=facts)
    decision = decide(failed, policy(waiver("R-LOY-10", TODAY)), TODAY)
    assert not decision.passes and "also inconclusive" in decision.blocking[0]
    operation = '[[waivers]]\noperation = "POST /v1/promo/qrCode"\nreason = "not agreed yet"\nexpires = 2026-12-31\n'
    assert decide(failed, policy(waiver("R-LOY-10", TODAY) + operation), TODAY).passes
    assert decide(failed, policy("allow_inconclusive = true\n" + waiver("R-LOY-10", TODAY)), TODAY).passes


def test_a_mandatory_rule_that_errored_blocks() -> None:
    errored = verdict(("R-LOY-10", "error", "mandatory"), outcome="inconclusive")
    assert "could not be established" in " ".join(decide(errored, policy("allow_inconclusive = false"), TODAY).blocking)


def test_a_verdict_that_names_no_target_is_not_taken_for_a_partners() -> None:
    nameless = {key: value for key, value in verdict(("R-LOY-10", "pass", "mandatory")).items() if key != "target"}
    assert "embedded reference" in " ".join(decide(nameless, policy(), TODAY).blocking)
