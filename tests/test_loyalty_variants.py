"""Proof of power: the suite passes the reference Loyalty service cleanly and catches every faulty variant
on the very requirement that variant breaks (fixtures/loyalty/faults.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance.fixtures.loyalty.faults import FAULTS
from conftest import run_cli, start_service

# A fixed seed keeps these runs reproducible; the budget is small because every fault is hit by
# hand-written probes or by the first generated cases.
RUN_OPTIONS = ["--max-examples", "10", "--seed", "20261123"]


def run_against(faults: tuple[str, ...], report_dir: Path, *, tls: bool = True):
    with start_service("loyalty", faults, tls=tls) as server:
        args = ["run", "loyalty", "--base-url", server.base_url, *RUN_OPTIONS]
        if server.ca_bundle:
            args += ["--ca-bundle", server.ca_bundle]
        return run_cli(args, report_dir)


@pytest.mark.slow
def test_reference_service_conforms_with_no_failure_and_no_warning(tmp_path: Path) -> None:
    result = run_against((), tmp_path)
    verdict = result.verdict()
    assert result.exit_code == 0, result.stdout + result.stderr
    assert verdict["verdict"] == "pass"
    assert verdict["counts"]["fail"] == 0 and verdict["counts"]["warn"] == 0, verdict["counts"]
    untested = {r["id"] for r in verdict["requirements"] if r["status"] == "not-tested"}
    # Only the rules outside this suite's scope stay untested: v1.0.0-only (R-LOY-27), third-party only (33-35).
    assert untested == {"R-LOY-27", "R-LOY-33", "R-LOY-34", "R-LOY-35"}


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS.values(), key=lambda f: f.breaks), ids=lambda f: f.name)
def test_faulty_variant_is_caught_on_the_requirement_it_breaks(fault, tmp_path: Path) -> None:
    result = run_against((fault.name,), tmp_path, tls=fault.name != "plain-http")
    status = result.status_of(fault.breaks)
    assert status == fault.expected_status, (
        f"{fault.name} ({fault.summary}) should make {fault.breaks} {fault.expected_status}, got {status}\n"
        + result.stdout
    )
    if fault.expected_status == "fail":
        assert result.exit_code == 1, result.stdout + result.stderr
        assert fault.breaks in result.stdout, "the terminal summary must name the broken requirement"
    else:  # a warning-level rule: the run passes, and the warning is visible
        assert result.exit_code == 0, result.stdout + result.stderr
        assert f"WARN {fault.breaks}" in result.stdout
