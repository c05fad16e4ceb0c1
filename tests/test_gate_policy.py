"""The release gate in detail: how a policy is read, what each blocking reason and note says, and how findings are
weighed one by one (a waiver by finding key, a baseline with `block = "new"`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from conformance.gate import DEFAULT_POLICY, Policy, Waiver, decide
from conformance.target import ConfigurationError

TODAY = dt.date(2026, 11, 23)
LATER, EARLIER = TODAY + dt.timedelta(days=30), TODAY - dt.timedelta(days=1)
PARTNER = {"base_url": "https://partner.example", "embedded_reference": False, "faulty_variants": []}


def policy(text: str = "") -> Policy:
    return Policy.parse(text, "test policy")


def verdict(*requirements: dict, outcome: str = "pass", **extra: object) -> dict:
    return {
        "api": "loyalty",
        "verdict": outcome,
        "reasons": [],
        "requirements": list(requirements),
        "target": PARTNER,
        "spec": {"sha256": "ab" * 32},
        **extra,
    }


def requirement(req_id: str, status: str, level: str = "mandatory", *findings: dict, **extra: object) -> dict:
    return {"id": req_id, "status": status, "level": level, "findings": list(findings), **extra}


def finding(key: str, status: str = "fail", title: str | None = None, **extra: object) -> dict:
    return {"key": key, "status": status, "title": title if title is not None else f"title {key}", **extra}


def waiver(expires: dt.date = LATER, reason: str = "fix scheduled", **names: str) -> str:
    lines = "".join(f'{name} = "{value}"\n' for name, value in names.items())
    return f'[[waivers]]\n{lines}reason = "{reason}"\nexpires = {expires}\n'


# --- reading a policy -------------------------------------------------------------------------------------------


def test_a_policy_that_says_nothing_is_the_default() -> None:
    empty, default = policy(""), Policy.load(None)
    for read in (empty, default):
        assert (
            read.allow_warnings,
            read.allow_inconclusive,
            read.allow_out_of_reach,
            read.allow_reference_targets,
        ) == (
            True,
            False,
            True,
            False,
        )
        assert (read.block, read.waivers, read.spec_sha256) == ("all", (), {})
    assert (default.source, default.sha256) == ("built-in default", hashlib.sha256(DEFAULT_POLICY.encode()).hexdigest())
    assert empty.source == "test policy"


def test_a_policy_file_is_read_as_is_and_named_by_its_path_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    raw = b'allow_warnings = false\r\nblock = "new"\r\n[spec_sha256]\r\nloyalty = "ABCDEF"\r\n'
    path.write_bytes(raw)
    read = Policy.load(str(path))
    assert (read.source, read.sha256) == (str(path), hashlib.sha256(raw).hexdigest())
    assert (read.allow_warnings, read.block, read.spec_sha256) == (False, "new", {"loyalty": "abcdef"})


def test_a_policy_file_that_cannot_be_read_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigurationError, match=f"^cannot read policy {missing}: No such file or directory$"):
        Policy.load(str(missing))
    latin = tmp_path / "latin.toml"
    latin.write_bytes("allow_warnings = true # réglé\n".encode("latin-1"))
    with pytest.raises(ConfigurationError, match=f"^policy {latin} is not UTF-8 text$"):
        Policy.load(str(latin))


def test_every_waiver_field_is_kept() -> None:
    read = policy(
        waiver(requirement="R-LOY-09", api="loyalty", reason="agreed")
        + waiver(key="loyalty:R-LOY-09:abc", expires=EARLIER)
        + waiver(operation="POST /v1/promo/qrCode")
    )
    assert read.waivers == (
        Waiver("R-LOY-09", "agreed", LATER, "loyalty", None, None),
        Waiver(None, "fix scheduled", EARLIER, None, "loyalty:R-LOY-09:abc", None),
        Waiver(None, "fix scheduled", LATER, None, None, "POST /v1/promo/qrCode"),
    )
    assert [w.names for w in read.waivers] == [
        "R-LOY-09",
        "finding loyalty:R-LOY-09:abc",
        "operation POST /v1/promo/qrCode",
    ]


@pytest.mark.parametrize(
    "key", ["allow_warnings", "allow_inconclusive", "allow_out_of_reach", "allow_reference_targets"]
)
def test_each_allowance_must_be_true_or_false(key: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^policy test policy: {key} must be true or false$"):
        policy(f"{key} = 1")
    assert getattr(policy(f"{key} = true"), key) is True


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = 1\nblock_all = true", "unknown key(s) block_all, colour"),
        ('spec_sha256 = "abc"', "[spec_sha256] maps an API name to a sha256 string"),
        ("[spec_sha256]\nloyalty = 1", "[spec_sha256] maps an API name to a sha256 string"),
        ('block = "old"', 'block must be "all" or "new"'),
        ("[[waivers]]\nreason = 'x'\nexpires = 2027-01-01", "waiver 1 lacks requirement (or key, or operation)"),
        ("[[waivers]]\nkey = 'k'", "waiver 1 lacks expires, reason"),
        ("[[waivers]]\nkey = 'k'\nreason = ' '\nexpires = 2027-01-01", "waiver 1 needs a reason"),
        ("[[waivers]]\nkey = 'k'\nreason = 'r'\nexpires = 2027-01-01T10:00:00", "waiver 1 expires must be a date"),
        ("[[waivers]]\nrequirement = 'R-LOY-99'\nreason = 'r'\nexpires = 2027-01-01", "waiver 1 names R-LOY-99"),
        ("[[waivers]]\nrequirement = 'R-LOY-09'\napi = 'x'\nreason = 'r'\nexpires = 2027-01-01", "known: loyalty, "),
    ],
    ids=[
        "unknown",
        "sha-not-table",
        "sha-not-string",
        "block",
        "nothing-named",
        "lacks",
        "blank",
        "datetime",
        "no-spec",
        "api",
    ],
)
def test_a_bad_policy_says_what_is_wrong_and_where(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        policy(text)
    assert str(raised.value).startswith("policy test policy: ") and message in str(raised.value)


# --- what blocks, in words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, blocking",
    [
        ({"verdict": "error", "reasons": ["a", "b"]}, ["the run ended in error: a; b"]),
        ({"verdict": "error"}, ["the run ended in error"]),
        ({"verdict": "fail", "reasons": ["x"]}, ["the run ended in fail: x"]),
        ({"verdict": "fail"}, ["the run ended in fail"]),
        ({"leaks": ["a.html", "b.json"]}, ["a credential was found in the run's artefacts (a.html, b.json)"]),
        (
            {"target": {"embedded_reference": True, "faulty_variants": ["html-errors", "no-charset"]}},
            ["the run tested faulty variants (html-errors, no-charset), not a service"],
        ),
        (
            {"target": {"embedded_reference": True, "faulty_variants": []}},
            ["the run tested the embedded reference service, not the service to release"],
        ),
        (
            {"spec": {"sha256": "CD" * 32}},
            ["the verdict was written with spec sha256 cdcdcdcdcdcd, the policy names abababababab"],
        ),
        ({"spec": {}}, ["the verdict was written with spec sha256 , the policy names abababababab"]),
        ({"verdict": "inconclusive", "reasons": ["a", "b"]}, ["the run was inconclusive: a; b"]),
    ],
    ids=[
        "error",
        "error-no-reason",
        "fail",
        "fail-no-reason",
        "leak",
        "faulty",
        "embedded",
        "sha",
        "no-sha",
        "inconclusive",
    ],
)
def test_what_blocks_a_run_is_said_in_full(changes: dict, blocking: list[str]) -> None:
    pinned = policy(f'[spec_sha256]\nloyalty = "{"ab" * 32}"\n')
    decision = decide({**verdict(requirement("R-LOY-01", "pass")), **changes}, pinned, TODAY)
    assert (decision.api, decision.blocking) == ("loyalty", blocking)


def test_a_verdict_that_lists_nothing_but_its_outcome_is_still_judged() -> None:
    bare = {"api": "loyalty", "verdict": "pass", "target": PARTNER}
    assert decide(bare, policy(), TODAY).passes


def test_an_allowed_inconclusive_run_is_noted() -> None:
    unsure = verdict(requirement("R-LOY-01", "pass"), outcome="inconclusive", reasons=["a", "b"])
    decision = decide(unsure, policy("allow_inconclusive = true"), TODAY)
    assert decision.passes and decision.notes == ["the run was inconclusive, which the policy allows: a; b"]


def test_each_requirement_is_weighed_whatever_came_before_it() -> None:
    failed = verdict(
        requirement("R-LOY-01", "pass"),
        requirement("R-LOY-09", "fail"),
        requirement("R-LOY-10", "fail"),
        requirement("R-LOY-11", "inconclusive"),
        outcome="fail",
    )
    decision = decide(failed, policy(waiver(requirement="R-LOY-09")), TODAY)
    assert decision.blocking == ["R-LOY-10 failed", "R-LOY-11 is inconclusive"]
    assert decision.notes == [f"R-LOY-09 failed: waived until {LATER} (fix scheduled)"]


def test_a_failure_a_requirement_explains_can_be_waived_even_when_seen_through_refusals() -> None:
    failed = verdict(requirement("R-LOY-09", "inconclusive"), outcome="fail")
    assert decide(failed, policy(waiver(requirement="R-LOY-09")), TODAY).passes


def test_a_mandatory_rule_that_does_not_apply_to_the_target_never_blocks() -> None:
    untested = verdict(requirement("R-LOY-20", "not-tested"), not_applicable=["R-LOY-20"])
    assert decide(untested, policy(), TODAY).passes


# --- the inconclusive facts of a failed run -----------------------------------------------------------------------

QR = "POST /v1/promo/qrCode"


def failed_with(*facts: dict) -> dict:
    return verdict(requirement("R-LOY-09", "fail"), outcome="fail", inconclusive_facts=list(facts))


def test_a_fact_about_a_requirement_is_weighed_with_that_requirement() -> None:
    facts = (
        {"text": "mandatory requirement R-LOY-20 was not tested", "requirement": "R-LOY-20"},
        {"text": f"{QR} never answered a request with success", "operation": QR},
    )
    decision = decide(failed_with(*facts), policy(waiver(requirement="R-LOY-09")), TODAY)
    assert decision.blocking == [f"the run was also inconclusive: {QR} never answered a request with success"]


def test_an_operation_waiver_excuses_its_operation_for_its_api_until_it_expires() -> None:
    facts = ({"text": "a never succeeded", "operation": "a"}, {"text": "b never succeeded", "operation": "b"})
    scoped = waiver(requirement="R-LOY-09") + waiver(operation="a", api="loyalty", expires=TODAY)
    decision = decide(failed_with(*facts), policy(scoped), TODAY)
    assert decision.blocking == ["the run was also inconclusive: b never succeeded"]
    assert decision.notes == [
        f"the run was also inconclusive: a never succeeded: waived until {TODAY} (fix scheduled)",
        f"R-LOY-09 failed: waived until {LATER} (fix scheduled)",
    ]
    expired = waiver(requirement="R-LOY-09") + waiver(operation="b", expires=EARLIER)
    decision = decide(failed_with(*facts), policy(expired), TODAY)
    assert decision.notes == [
        f"the waiver for operation b expired on {EARLIER} and no longer waives",
        f"R-LOY-09 failed: waived until {LATER} (fix scheduled)",
    ]
    assert len(decision.blocking) == 2


def test_a_policy_that_allows_inconclusive_runs_notes_every_fact() -> None:
    facts = ({"text": "the deadline was reached"}, {"text": "a never succeeded", "operation": "a"})
    decision = decide(
        failed_with(*facts), policy("allow_inconclusive = true\n" + waiver(requirement="R-LOY-09")), TODAY
    )
    assert decision.passes
    assert decision.notes[:2] == [
        "the run was also inconclusive: the deadline was reached (the policy allows it)",
        "the run was also inconclusive: a never succeeded (the policy allows it)",
    ]


# --- finding by finding -----------------------------------------------------------------------------------------


def test_a_key_waiver_excuses_its_finding_only() -> None:
    one = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1")), outcome="fail")
    decision = decide(one, policy(waiver(key="k1")), TODAY)
    assert decision.passes and decision.notes == [f"R-LOY-09 finding k1: waived until {LATER} (fix scheduled)"]
    two = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1"), finding("k2", check="c")), outcome="fail")
    assert decide(two, policy(waiver(key="k1")), TODAY).blocking == [
        "R-LOY-09 failed: finding(s) not waived k2 (title k2)"
    ]
    untitled = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k2", title="", check="c")), outcome="fail")
    assert decide(untitled, policy(waiver(key="k1")), TODAY).blocking == [
        "R-LOY-09 failed: finding(s) not waived k2 (c)"
    ]


def test_a_key_waiver_names_its_requirement_and_api_when_it_says_them() -> None:
    failed = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1")), outcome="fail")
    for fits in (waiver(key="k1", requirement="R-LOY-09"), waiver(key="k1", api="loyalty")):
        assert decide(failed, policy(fits), TODAY).passes
    for other in (waiver(key="k1", requirement="R-LOY-10"), waiver(key="k1", api="push"), waiver(key="k2")):
        assert not decide(failed, policy(other), TODAY).passes


def test_an_expired_key_waiver_says_so_and_blocks() -> None:
    failed = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1")), outcome="fail")
    decision = decide(failed, policy(waiver(key="k1", expires=EARLIER)), TODAY)
    assert decision.blocking == ["R-LOY-09 failed: finding(s) not waived k1 (title k1)"]
    assert decision.notes == [f"the waiver for R-LOY-09 finding k1 expired on {EARLIER} and no longer waives"]
    assert decide(failed, policy(waiver(key="k1", expires=TODAY)), TODAY).passes


def test_only_the_findings_behind_a_status_are_weighed() -> None:
    warned = requirement("R-LOY-22", "warn", "advisory", finding("w1", "warn"), finding("p1", "skip"))
    assert decide(verdict(warned), policy("allow_warnings = false\n" + waiver(key="w1")), TODAY).passes
    errored = requirement("R-LOY-20", "error", "mandatory", finding("e1", "error"), finding("w1", "warn"))
    assert decide(verdict(errored, outcome="inconclusive"), policy("allow_inconclusive = true"), TODAY).passes
    decision = decide(verdict(errored), policy(waiver(key="e1")), TODAY)
    assert decision.passes and decision.notes == [f"R-LOY-20 finding e1: waived until {LATER} (fix scheduled)"]
    untested = requirement("R-LOY-20", "not-tested", "mandatory", finding("s1", "skip"))
    assert decide(verdict(untested), policy(waiver(key="s1")), TODAY).blocking == [
        "R-LOY-20 is mandatory and was not tested"
    ]


def test_findings_left_out_of_the_verdict_excuse_nothing() -> None:
    failed = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1"), findings_not_listed=3), outcome="fail")
    decision = decide(failed, policy(waiver(key="k1")), TODAY)
    assert decision.blocking == ["R-LOY-09 failed"]
    assert decision.notes == ["R-LOY-09: 3 finding(s) are not listed, so none is excused"]


def test_many_unexcused_findings_are_shown_five_at_a_time() -> None:
    keys = [f"k{i}" for i in range(7)]
    failed = verdict(requirement("R-LOY-09", "fail", "mandatory", *map(finding, keys)), outcome="fail")
    shown = ", ".join(f"{k} (title {k})" for k in keys[:5])
    assert decide(failed, policy(waiver(key="other")), TODAY).blocking == [
        f"R-LOY-09 failed: finding(s) not waived {shown} and 2 more"
    ]
    six = verdict(requirement("R-LOY-09", "fail", "mandatory", *map(finding, keys[:6])), outcome="fail")
    assert decide(six, policy(waiver(key="other")), TODAY).blocking == [
        f"R-LOY-09 failed: finding(s) not waived {shown} and 1 more"
    ]
    five = verdict(requirement("R-LOY-09", "fail", "mandatory", *map(finding, keys[:5])), outcome="fail")
    assert decide(five, policy(waiver(key="other")), TODAY).blocking == [
        f"R-LOY-09 failed: finding(s) not waived {shown}"
    ]


def known(**mark: object) -> dict:
    return {"state": "known", "owner": "team-a", "reason": "ticket 12", "expires": str(LATER)} | mark


@pytest.mark.parametrize(
    "mark, note",
    [
        (known(), f"R-LOY-09 finding k1: known in the baseline until {LATER}, team-a (ticket 12)"),
        (known(state="expired"), f"R-LOY-09 finding k1: known in the baseline until {LATER}, team-a (ticket 12)"),
        (known(expires=str(TODAY)), f"R-LOY-09 finding k1: known in the baseline until {TODAY}, team-a (ticket 12)"),
        ({"state": "known"}, "R-LOY-09 finding k1: known in the baseline ()"),
        (known(was="fail"), f"R-LOY-09 finding k1: known in the baseline until {LATER}, team-a (ticket 12)"),
    ],
    ids=["known", "expired-at-the-run", "expires-today", "bare", "was-a-failure"],
)
def test_with_block_new_a_finding_the_baseline_knows_does_not_block(mark: dict, note: str) -> None:
    failed = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1", baseline=mark)), outcome="fail")
    decision = decide(failed, policy('block = "new"'), TODAY)
    assert decision.passes and decision.notes == [note]
    assert not decide(failed, policy(), TODAY).passes, "with block = all, the baseline excuses nothing"


NEW = "R-LOY-09 failed: finding(s) neither known to the baseline nor waived k1 (title k1)"


@pytest.mark.parametrize(
    "mark, status, notes",
    [
        ({"state": "new"}, "fail", []),
        (None, "fail", []),
        (
            known(expires=str(EARLIER)),
            "fail",
            [f"the baseline entry for R-LOY-09 finding k1 expired on {EARLIER} and no longer excuses it"],
        ),
        (known(was="warn"), "fail", ["R-LOY-09 finding k1 was a warning in the baseline and now fails"]),
    ],
    ids=["new", "unmarked", "entry-expired", "was-a-warning"],
)
def test_with_block_new_a_finding_the_baseline_does_not_excuse_blocks(
    mark: dict | None, status: str, notes: list
) -> None:
    failed = verdict(requirement("R-LOY-09", "fail", "mandatory", finding("k1", status, baseline=mark)), outcome="fail")
    decision = decide(failed, policy('block = "new"'), TODAY)
    assert (decision.blocking, decision.notes) == ([NEW], notes)


def test_a_baseline_warning_that_now_errors_blocks_and_one_that_still_warns_does_not() -> None:
    errored = requirement("R-LOY-20", "error", "mandatory", finding("e1", "error", baseline=known(was="warn")))
    assert not decide(verdict(errored), policy('block = "new"'), TODAY).passes
    warned = requirement("R-LOY-22", "warn", "advisory", finding("w1", "warn", baseline=known(was="warn")))
    assert decide(verdict(warned), policy('allow_warnings = false\nblock = "new"'), TODAY).passes


def test_with_block_new_a_known_finding_excuses_no_new_one_beside_it() -> None:
    both = requirement("R-LOY-09", "fail", "mandatory", finding("k1", baseline=known()), finding("k2"))
    decision = decide(verdict(both, outcome="fail"), policy('block = "new"'), TODAY)
    assert decision.blocking == ["R-LOY-09 failed: finding(s) neither known to the baseline nor waived k2 (title k2)"]
    assert decision.notes == [f"R-LOY-09 finding k1: known in the baseline until {LATER}, team-a (ticket 12)"]
