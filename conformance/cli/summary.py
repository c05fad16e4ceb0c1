"""The terminal summary of a run: the verdict, why, each failing or warning requirement, where the reports are."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..report.verdict_json import findings, operations_of
from .common import printable

if TYPE_CHECKING:
    from ..judge import Verdict
    from ..run import Run


def print_summary(run: Run, verdict: Verdict, paths: dict[str, Path]) -> None:
    counts = verdict.counts()
    title = run.profile.spec["info"]["title"]
    tested = (
        f"a client of the {title} {run.target.api_version}"
        if run.client is not None
        else f"{title} {run.target.api_version} at {run.target.base_url}"
    )
    print(f"conformance: verdict {verdict.verdict.upper()} for {tested}")
    if verdict.verdict != "pass":
        for reason in verdict.reasons:
            print(f"  {verdict.verdict.upper()}: {printable(reason)}")
    extra = "".join(
        f", {counts[status]} {status}" for status in ("error", "inconclusive", "not-applicable") if counts[status]
    )
    recorder = run.recorder
    requests = recorder.answered + sum(recorder.unanswered.values())
    seed = f"; seed {run.seed}"
    if run.client is not None:  # the client sent the requests: nothing was generated
        requests, seed = run.client.facts().answered, ""
    print(
        f"  requirements: {counts['pass']} pass, {counts['fail']} fail, {counts['warn']} warn, "
        f"{counts['not-tested']} not tested{extra}; {requests} requests in {run.duration:.1f} s{seed}"
    )
    operations = operations_of(run)
    for req_id, result in verdict.requirements.items():
        if result.status not in ("fail", "warn", "error", "inconclusive"):
            continue
        print(f"  {result.status.upper()} {req_id}: {result.requirement.rule}")
        groups = findings(result.findings, req_id, operations)
        for group in groups[:3]:
            print(f"        {printable(str(group['title']))} (x{group['count']}, {group['check']}, key {group['key']})")
        first = next((g for g in groups if g.get("exchange")), None)
        if first is not None:
            print(f"        reproduce: {printable(first['exchange']['curl'])}")
    shown = [paths[kind] for kind in ("html", "junit.xml", "json") if paths[kind].exists()]
    if shown:
        log = f" (log: {paths['log']})" if paths["log"].exists() else ""
        print(f"  reports: {', '.join(str(p) for p in shown)}{log}")
    if "bundle" in paths and paths["bundle"].exists():
        how = "" if "certificate" in paths else " (check it with `conformance verify`)"  # attested: said after
        print(f"  evidence bundle: {paths['bundle']}{how}")
