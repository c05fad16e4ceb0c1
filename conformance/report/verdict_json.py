"""The machine-readable verdict of a run (DIR/<api>.json): the judge's verdict, and what it was reached on."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..findings import Operations, examined_by, key_of
from ..judge import NOT_APPLICABLE as NA
from ..judge import Verdict
from ..outcomes import Record

if TYPE_CHECKING:
    from ..run import Run

GROUPS_SHOWN = 50  # distinct findings listed per requirement; the total is always counted, and what is left out
FINDING_STATUSES = ("fail", "error", "warn")  # what a baseline knows and a diff compares (skips are no defect)


def operations_of(run: Run) -> Operations:
    """The documented operations of a run's exchanges, paths the target config moved named as the spec does."""
    config = run.target.config
    moved = {path: str(config.setting(key)) for path, key in run.profile.path_settings.items() if config.setting(key)}
    return Operations(run.profile.spec["paths"], run.target.base_url, moved)


def findings(
    records: Iterable[Record], requirement: str = "", operations: Operations | None = None
) -> list[dict[str, Any]]:
    """The records of one requirement grouped by finding key (the same defect across tests, with a count)."""
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        key = key_of(requirement, record, operations)
        group = groups.get(key.id)
        if group is None:
            groups[key.id] = {
                "key": key.id,
                "key_parts": key.parts(),
                "status": record.status,
                "check": record.check,
                "title": record.title or record.reason.splitlines()[0][:200] if (record.title or record.reason) else "",
                "reason": record.reason,
                "count": record.count,
                "tests": [record.test],
                "exchange": record.exchange,
            }
        else:
            group["count"] += record.count
            if record.test not in group["tests"] and len(group["tests"]) < 20:
                group["tests"].append(record.test)
            if group["exchange"] is None:
                group["exchange"] = record.exchange
    return list(groups.values())


def requirement_entries(
    verdict: Verdict, records: Iterable[Record] = (), operations: Operations | None = None
) -> list[dict[str, Any]]:
    """Every requirement of the verdict as the JSON lists it: its rule, status and findings (grouped by key)."""
    by_requirement: dict[str, list[Record]] = {}
    for record in records:
        for req_id in record.requirements:
            by_requirement.setdefault(req_id, []).append(record)
    requirements = []
    for req_id, result in verdict.requirements.items():
        found = findings(result.findings, req_id, operations)
        requirements.append(
            {
                "id": req_id,
                "rule": result.requirement.rule,
                "level": result.requirement.level,
                "quote": result.requirement.quote,
                "source": result.requirement.source,
                "status": result.status,
                "tests": result.tests,
                "passes": result.passes,
                "why_not_tested": result.why_untested,
                "finding_count": sum(group["count"] for group in found),
                "findings": found[:GROUPS_SHOWN],
                "findings_not_listed": max(0, len(found) - GROUPS_SHOWN),
                "examined_by": examined_by(by_requirement.get(req_id, [])),
            }
        )
    return requirements


def build(run: Run, verdict: Verdict, *, leaks: list[str] | None = None) -> dict[str, Any]:
    recorder = run.recorder
    requirements = requirement_entries(verdict, recorder.records, operations_of(run))
    document = {
        "verdict": verdict.verdict,
        "reasons": verdict.reasons,
        # What keeps the run from being evidence either way, whatever the verdict (the gate blocks these too).
        "inconclusive_facts": [
            {"text": fact.text, "requirement": fact.requirement, "operation": fact.operation}
            for fact in verdict.inconclusive
        ],
        "interrupted": run.interrupted,
        "exit_code": verdict.exit_code,
        "api": run.profile.name,
        "party": run.profile.party,  # service: `conformance run`; client: `conformance certify-client`
        "title": run.profile.spec["info"]["title"],
        "target": {
            "base_url": run.target.base_url,
            "embedded_reference": run.target.embedded,
            "faulty_variants": list(run.target.faults),
        },
        "api_version": run.target.api_version,
        # The partner's declared options: the verdict holds for these (a rule they do not bind is not-applicable).
        "options": dict(run.plan.options) if run.plan is not None else {},
        "spec": {"file": run.profile.spec_file, "version": run.profile.spec_version, "sha256": run.profile.spec_sha256},
        "target_config": run.target.config.summary(),
        "suite_version": __version__,
        "seed": run.seed,
        "max_examples": run.max_examples,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.started)),
        "duration_seconds": run.duration,
        "exchanges": {
            "answered": recorder.answered if run.client is None else run.client.facts().answered,
            "unanswered": dict(recorder.unanswered),
            "not_sent": dict(recorder.not_sent),
        },
        "generated_cases": recorder.answered + sum(recorder.unanswered.values()),
        "auth_failure_statuses": recorder.auth_statuses,
        "not_run": recorder.skips,
        "not_applicable": {
            req_id: result.why_untested for req_id, result in verdict.requirements.items() if result.status == NA
        },
        "out_of_reach": dict(run.out_of_reach),
        "callbacks": None
        if run.callbacks is None
        else {
            "listening_at": run.callbacks.url,
            "expected_at": run.callbacks.public_url,
            "received": len(run.callbacks.snapshot()),
            "refused": sum(1 for callback in run.callbacks.snapshot() if not callback.accepted),
        },
        "client": run.client.describe() if run.client is not None else None,
        "leaks": list(leaks or []),
        "decisions": run.profile.decisions,
        "counts": verdict.counts(),
        "requirements": requirements,
    }
    if run.options.baseline:
        from ..baseline import Baseline

        Baseline.load(run.options.baseline).apply(document, dt.date.today())
    return document


def write(document: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


def unreachable(
    api: str, title: str, base_url: str, reason: str, spec: dict[str, str], options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The verdict of a run that could not reach its target at all: no requirement was examined."""
    return {
        "verdict": "error",
        "reasons": [reason],
        "exit_code": 3,
        "api": api,
        "title": title,
        "target": {"base_url": base_url, "embedded_reference": False, "faulty_variants": []},
        "spec": spec,
        "options": dict(options or {}),
        "suite_version": __version__,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "exchanges": {"answered": 0, "unanswered": {}, "not_sent": {}},
        "leaks": [],
        "requirements": [],
    }
