"""A partner's declared options decide which rules apply; what a target config lacks is said before any request.

The target config declares the partner's legitimate choices (spec `x-options`, the API version, the optional
methods): a rule that does not bind a declared option is not applicable, with the option named, never untested and
never passed. An identity or option a rule needs and the config lacks is said at the start of the run, with the
rules it costs, and those rules keep the run from passing.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from conftest import run_here, write_config

from conformance.options import plan
from conformance.profiles import PROFILES, get_profile
from conformance.target import ConfigurationError, TargetConfig

FAST = ["--max-examples", "2", "--seed", "21"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def requirement(result, req_id: str, api: str = "loyalty") -> dict:
    return next(r for r in result.verdict(api)["requirements"] if r["id"] == req_id)


@pytest.mark.slow
def test_a_partner_that_issues_cards_for_blocked_matches_passes_with_r_loy_20_not_applicable(tmp_path: Path) -> None:
    # The reference with `returns-blocked-card` issues the blocked card's data: conformant for such a partner (and
    # a failure of R-LOY-20 for a partner that refuses, as test_variants proves with the template's "refused").
    config = write_config(tmp_path, "loyalty", without=("blocked",), blocked_card="issued")
    reports = tmp_path / "reports"
    reports.mkdir()
    stale = ["loyalty.junit.xml", "loyalty-evidence.zip", "index.html", "loyalty-bodies/old.txt"]
    for name in stale:  # an earlier run's reports: this run replaces them, never mixes with them
        (reports / name).parent.mkdir(exist_ok=True)
        (reports / name).write_text("an earlier run", encoding="utf-8")
    result = run_here(["run", "loyalty", "--fault", "returns-blocked-card", "--target-config", config, *FAST], reports)
    assert result.exit_code == 0, result.stdout + result.stderr
    verdict = result.verdict()
    assert verdict["verdict"] == "pass" and verdict["options"]["blocked_card"] == "issued"
    why = 'the target config declares blocked_card = "issued"; the rule binds blocked_card = "refused"'
    assert requirement(result, "R-LOY-20")["status"] == "not-applicable"
    assert requirement(result, "R-LOY-20")["why_not_tested"] == why and verdict["not_applicable"]["R-LOY-20"] == why
    page = (reports / "loyalty.html").read_text(encoding="utf-8")
    assert "Options declared" in page and "blocked_card: <code>issued</code>" in page
    assert "the target config declares blocked_card = &quot;issued&quot;" in page
    assert not any((reports / name).exists() for name in stale if name != "loyalty.junit.xml")
    assert "an earlier run" not in (reports / "loyalty.junit.xml").read_text(encoding="utf-8")


def test_a_missing_identity_is_said_before_the_first_request_with_the_rules_it_costs(tmp_path: Path) -> None:
    # Nothing listens at the URL: the run ends at its first request, so what it printed came before it.
    config = write_config(tmp_path, "loyalty", without=("cyrillic", "blocked"))
    url = f"https://127.0.0.1:{free_port()}"
    result = run_here(["run", "loyalty", "--base-url", url, "--target-config", config], tmp_path)
    assert result.exit_code == 3 and "connection refused" in result.stderr
    assert (
        "conformance: the target config has no [identities.cyrillic]: the tests of R-LOY-06 (mandatory) will not run, "
        "so the run cannot pass" in result.stdout
    )
    assert (
        "the target config has no [identities.blocked]: the tests of R-LOY-20 (mandatory) will not run" in result.stdout
    )
    assert "`conformance init loyalty`" in result.stdout
    assert result.verdict()["options"]["blocked_card"] == "refused"  # the unreachable verdict states them too


@pytest.mark.slow
def test_what_the_start_of_a_run_names_is_exactly_what_goes_untested(tmp_path: Path) -> None:
    config = write_config(tmp_path, "loyalty", without=("with_card", "without_card", "cyrillic"), blocked_card=None)
    result = run_here(["run", "loyalty", "--target-config", config, *FAST], tmp_path)
    assert result.exit_code == 4, result.stdout
    named = set()
    start = result.stdout.split("conformance: testing loyalty")[0]
    for line in start.splitlines():
        if "will not run" in line:
            named |= set(re.findall(r"R-LOY-\d+", line))
    untested = {r["id"]: r["why_not_tested"] for r in result.verdict()["requirements"] if r["status"] == "not-tested"}
    always = {"R-LOY-27", "R-LOY-33", "R-LOY-34", "R-LOY-35"}  # untested on every run (test_variants)
    assert set(untested) - always == named, (named, untested)
    assert untested["R-LOY-20"] == 'the target config does not declare blocked_card ("refused" or "issued")'
    assert untested["R-LOY-06"] == "the target config has no [identities.cyrillic]"


@pytest.mark.parametrize(
    "api, identity, key, message",
    [
        ("loyalty", "with_card", "card_number", "[identities.with_card] needs card_number"),
        ("loyalty", "cyrillic", "card_number", "[identities.cyrillic] needs card_number"),
        ("push", "initial_account", "new_password", "[identities.initial_account] needs new_password"),
    ],
)
def test_an_identity_without_a_key_its_tests_need_is_a_configuration_error(
    api: str, identity: str, key: str, message: str, tmp_path: Path
) -> None:
    text = get_profile(api).default_target_config()
    table = text.index(f"[identities.{identity}]")
    line = re.compile(rf"^{key} = .*\n", re.MULTILINE).search(text, table)
    config = tmp_path / "target.toml"
    config.write_text(text[: line.start()] + text[line.end() :], encoding="utf-8")
    result = run_here(["run", api, "--target-config", str(config)], tmp_path)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "KeyError" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ('blocked_card = "maybe"\n', 'blocked_card must be "refused" or "issued", not \'maybe\''),
        ('api_version = "2.0.0"\n', 'api_version must be "1.0.0" or "1.1.0"'),
    ],
)
def test_an_option_takes_only_its_declared_values(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        TargetConfig.parse(text, "test", get_profile("loyalty").config_settings)


def test_the_version_flag_and_the_declared_version_must_agree(tmp_path: Path) -> None:
    config = write_config(tmp_path, "loyalty", api_version="1.0.0")
    result = run_here(["run", "loyalty", "--target-config", config, "--api-version", "1.1.0"], tmp_path)
    assert result.exit_code == 2 and "--api-version 1.1.0 contradicts api_version = '1.0.0'" in result.stderr


def test_a_host_without_initial_passwords_makes_their_rules_not_applicable() -> None:
    push = get_profile("push")
    none = TargetConfig.parse(
        'initial_password = "none"\n[identities.unregistered]\nmsisdn = 1\n', "test", push.config_settings
    )
    the_plan = plan(push, none, "1.1.0", listener=True)
    for req_id in ("R-PUSH-05", "R-PUSH-06", "R-PUSH-07"):
        assert the_plan.not_applicable[req_id] == (
            'the target config declares initial_password = "none"; the rule binds initial_password = "reset-first"'
        )
        assert req_id not in the_plan.unmet  # no [identities.initial_account] needed then
    numbers = "[identities.registered]\nmsisdn = 2\n[identities.unregistered]\nmsisdn = 1\n"
    undeclared = TargetConfig.parse(numbers, "test", push.config_settings)
    unmet = plan(push, undeclared, "1.1.0", listener=False).unmet
    assert unmet["R-PUSH-05"].startswith("the target config does not declare initial_password")
    assert unmet["R-CB-05"].startswith("no callback listener (--callback-listen HOST:PORT")


@pytest.mark.slow
def test_a_push_run_with_initial_password_none_passes_with_its_rules_not_applicable(tmp_path: Path) -> None:
    config = write_config(tmp_path, "push", without=("initial_account",), initial_password="none")
    result = run_here(["run", "push", "--target-config", config, "--max-examples", "1", "--seed", "3"], tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    for req_id in ("R-PUSH-05", "R-PUSH-06", "R-PUSH-07"):
        assert result.status_of(req_id, "push") == "not-applicable"
    assert result.verdict("push")["options"] == {
        "api_version": "1.1.0",
        "initial_password": "none",
        "bulk_path": "/push/bulk/single",
    }


def test_a_push_host_without_a_callback_listener_is_told_so_at_the_start(tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    result = run_here(["run", "push", "--base-url", url, "--reference-data"], tmp_path)
    assert result.exit_code == 3
    line = next(line for line in result.stdout.splitlines() if "no callback listener" in line)
    assert "R-CB-05 (mandatory)" in line and "so the run cannot pass" in line
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "Without `--callback-listen` the callback rules are not tested" in readme  # as the run says
    assert "declared out of reach for that run" not in readme


@pytest.mark.parametrize("api", sorted(PROFILES))
def test_every_rule_an_identity_or_option_decides_is_in_the_catalogue(api: str) -> None:
    get_profile(api).check_rules()  # identity_rules, callback_rules and applies-when name real rules and values
    profile = PROFILES[api]
    options = profile.config_settings.options
    tied = {req_id: r.applies_when for req_id, r in profile.requirements.items() if r.applies_when}
    for req_id, conditions in tied.items():
        for name, _ in conditions:
            assert name in options, f"{req_id} applies when {name}, which {api}'s x-options does not declare"
