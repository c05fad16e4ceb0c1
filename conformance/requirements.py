"""The requirement catalogue of an API, read from its spec's `x-requirements`, and each rule's status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The order is the order of precedence when several outcomes meet on one requirement.
PASS, WARN, FAIL, NOT_TESTED = "pass", "warn", "fail", "not-tested"
LEVELS = ("mandatory", "advisory", "optional")


@dataclass(frozen=True)
class Requirement:
    id: str
    rule: str
    level: str
    source: str


def catalogue(spec: Mapping[str, Any]) -> dict[str, Requirement]:
    """Requirements by id, in the spec's order."""
    return {
        req_id: Requirement(req_id, entry["rule"], entry["level"], entry.get("source", ""))
        for req_id, entry in spec.get("x-requirements", {}).items()
    }


@dataclass
class Evidence:
    """What the run saw of one requirement: the tests behind it and what they found."""

    tests: set[str] = field(default_factory=set)
    failures: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    failure_count: int = 0
    passed: bool = False

    def status(self, level: str) -> str:
        if self.failures:
            # An advisory rule is a guess, not a documented one: its breach warns, it never fails a run.
            return WARN if level == "advisory" else FAIL
        if self.warnings:
            return WARN
        if self.passed:
            return PASS
        return NOT_TESTED


class Ledger:
    """Collects, per requirement, the tests that exercised it and the failures and warnings they met."""

    def __init__(self, requirements: Mapping[str, Requirement]) -> None:
        self.requirements = dict(requirements)
        self.evidence: dict[str, Evidence] = {req_id: Evidence() for req_id in self.requirements}

    def _get(self, req_id: str) -> Evidence:
        if req_id not in self.evidence:
            # A test naming an id the spec does not define is a bug in the suite, not in the target.
            raise KeyError(f"requirement {req_id} is not in the spec's x-requirements")
        return self.evidence[req_id]

    def passed(self, req_ids: Iterable[str], test: str) -> None:
        for req_id in req_ids:
            evidence = self._get(req_id)
            evidence.tests.add(test)
            evidence.passed = True

    def failed(self, req_ids: Iterable[str], test: str, detail: dict[str, Any]) -> None:
        """Record a failure; identical ones (same check and title) are grouped into one entry with a count."""
        for req_id in req_ids:
            evidence = self._get(req_id)
            evidence.tests.add(test)
            evidence.failure_count += 1
            key = (detail.get("check"), detail.get("title"))
            group = next((f for f in evidence.failures if (f.get("check"), f.get("title")) == key), None)
            if group is not None:
                group["count"] += 1
                if test not in group["tests"] and len(group["tests"]) < 20:
                    group["tests"].append(test)
            elif len(evidence.failures) < 50:  # enough distinct kinds to act on; the total is still counted
                evidence.failures.append({**detail, "count": 1, "tests": [test]})

    def warned(self, req_ids: Iterable[str], test: str, detail: dict[str, Any]) -> None:
        for req_id in req_ids:
            evidence = self._get(req_id)
            evidence.tests.add(test)
            if len(evidence.warnings) < 20:
                evidence.warnings.append(detail)

    def statuses(self) -> dict[str, str]:
        return {req_id: self.evidence[req_id].status(req.level) for req_id, req in self.requirements.items()}
