"""The judge: records and the requirement catalogue in, one verdict out. A pure function.

Every reader of a run's outcome (the CLI's exit code, the verdict JSON, the HTML report, the JUnit
properties, the release gate) reads the `Verdict` this module returns; no other code decides a status.

A requirement's status, from its records:
- `fail`: a record failed it (on an `advisory` rule a failure is only a `warn`: the documents do not state it);
- `error`: a record could not establish it (setup, transport or a bug), and nothing failed it;
- `warn`: a record warned, and nothing failed or errored;
- `pass`: at least one record examined it on a relevant answer and passed, and nothing else was found;
- `not-applicable`: it does not bind this target (another API version, only operations outside the claimed version
  or the agreed methods are subject to it, a declared option it does not bind), whatever records speak of it;
- `not-tested`: no record examined it (a skip says why; `out_of_reach` says why no run can).

The run's verdict, in order of precedence:
- `error` when a credential was found in the artefacts (exit 5) or the target answered nothing (exit 3);
- `inconclusive` when no request was sent at all (exit 4);
- `inconclusive` when every credentialed request was refused: the checks never saw the service (exit 4);
- `inconclusive` when nearly every request to a documented path got 404 and none succeeded: the base URL is
  likely wrong, so the checks never saw the documented operations (exit 4);
- `fail` when a requirement failed (exit 1);
- `inconclusive` when a mandatory requirement errored or went untested without a true reason, an
  operation never answered with success, or the run deadline cut the run short (exit 4);
- `pass` otherwise (exit 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .outcomes import ERROR, FAIL, PASS, SKIP, WARN, Record
from .requirements import Requirement

NOT_TESTED, NOT_APPLICABLE, INCONCLUSIVE = "not-tested", "not-applicable", "inconclusive"
REQUIREMENT_STATUSES = (PASS, FAIL, WARN, ERROR, NOT_TESTED, NOT_APPLICABLE, INCONCLUSIVE)
EXIT_CODES = {"pass": 0, "fail": 1, "inconclusive": 4}
EXIT_TRANSPORT, EXIT_SUITE_BUG = 3, 5


@dataclass(frozen=True)
class RunFacts:
    """What the run observed besides the records: the judge's other inputs."""

    answered: int = 0  # exchanges that got an answer
    unanswered: int = 0  # exchanges that got none (timeout, reset, refused, truncated, ...)
    unanswered_causes: Mapping[str, int] = field(default_factory=dict)  # cause -> count
    credentialed_statuses: Mapping[int, int] = field(default_factory=dict)  # status -> count, own credentials only
    credential_env: tuple[str, ...] = ()
    operations_without_success: tuple[str, ...] = ()
    not_applicable: Mapping[str, str] = field(default_factory=dict)  # rule -> why it does not bind this target
    out_of_reach: Mapping[str, str] = field(default_factory=dict)
    leaks: tuple[str, ...] = ()  # artefacts in which a secret was found
    deadline_reached: str | None = None  # why the run stopped early, when it did
    client: bool = False  # the exchanges are those a partner's client sent to the sandbox (certify-client)
    documented_statuses: Mapping[int, int] = field(default_factory=dict)  # status -> count, documented operations
    base_url_advice: str = ""  # what may be wrong with the base URL, said when the answers suggest it is
    interrupted: str | None = None  # the run was stopped by its user (Ctrl-C): what it did not reach is not tested
    incomplete_steps: tuple[str, ...] = ()  # "the client did not complete step X: why", of a client certification


@dataclass
class RequirementResult:
    requirement: Requirement
    status: str
    tests: list[str]
    findings: list[Record]  # the records that are not passes (fail, warn, error, skip), most serious first
    passes: int
    why_untested: str | None = None


@dataclass(frozen=True)
class Fact:
    """Something that keeps a run from being evidence either way (the run deadline, an operation that never
    succeeded, a mandatory rule that errored or went untested). Recorded whatever the verdict: a failure waived at
    the gate must not let through a run that, without the failure, would be inconclusive."""

    text: str
    requirement: str | None = None  # the rule it is about, when it is one (the gate weighs it with its waivers)
    operation: str | None = None  # the operation it is about, when it is one


@dataclass
class Verdict:
    verdict: str  # pass | fail | inconclusive | error
    reasons: list[str]
    exit_code: int
    requirements: dict[str, RequirementResult]
    inconclusive: list[Fact] = field(default_factory=list)  # whatever the verdict

    def counts(self) -> dict[str, int]:
        found = Counter(result.status for result in self.requirements.values())
        return {status: found[status] for status in REQUIREMENT_STATUSES}

    def ids_with(self, status: str) -> list[str]:
        return [req_id for req_id, result in self.requirements.items() if result.status == status]


_SEVERITY = {FAIL: 0, ERROR: 1, WARN: 2, SKIP: 3}


def requirement_status(requirement: Requirement, records: list[Record]) -> str:
    statuses = {record.status for record in records}
    if FAIL in statuses:
        return WARN if requirement.level == "advisory" else FAIL
    if ERROR in statuses:
        return ERROR
    if WARN in statuses:
        return WARN
    if PASS in statuses:
        return PASS
    return NOT_TESTED


