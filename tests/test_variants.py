"""Proof of power: every suite passes its reference service cleanly and catches every faulty variant of it on
the very requirement that variant breaks (fixtures/<api>/faults.py)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import against, run_here, start_service

from conformance.cli import main
from conformance.profiles import PROFILES

# A fixed seed keeps these runs reproducible. The references run at the default budget (no false alarm where a
# partner's run would look); each variant at a small one, since every fault is hit by hand-written probes or by
# the first generated cases (the smaller the budget that still catches it, the stronger the proof).
REFERENCE_OPTIONS = ["--max-examples", "25", "--seed", "20261123"]
RUN_OPTIONS = ["--max-examples", "5", "--seed", "20261123"]

# What no test can reach on the embedded reference: an optional rule of another version, third-party-only
# evidence, the documented 1,000,000/min limit and the legacy limit, the sender's side of the callback rules
# (the receiver suite plays the sender), and notes about the documents themselves.
UNTESTED_ON_REFERENCE = {
    "loyalty": {"R-LOY-27", "R-LOY-33", "R-LOY-34", "R-LOY-35"},
    "push": {"R-PUSH-08", "R-RATE-01", "R-RATE-03"},
    "push-callback": {"R-CB-01", "R-CB-02", "R-CB-04", "R-CB-05", "R-CB-06", "R-CB-13"},
    "imbee": {"R-IMB-22", "R-IMB-23", "R-IMB-24"},
}

# What a variant must *not* make pass: a rule whose subject it removes is no evidence either way.
NOT_PASSED = {
    ("push", "no-callbacks"): {"R-STATE-02": "not-tested"},
}

# What a variant must not fail: rules whose subject it never touches (a 201 success is no error answer).
NOT_FAILED = {
    ("loyalty", "status-201"): {"R-LOY-32", "R-LOY-08", "R-LOY-09"},
}

VARIANTS = [
    pytest.param(api, fault, id=f"{api}-{fault.name}")
    for api, profile in PROFILES.items()
    for fault in sorted(profile.faults().values(), key=lambda f: f.breaks)
    if fault.proven_by == "run"  # the others are caught by `conformance load` (tests/test_load.py)
]


@pytest.mark.slow
@pytest.mark.parametrize("api", sorted(PROFILES))
def test_reference_service_conforms_with_no_failure_and_no_warning(api: str, tmp_path: Path) -> None:
    # With the template `conformance init` writes, as it stands: every template passes against the reference.
    template = tmp_path / f"{api}-target.toml"
    assert main(["init", api, str(template)]) == 0
    result = run_here(["run", api, "--target-config", str(template), *REFERENCE_OPTIONS], tmp_path)
    verdict = result.verdict(api)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert verdict["target_config"]["source"] == str(template)
    assert verdict["verdict"] == "pass"
    assert verdict["counts"]["fail"] == 0 and verdict["counts"]["warn"] == 0, verdict["counts"]
    assert verdict["not_run"] == {}, verdict["not_run"]
    untested = {r["id"] for r in verdict["requirements"] if r["status"] in ("not-tested", "not-applicable")}
    assert untested == UNTESTED_ON_REFERENCE[api]


@pytest.mark.slow
def test_a_partner_target_is_tested_through_its_url(tmp_path: Path) -> None:
    with start_service("loyalty") as server:
        result = run_here([*against(server), *RUN_OPTIONS], tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.verdict()["target"] == {
        "base_url": server.base_url,
        "embedded_reference": False,
        "faulty_variants": [],
    }


@pytest.mark.slow
@pytest.mark.parametrize("api, fault", VARIANTS)
def test_faulty_variant_is_caught_on_the_requirement_it_breaks(api: str, fault, tmp_path: Path) -> None:
    result = run_here(["run", api, "--fault", fault.name, *RUN_OPTIONS, *fault.run_options], tmp_path)
    status = result.status_of(fault.breaks, api)
    for also in fault.also_breaks:  # every defect named, whichever check found it first
        assert result.status_of(also, api) == fault.expected_status, f"{fault.name} should also break {also}"
    assert status == fault.expected_status, (
        f"{fault.name} ({fault.summary}) should make {fault.breaks} {fault.expected_status}, got {status}\n"
        + result.stdout
    )
    verdict = result.verdict(api)
    if fault.verdict == "inconclusive":
        assert result.exit_code == 4 and verdict["verdict"] == "inconclusive", result.stdout
    elif fault.expected_status == "fail":
        assert result.exit_code == 1, result.stdout + result.stderr
        assert f"FAIL {fault.breaks}" in result.stdout, "the terminal summary must name the broken requirement"
        failing = {r["id"] for r in verdict["requirements"] if r["status"] == "fail"}
        wrongly = failing & NOT_FAILED.get((api, fault.name), set())
        assert not wrongly, f"{fault.name} must not fail {wrongly}: nothing it sends breaks them"
    else:  # an advisory rule: the run passes, the warning is visible, and no report shows it as a failure
        assert result.exit_code == 0, result.stdout + result.stderr
        assert f"WARN {fault.breaks}" in result.stdout
        junit = ElementTree.parse(tmp_path / f"{api}.junit.xml").getroot()
        suite = junit if junit.tag == "testsuite" else junit.find("testsuite")
        assert (suite.get("failures"), suite.get("errors")) == ("0", "0"), "CI would show a conforming service red"
        rows = [row for row in result.html_rows(api) if row.get("result") in ("Failed", "Error")]
        assert not rows, f"the HTML table shows {len(rows)} failed row(s) on a conforming service"
    for requirement, status in NOT_PASSED.get((api, fault.name), {}).items():
        assert result.status_of(requirement, api) == status, f"{fault.name} leaves {requirement} no evidence"
    assert verdict["target"]["faulty_variants"] == [fault.name]
