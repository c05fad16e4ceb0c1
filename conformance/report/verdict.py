"""The machine-readable verdict of a run (DIR/<api>.json): what was tested, against what, and how each rule fared."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..requirements import FAIL, NOT_TESTED

if TYPE_CHECKING:
    from ..runtime import Run


def build(run: Run) -> dict[str, Any]:
    statuses = run.ledger.statuses()
    requirements = []
    for req_id, requirement in run.ledger.requirements.items():
        evidence = run.ledger.evidence[req_id]
        requirements.append(
            {
                "id": req_id,
                "rule": requirement.rule,
                "level": requirement.level,
                "status": statuses[req_id],
                "tests": sorted(evidence.tests),
                "failing_tests": sorted({test for f in evidence.failures for test in f["tests"] if test}),
                "failure_count": evidence.failure_count,
                "first_failure": evidence.failures[0] if evidence.failures else None,
                # Identical failures on many generated cases are one group with a count.
                "failure_groups": [
                    {key: group.get(key) for key in ("check", "title", "count", "tests")}
                    | {"curl": (group.get("exchange") or {}).get("curl")}
                    for group in evidence.failures
                ],
                "warnings": [w["message"] for w in evidence.warnings][:5],
            }
        )
    failed = [r["id"] for r in requirements if r["status"] == FAIL]
    reasons = []
    if failed:
        reasons.append(f"requirements failed: {', '.join(failed)}")
    if run.unattributed_failures:
        reasons.append(f"tests failed outside any requirement: {', '.join(run.unattributed_failures)}")
    if run.transport_errors:
        reasons.append("transport failures during the run")
    overriding, inconclusive = inconclusive_reasons(run, requirements)
    if overriding:  # the checks never really ran: their failures say nothing about the service
        verdict, reasons = "inconclusive", overriding
        for requirement in requirements:
            if requirement["status"] == FAIL:
                requirement["status"] = "inconclusive"
    elif reasons:
        verdict = "fail"
    elif inconclusive:
        verdict, reasons = "inconclusive", inconclusive
    else:
        verdict = "pass"
    return {
        "verdict": verdict,
        "reasons": reasons,
        "api": run.profile.name,
        "title": run.profile.spec["info"]["title"],
        "target": {
            "base_url": run.target.base_url,
            "embedded_reference": run.target.embedded,
            "faulty_variants": list(run.target.faults),
        },
        "api_version": run.target.api_version,
        "spec": {"file": run.profile.spec_file, "version": run.profile.spec_version, "sha256": run.profile.spec_sha256},
        "target_config": run.target.config.summary(),
        "suite_version": __version__,
        "seed": run.seed,
        "max_examples": run.max_examples,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.started)),
        "duration_seconds": round(time.time() - run.started, 3),
        "generated_cases": run.cases,
        "auth_failure_statuses": run.auth_statuses,
        "not_run": run.skips,
        "not_applicable": sorted(run.not_applicable),
        "out_of_reach": dict(run.profile.out_of_reach),
        "transport_errors": run.transport_errors,
        "decisions": run.profile.decisions,
        "counts": {
            status: sum(1 for r in requirements if r["status"] == status)
            for status in ("pass", "fail", "warn", "not-tested", "inconclusive")
        },
        "requirements": requirements,
    }


def inconclusive_reasons(run: Run, requirements: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Why the run is no evidence: (reasons that outweigh any failure, reasons that keep a clean run from passing)."""
    statuses = run.credentialed_statuses
    overriding = []
    if statuses and all(status in (401, 403) for status in statuses):
        env = " / ".join(run.profile.credential_env)
        overriding.append(
            f"every request made with the configured credentials was refused ({_count(statuses)}): check {env}"
        )
    elif statuses and all(status >= 500 for status in statuses):
        overriding.append(f"the target answered nothing but server errors ({_count(statuses)})")
    others = []
    for result in run.contract_schema.get_all_operations():
        label = result.ok().label
        if run.operation_successes[label] == 0:
            others.append(f"{label} never answered a request with success, so its answers were never checked")
    for requirement in requirements:
        if requirement["status"] == NOT_TESTED and requirement["level"] == "mandatory":
            if requirement["id"] not in run.profile.out_of_reach and requirement["id"] not in run.not_applicable:
                why = f": {run.skip_reasons[requirement['id']]}" if requirement["id"] in run.skip_reasons else ""
                others.append(f"mandatory requirement {requirement['id']} was not tested{why}")
    return overriding, others


def _count(statuses: Counter[int]) -> str:
    return ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))


def write(verdict: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(verdict, ensure_ascii=False, indent=2), encoding="utf-8")
