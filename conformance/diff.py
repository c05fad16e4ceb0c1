"""What changed between two verdicts of one API (`conformance diff`, and the HTML report's baseline section).

Findings are matched by key (`conformance.findings`). A finding of the old run is:
- *still present* when the new run has it again;
- *gone* when the new run examined the same rule with the same check or test and did not find it;
- *not seen* when the new run did not examine that rule with that check or test (a test skipped, an operation
  left out, a run cut short): that is no evidence of a fix, so it is never called gone.
A finding only the new run has is *new*. A comparison is *partial* when something besides the service changed
(the spec, the suite, the options, the target), or when a run was cut short or left findings unlisted: each
reason is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .findings import examiner

COMPARED = ("fail", "error", "warn")  # what a diff compares: a skip is no defect
SEVERITY = {"fail": 0, "error": 1, "warn": 2}
FAILURES = ("fail", "error")
EXAMINED = ("pass", "fail", "warn")  # requirement statuses of a rule some record really examined


class NotComparable(ValueError):
    """Two verdicts that cannot be compared at all (another API, or a verdict without finding keys)."""


def indexed(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every compared finding of a verdict by key: its readable parts, title and status."""
    found: dict[str, dict[str, Any]] = {}
    for requirement in document.get("requirements", []):
        for finding in requirement.get("findings", []):
            if finding.get("status") not in COMPARED:
                continue
            if "key" not in finding:
                raise NotComparable("it was written by a suite version without finding keys: run it again")
            known = found.get(finding["key"])
            if known is None or SEVERITY[finding["status"]] < SEVERITY[known["status"]]:
                found[finding["key"]] = {
                    "key": finding["key"],
                    **finding.get("key_parts", {}),
                    "requirement": requirement["id"],
                    "title": finding.get("title", ""),
                    "status": finding["status"],
                }
    return found


def examination(document: Mapping[str, Any]) -> dict[str, tuple[str, set[str]]]:
    """requirement id -> (its status, the checks and tests that examined it)."""
    out = {}
    for requirement in document.get("requirements", []):
        if "examined_by" not in requirement:
            raise NotComparable("it was written by a suite version without finding keys: run it again")
        out[requirement["id"]] = (requirement.get("status", ""), set(requirement["examined_by"]))
    return out


def seen_again(entry: Mapping[str, Any], examined: Mapping[str, tuple[str, set[str]]]) -> bool:
    """Whether a run examined the rule of `entry` (a finding of another run) with the same check or test."""
    status, by = examined.get(entry.get("requirement", ""), ("", set()))
    return status in EXAMINED and examiner(entry) in by


def _facts(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "verdict": document.get("verdict"),
        "started": document.get("started"),
        "seed": document.get("seed"),
        "suite_version": document.get("suite_version"),
        "spec_sha256": document.get("spec", {}).get("sha256"),
    }


def partial_reasons(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What besides the service changed between the runs, or kept one from seeing everything."""
    reasons = []

    def changed(label: str, before: Any, after: Any) -> None:
        if before != after:
            reasons.append(f"{label} changed ({before} -> {after})")

    old_spec, new_spec = old.get("spec", {}), new.get("spec", {})
    changed("the spec", str(old_spec.get("sha256", ""))[:12], str(new_spec.get("sha256", ""))[:12])
    changed("the spec version", old_spec.get("version"), new_spec.get("version"))
    changed("the suite version", old.get("suite_version"), new.get("suite_version"))
    changed("the claimed API version", old.get("api_version"), new.get("api_version"))
    changed("--max-examples", old.get("max_examples"), new.get("max_examples"))
    old_target, new_target = old.get("target", {}), new.get("target", {})
    moves = new.get("party") == "client" or (
        old_target.get("embedded_reference") and new_target.get("embedded_reference")
    )
    if not moves:  # an embedded reference or a client's sandbox listens on a new port each time
        changed("the target", old_target.get("base_url"), new_target.get("base_url"))
    changed("the faulty variants", old_target.get("faulty_variants"), new_target.get("faulty_variants"))
    changed("the target config", old.get("target_config"), new.get("target_config"))
    for name, document in (("OLD", old), ("NEW", new)):
        if document.get("verdict") in ("inconclusive", "error"):
            why = "; ".join(document.get("reasons", [])) or document.get("verdict")
            reasons.append(f"{name} is {document.get('verdict')}: {why}")
        for requirement in document.get("requirements", []):
            if requirement.get("findings_not_listed"):
                reasons.append(
                    f"{name} lists only some findings of {requirement['id']} "
                    f"({requirement['findings_not_listed']} left out)"
                )
        if document.get("verdict") and not document.get("requirements"):
            reasons.append(f"{name} holds no requirement (a run that reached nothing, or withheld reports)")
    return reasons


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The changes from `old` to `new` (verdict documents of one API), as plain JSON values."""
    if old.get("api") != new.get("api") or old.get("party", "service") != new.get("party", "service"):
        raise NotComparable(f"the verdicts are of different APIs ({old.get('api')}, {new.get('api')})")
    try:
        before = indexed(old)
        examination(old)
    except NotComparable as exc:
        raise NotComparable(f"OLD: {exc}") from None
    try:
        after = indexed(new)
        examined = examination(new)
    except NotComparable as exc:
        raise NotComparable(f"NEW: {exc}") from None
    new_findings, still, gone, not_seen = [], [], [], []
    for key, entry in after.items():
        if key in before:
            still.append({**entry, "old_status": before[key]["status"]})
        else:
            new_findings.append(entry)
    for key, entry in before.items():
        if key not in after:
            (gone if seen_again(entry, examined) else not_seen).append(entry)
    old_statuses = {r["id"]: r.get("status") for r in old.get("requirements", [])}
    new_statuses = {r["id"]: r.get("status") for r in new.get("requirements", [])}
    statuses = [
        {"id": req_id, "old": old_statuses.get(req_id), "new": new_statuses.get(req_id)}
        for req_id in dict.fromkeys([*old_statuses, *new_statuses])
        if old_statuses.get(req_id) != new_statuses.get(req_id)
    ]
    worse = [entry for entry in still if entry["status"] in FAILURES and entry["old_status"] not in FAILURES]
    return {
        "api": new.get("api"),
        "old": _facts(old),
        "new": _facts(new),
        "partial": partial_reasons(old, new),
        "new_findings": new_findings,
        "still_present": still,
        "gone": gone,
        "not_seen": not_seen,
        "requirements": statuses,
        "new_failures": sum(1 for entry in new_findings if entry["status"] in FAILURES) + len(worse),
    }
