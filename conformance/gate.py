"""The release gate: does each verdict meet the policy? Mandatory rules passed, warnings allowed or not, waivers.

A waiver names a requirement, a reason and an expiry date; from the day after that date it no longer waives.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .target import ConfigurationError

DEFAULT_POLICY = """\
allow_warnings = true
allow_inconclusive = false
"""


@dataclass(frozen=True)
class Waiver:
    requirement: str
    reason: str
    expires: dt.date
    api: str | None = None  # None: the waiver applies to every API's report

    def applies(self, api: str, requirement: str) -> bool:
        return self.requirement == requirement and self.api in (None, api)


@dataclass(frozen=True)
class Policy:
    allow_warnings: bool = True
    allow_inconclusive: bool = False
    waivers: tuple[Waiver, ...] = field(default=())
    source: str = "built-in default"

    @classmethod
    def parse(cls, text: str, source: str) -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"policy {source} is not valid TOML: {exc}") from None
        waivers = []
        for index, entry in enumerate(data.get("waivers", []), start=1):
            missing = {"requirement", "reason", "expires"} - entry.keys()
            if missing:
                raise ConfigurationError(f"policy {source}: waiver {index} lacks {', '.join(sorted(missing))}")
            if not isinstance(entry["expires"], dt.date) or isinstance(entry["expires"], dt.datetime):
                raise ConfigurationError(f"policy {source}: waiver {index} expires must be a date (2027-01-31)")
            if not str(entry["reason"]).strip():
                raise ConfigurationError(f"policy {source}: waiver {index} needs a reason")
            waivers.append(Waiver(entry["requirement"], entry["reason"], entry["expires"], entry.get("api")))
        return cls(
            allow_warnings=bool(data.get("allow_warnings", True)),
            allow_inconclusive=bool(data.get("allow_inconclusive", False)),
            waivers=tuple(waivers),
            source=source,
        )

    @classmethod
    def load(cls, path: str | None) -> Policy:
        if path is None:
            return cls.parse(DEFAULT_POLICY, "built-in default")
        try:
            return cls.parse(Path(path).read_text(encoding="utf-8"), path)
        except OSError as exc:
            raise ConfigurationError(f"cannot read policy {path}: {exc.strerror}") from None


@dataclass
class Decision:
    api: str
    passes: bool
    blocking: list[str]
    notes: list[str]


def decide(verdict: dict[str, Any], policy: Policy, today: dt.date) -> Decision:
    """Whether one verdict meets the policy, with every blocking reason and every waiver used or expired."""
    api = verdict["api"]
    blocking: list[str] = []
    notes: list[str] = []
    if verdict["verdict"] == "inconclusive" and not policy.allow_inconclusive:
        blocking.append("the run was inconclusive: " + "; ".join(verdict["reasons"]))
    excused = set(verdict.get("not_applicable", [])) | set(verdict.get("out_of_reach", {}))
    for requirement in verdict["requirements"]:
        req_id, status, level = requirement["id"], requirement["status"], requirement["level"]
        problem = None
        if status == "fail":
            problem = f"{req_id} failed"
        elif status == "warn" and not policy.allow_warnings:
            problem = f"{req_id} warned (the policy allows no warnings)"
        elif status == "not-tested" and level == "mandatory" and req_id not in excused:
            problem = f"{req_id} is mandatory and was not tested"
        if problem is None:
            continue
        waivers = [w for w in policy.waivers if w.applies(api, req_id)]
        valid = [w for w in waivers if today <= w.expires]
        if valid:
            notes.append(f"{problem}: waived until {valid[0].expires} ({valid[0].reason})")
            continue
        for waiver in waivers:
            notes.append(f"the waiver for {req_id} expired on {waiver.expires} and no longer waives")
        blocking.append(problem)
    return Decision(api, not blocking, blocking, notes)
