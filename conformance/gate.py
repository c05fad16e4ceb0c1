"""The release gate: does each verdict meet the policy?

It reads the judge's verdict as the run wrote it. Blocked, whatever else: a run that ended in error, a run
that found a credential in its artefacts, a run against the embedded reference service or a faulty variant
(unless the policy allows reference targets), a verdict written for another spec than the one the policy
names. Then, per requirement: a failure blocks unless waived; a warning blocks when the policy allows none;
a mandatory requirement that errored or went untested blocks unless waived (or, for rules no run can
reach, unless the policy accepts them). An inconclusive run blocks unless the policy allows it.

A waiver names a requirement, a reason and an expiry date; from the day after that date it no longer waives. A waiver
for a requirement no spec defines (or that its API's spec lacks) is a policy error: it could never waive anything.
A waiver may name a finding key instead (or as well): it waives that one finding, so a second defect of the same
requirement (another key) still blocks. With `block = "new"`, a finding the run's baseline marks known does not
block either, until its baseline entry expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .target import ConfigurationError

DEFAULT_POLICY = """\
allow_warnings = true
allow_inconclusive = false
allow_out_of_reach = true
allow_reference_targets = false
block = "all"
"""
BLOCK_CHOICES = ("all", "new")  # every failure blocks, or only those the run's baseline does not know
KNOWN_KEYS = {
    "block",
    "allow_warnings",
    "allow_inconclusive",
    "allow_out_of_reach",
    "allow_reference_targets",
    "spec_sha256",
    "waivers",
}


@dataclass(frozen=True)
class Waiver:
    requirement: str | None
    reason: str
    expires: dt.date
    api: str | None = None  # None: the waiver applies to every API's report
    key: str | None = None  # a finding key: the waiver excuses that finding only, not its whole requirement
    operation: str | None = None  # an operation that never succeeded in the run (e.g. "POST /v1/promo/qrCode")

    def applies(self, api: str, requirement: str) -> bool:
        """Whether it waives the whole requirement."""
        return self.key is None and self.requirement == requirement and self.api in (None, api)

    def applies_to(self, api: str, requirement: str, key: str) -> bool:
        """Whether it waives one finding of the requirement (by the finding's key)."""
        return self.key == key and self.requirement in (None, requirement) and self.api in (None, api)

    def excuses(self, api: str, operation: str) -> bool:
        """Whether it waives the fact that `operation` never succeeded in the run."""
        return self.operation == operation and self.api in (None, api)

    @property
    def names(self) -> str:
        if self.operation:
            return f"operation {self.operation}"
        return f"finding {self.key}" if self.key else str(self.requirement)


@dataclass(frozen=True)
class Policy:
    allow_warnings: bool = True
    allow_inconclusive: bool = False
    allow_out_of_reach: bool = True  # mandatory rules no run can reach (declared, with the reason)
    allow_reference_targets: bool = False  # a verdict of the embedded reference or a faulty variant
    spec_sha256: dict[str, str] = field(default_factory=dict)  # api -> the sha256 of the spec it must be run with
    waivers: tuple[Waiver, ...] = field(default=())
    block: str = "all"  # "new": a finding the run's baseline knows (and has not expired) does not block
    source: str = "built-in default"
    sha256: str = ""  # of the policy's text, as read: an attestation of the gate's decision names it

    @classmethod
    def parse(cls, text: str, source: str) -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"policy {source} is not valid TOML: {exc}") from None
        unknown = set(data) - KNOWN_KEYS
        if unknown:
            raise ConfigurationError(f"policy {source}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("allow_warnings", "allow_inconclusive", "allow_out_of_reach", "allow_reference_targets"):
            if key in data and not isinstance(data[key], bool):
                raise ConfigurationError(f"policy {source}: {key} must be true or false")
        shas = data.get("spec_sha256", {})
        if not isinstance(shas, dict) or not all(isinstance(v, str) for v in shas.values()):
            raise ConfigurationError(f"policy {source}: [spec_sha256] maps an API name to a sha256 string")
        if data.get("block", "all") not in BLOCK_CHOICES:
            raise ConfigurationError(f'policy {source}: block must be "all" or "new"')
        waivers = []
        for index, entry in enumerate(data.get("waivers", []), start=1):
            missing = {"reason", "expires"} - entry.keys()
            if not {"requirement", "key", "operation"} & entry.keys():
                missing.add("requirement (or key, or operation)")
            if missing:
                raise ConfigurationError(f"policy {source}: waiver {index} lacks {', '.join(sorted(missing))}")
            if not isinstance(entry["expires"], dt.date) or isinstance(entry["expires"], dt.datetime):
                raise ConfigurationError(f"policy {source}: waiver {index} expires must be a date (2027-01-31)")
            if not str(entry["reason"]).strip():
                raise ConfigurationError(f"policy {source}: waiver {index} needs a reason")
            if entry.get("requirement") is not None:
                _check_names(source, index, str(entry["requirement"]), entry.get("api"))
            waivers.append(
                Waiver(
                    entry.get("requirement"),
                    entry["reason"],
                    entry["expires"],
                    entry.get("api"),
                    entry.get("key"),
                    entry.get("operation"),
                )
            )
        return cls(
            allow_warnings=data.get("allow_warnings", True),
            allow_inconclusive=data.get("allow_inconclusive", False),
            allow_out_of_reach=data.get("allow_out_of_reach", True),
            allow_reference_targets=data.get("allow_reference_targets", False),
            spec_sha256={api: sha.lower() for api, sha in shas.items()},
            waivers=tuple(waivers),
            block=data.get("block", "all"),
            source=source,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )

    @classmethod
    def load(cls, path: str | None) -> Policy:
        if path is None:
            return cls.parse(DEFAULT_POLICY, "built-in default")
        try:
            text = Path(path).read_bytes().decode("utf-8")  # as is (no newline translation): its sha256 is the file's
        except OSError as exc:
            raise ConfigurationError(f"cannot read policy {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"policy {path} is not UTF-8 text") from None
        return cls.parse(text, path)


@cache
def known_requirements() -> dict[str, frozenset[str]]:
    """API -> the requirement ids its verdicts can hold (a service's, with the rules it borrows, and a client's)."""
    from .profiles import CLIENT_PROFILES, PROFILES

    profiles = [*PROFILES.values(), *CLIENT_PROFILES.values()]
    return {profile.name: frozenset(profile.requirements) for profile in profiles}


def _check_names(source: str, index: int, requirement: str, api: Any) -> None:
    """A waiver for a requirement no verdict can hold (a typo, a rule renumbered) would never waive anything, and
    nobody would notice: it is a policy error."""
    known = known_requirements()
    if api is not None and api not in known:
        raise ConfigurationError(f"policy {source}: waiver {index} names api {api!r}; known: {', '.join(known)}")
    if api is not None and requirement not in known[api]:
        raise ConfigurationError(f"policy {source}: waiver {index} names {requirement}, which the {api} spec lacks")
    if not any(requirement in ids for ids in known.values()):
        raise ConfigurationError(f"policy {source}: waiver {index} names {requirement}, which no spec defines")


@dataclass
class Decision:
    api: str
    passes: bool
    blocking: list[str]
    notes: list[str]


def decide(verdict: dict[str, Any], policy: Policy, today: dt.date) -> Decision:
    """Whether one verdict meets the policy, with every blocking reason and every waiver used or expired."""
    api = str(verdict.get("api"))
    blocking: list[str] = []
    notes: list[str] = []
    reasons = "; ".join(verdict.get("reasons", []))
    outcome = verdict.get("verdict")
    if outcome not in ("pass", "fail", "inconclusive"):
        blocking.append(f"the run ended in {outcome}: {reasons}" if reasons else f"the run ended in {outcome}")
    failed_ids = [r["id"] for r in verdict.get("requirements", []) if r.get("status") in ("fail", "inconclusive")]
    if outcome == "fail" and not failed_ids:  # a failure no requirement explains cannot be waived away
        blocking.append(f"the run ended in fail: {reasons}" if reasons else "the run ended in fail")
    if verdict.get("leaks"):
        blocking.append(f"a credential was found in the run's artefacts ({', '.join(verdict['leaks'])})")
    target = verdict.get("target", {})
    if not policy.allow_reference_targets:
        if target.get("faulty_variants"):
            blocking.append(f"the run tested faulty variants ({', '.join(target['faulty_variants'])}), not a service")
        elif target.get("embedded_reference", True):
            blocking.append("the run tested the embedded reference service, not the service to release")
    expected_sha = policy.spec_sha256.get(api)
    actual_sha = str(verdict.get("spec", {}).get("sha256", "")).lower()
    if expected_sha and expected_sha != actual_sha:
        blocking.append(
            f"the verdict was written with spec sha256 {actual_sha[:12]}, the policy names {expected_sha[:12]}"
        )
    if outcome == "inconclusive":
        if policy.allow_inconclusive:
            notes.append(f"the run was inconclusive, which the policy allows: {reasons}")
        else:
            blocking.append(f"the run was inconclusive: {reasons}")
    elif outcome == "fail":  # what would make the run inconclusive still counts once its failures are waived
        blocking += _also_inconclusive(verdict, api, policy, today, notes)
    out_of_reach = set(verdict.get("out_of_reach", {}))
    not_applicable = set(verdict.get("not_applicable", []))
    for requirement in verdict.get("requirements", []):
        req_id, status, level = requirement["id"], requirement["status"], requirement["level"]
        problem = None
        if status in ("fail", "inconclusive"):
            problem = f"{req_id} failed" if status == "fail" else f"{req_id} is inconclusive"
        elif status == "warn" and not policy.allow_warnings:
            problem = f"{req_id} warned (the policy allows no warnings)"
        elif status == "error" and level == "mandatory" and not policy.allow_inconclusive:
            problem = f"{req_id} is mandatory and could not be established"
        elif status == "not-tested" and level == "mandatory" and req_id not in not_applicable:
            if req_id in out_of_reach:
                if not policy.allow_out_of_reach:
                    problem = f"{req_id} is mandatory and out of the suite's reach (the policy does not accept that)"
            elif not policy.allow_inconclusive:
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
        blocking += _finding_by_finding(api, requirement, problem, policy, today, notes)
    return Decision(api, not blocking, blocking, notes)


def _also_inconclusive(
    verdict: dict[str, Any], api: str, policy: Policy, today: dt.date, notes: list[str]
) -> list[str]:
    """The inconclusive facts of a failed run that no requirement carries (the run deadline, an interruption, an
    operation that never succeeded): each blocks unless the policy allows inconclusive runs or, for an operation,
    a waiver names it. A rule that errored or went untested is weighed with its requirement's waivers below."""
    blocking = []
    for fact in verdict.get("inconclusive_facts", []):
        if fact.get("requirement"):
            continue
        text = f"the run was also inconclusive: {fact.get('text')}"
        if policy.allow_inconclusive:
            notes.append(f"{text} (the policy allows it)")
            continue
        waivers = [w for w in policy.waivers if fact.get("operation") and w.excuses(api, str(fact["operation"]))]
        valid = [w for w in waivers if today <= w.expires]
        if valid:
            notes.append(f"{text}: waived until {valid[0].expires} ({valid[0].reason})")
            continue
        notes += [f"the waiver for {w.names} expired on {w.expires} and no longer waives" for w in waivers]
        blocking.append(text)
    return blocking


# The findings that make a requirement's status what it is: the ones a waiver or the baseline must excuse.
_BEHIND = {"fail": ("fail",), "inconclusive": ("fail",), "warn": ("fail", "warn"), "error": ("error",)}


def _finding_by_finding(
    api: str, requirement: dict[str, Any], problem: str, policy: Policy, today: dt.date, notes: list[str]
) -> list[str]:
    """What still blocks of a requirement once each of its findings is weighed on its own: waived by its key, or
    known to the run's baseline (with `block = "new"`). One finding left unexcused blocks the requirement."""
    req_id = requirement["id"]
    behind = [f for f in requirement.get("findings", []) if f.get("status") in _BEHIND.get(requirement["status"], ())]
    by_key = any(w.key for w in policy.waivers)
    if not behind or not (by_key or policy.block == "new"):
        return [problem]  # nothing to weigh finding by finding (an untested rule, or no key waiver and no baseline)
    if requirement.get("findings_not_listed"):
        notes.append(f"{req_id}: {requirement['findings_not_listed']} finding(s) are not listed, so none is excused")
        return [problem]
    unexcused = []
    for finding in behind:
        key = str(finding.get("key"))
        waivers = [w for w in policy.waivers if w.applies_to(api, req_id, key)]
        valid = [w for w in waivers if today <= w.expires]
        if valid:
            notes.append(f"{req_id} finding {key}: waived until {valid[0].expires} ({valid[0].reason})")
            continue
        for waiver in waivers:
            notes.append(f"the waiver for {req_id} finding {key} expired on {waiver.expires} and no longer waives")
        if policy.block == "new" and _known(finding, req_id, today, notes):
            continue
        unexcused.append(finding)
    if not unexcused:
        return []
    shown = ", ".join(f"{f.get('key')} ({f.get('title') or f.get('check')})" for f in unexcused[:5])
    more = f" and {len(unexcused) - 5} more" if len(unexcused) > 5 else ""
    what = "finding(s) neither known to the baseline nor waived" if policy.block == "new" else "finding(s) not waived"
    return [f"{problem}: {what} {shown}{more}"]


def _known(finding: dict[str, Any], req_id: str, today: dt.date, notes: list[str]) -> bool:
    """Whether the run's baseline knows the finding, as of `today` (its entry may have expired since the run)."""
    mark = finding.get("baseline") or {}
    key = finding.get("key")
    if mark.get("state") not in ("known", "expired"):
        return False
    expires = dt.date.fromisoformat(mark["expires"]) if mark.get("expires") else None
    if expires is not None and today > expires:
        notes.append(f"the baseline entry for {req_id} finding {key} expired on {expires} and no longer excuses it")
        return False
    if mark.get("was") == "warn" and finding.get("status") in ("fail", "error"):
        notes.append(f"{req_id} finding {key} was a warning in the baseline and now fails")
        return False
    owner = f", {mark['owner']}" if mark.get("owner") else ""
    until = f" until {expires}" if expires else ""
    notes.append(f"{req_id} finding {key}: known in the baseline{until}{owner} ({mark.get('reason', '')})")
    return True