def judge(records: Iterable[Record], catalogue: Mapping[str, Requirement], facts: RunFacts) -> Verdict:
    by_requirement: dict[str, list[Record]] = {req_id: [] for req_id in catalogue}
    for record in records:
        if not record.requirements:
            raise ValueError(f"a {record.status} record of {record.test} ({record.check}) names no requirement")
        for req_id in record.requirements:
            if req_id not in by_requirement:
                raise ValueError(f"{record.test} ({record.check}) names {req_id}, which the catalogue lacks")
            by_requirement[req_id].append(record)

    results: dict[str, RequirementResult] = {}
    for req_id, requirement in catalogue.items():
        own = by_requirement[req_id]
        status = requirement_status(requirement, own)
        why = None
        if req_id in facts.not_applicable:  # a rule that does not bind this target: no record speaks for or against
            status, own = NOT_APPLICABLE, []
            why = facts.not_applicable[req_id] if isinstance(facts.not_applicable, Mapping) else None
        elif status == NOT_TESTED:
            if req_id in facts.out_of_reach:
                why = f"out of reach: {facts.out_of_reach[req_id]}"
            else:
                skips = [record.reason for record in own if record.status == SKIP]
                why = skips[0] if skips else None
        findings = sorted((r for r in own if r.status != PASS), key=lambda r: _SEVERITY[r.status])
        results[req_id] = RequirementResult(
            requirement,
            status,
            sorted({record.test for record in own}),
            findings,
            sum(record.count for record in own if record.status == PASS),
            why,
        )
    return _verdict(results, facts)


def _verdict(results: dict[str, RequirementResult], facts: RunFacts) -> Verdict:
    found = inconclusive_facts(results, facts)  # kept whatever the verdict
    if facts.leaks:
        return Verdict(
            "error",
            [f"a credential was found in {', '.join(facts.leaks)}: the artefacts were withheld; please report this"],
            EXIT_SUITE_BUG,
            results,
            found,
        )
    if facts.interrupted:  # stopped by its user: no finding so far is the whole truth, none blames the service
        return Verdict("inconclusive", [facts.interrupted], EXIT_CODES["inconclusive"], results, found)
    if facts.answered == 0 and facts.unanswered_causes:
        causes = _listing(facts.unanswered_causes)
        return Verdict("error", [f"the target answered nothing ({causes})"], EXIT_TRANSPORT, results, found)
    if facts.answered == 0:
        nothing = (
            "the client sent no request to the sandbox: no rule was exercised"
            if facts.client
            else "no request reached the target: the tests did not run"
        )
        reasons = [nothing, *([facts.deadline_reached] if facts.deadline_reached else [])]
        return Verdict("inconclusive", reasons, EXIT_CODES["inconclusive"], results, found)

    statuses = facts.credentialed_statuses
    if statuses and all(status in (401, 403) for status in statuses):
        env = " / ".join(facts.credential_env)
        for result in results.values():
            if result.status == FAIL:  # a failure seen through refusals says nothing about the service
                result.status = INCONCLUSIVE
        reason = f"every request made with the configured credentials was refused ({_listing(statuses)})"
        return Verdict(
            "inconclusive", [reason + (f": check {env}" if env else "")], EXIT_CODES["inconclusive"], results, found
        )

    misdirected = _misdirected(facts.documented_statuses)
    if misdirected:
        for result in results.values():
            if result.status == FAIL:  # what a 404 from the wrong place says is nothing about the service
                result.status = INCONCLUSIVE
        reason = misdirected + (f" {facts.base_url_advice}" if facts.base_url_advice else "")
        return Verdict("inconclusive", [reason], EXIT_CODES["inconclusive"], results, found)

    failed = [req_id for req_id, result in results.items() if result.status == FAIL]
    if failed:
        return Verdict("fail", [f"requirements failed: {', '.join(failed)}"], EXIT_CODES["fail"], results, found)
    if found:
        return Verdict("inconclusive", [fact.text for fact in found], EXIT_CODES["inconclusive"], results, found)
    return Verdict("pass", [], EXIT_CODES["pass"], results)


def inconclusive_facts(results: dict[str, RequirementResult], facts: RunFacts) -> list[Fact]:
    """Everything that keeps the run from being evidence either way, whatever else it found."""
    found: list[Fact] = []
    if facts.deadline_reached:
        found.append(Fact(facts.deadline_reached))
    found += [Fact(step) for step in facts.incomplete_steps]
    not_reached = "was not reached before the run was interrupted" if facts.interrupted else ""
    found += [
        Fact(
            f"{label} {not_reached or 'never answered a request with success, so its answers were never checked'}",
            operation=label,
        )
        for label in facts.operations_without_success
    ]
    for req_id, result in results.items():
        if result.requirement.level != "mandatory":
            continue
        if result.status == ERROR:
            cause = result.findings[0].reason if result.findings else "an error"
            found.append(Fact(f"mandatory requirement {req_id} could not be established: {cause}", req_id))
        elif result.status == NOT_TESTED and req_id not in facts.out_of_reach:
            why = f": {result.why_untested}" if result.why_untested else ""
            found.append(Fact(f"mandatory requirement {req_id} was not tested{why}", req_id))
    return found


MISDIRECTED_SHARE, MISDIRECTED_LEAST = 0.8, 3  # of the answers to documented paths: 404s, with no success at all


def _misdirected(statuses: Mapping[int, int]) -> str:
    """Why the answers suggest the requests went to the wrong place ("" when they do not): nearly every request to a
    documented path got 404 and none succeeded. A service at the right address answers some request with success."""
    total, not_found = sum(statuses.values()), statuses.get(404, 0)
    if total < MISDIRECTED_LEAST or any(200 <= status < 300 for status in statuses):
        return ""
    if not_found < MISDIRECTED_SHARE * total:
        return ""
    return f"{not_found} of {total} requests to documented paths got 404 and none succeeded: is the base URL right?"


def _listing(counts: Mapping[object, int]) -> str:
    return ", ".join(f"{n} x {what}" for what, n in sorted(counts.items(), key=lambda item: str(item[0])))
