"""in-toto Statements (v1) of what a run, a certification or the release gate concluded, with the test-result
predicate (https://in-toto.io/attestation/test-result/v0.1) that release pipelines check before they deploy.

A run's statement: the subject is every file of its evidence bundle (by name and sha256) and, for a service, the
target: its base URL with the declared options. The predicate's result is PASSED (no requirement failed or
warned), WARNED (only advisory rules warned) or FAILED; passedTests, warnedTests and failedTests list requirement
ids; the configuration is the spec file and its sha256, the suite and its version, the masked target config's
digest, and the run's options (seed, example budget, claimed API version, ...).

An inconclusive or error run is no test result: it is not attested at all (`result_of` gives None), and the
command says so. The gate's statement has the verdict files it read as its subject, and lists each as passed
(meets the policy), warned (meets it with a waiver or an allowance used) or failed (blocked).

A descriptor that is no file (the target, the options) carries its facts as annotations and, since in-toto
wants a digest, the sha256 of the canonical JSON of {"annotations": ..., "uri": ...} (sorted keys, no spaces).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import __version__

if TYPE_CHECKING:
    from ..gate import Decision, Policy

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
PACKAGE = "koshelek-imbee-conformance"
RESULTS = {"pass": "PASSED", "fail": "FAILED"}  # inconclusive and error runs are no test result


class StatementError(ValueError):
    """A signed payload that is not an in-toto Statement v1."""


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def described(name: str, annotations: Mapping[str, Any], uri: str | None = None) -> dict[str, Any]:
    """A descriptor of something that is no file: its facts as annotations, digested so in-toto readers accept it."""
    descriptor: dict[str, Any] = {"name": name}
    if uri is not None:
        descriptor["uri"] = uri
    descriptor["digest"] = {"sha256": sha256(canonical({"annotations": annotations, "uri": uri}))}
    descriptor["annotations"] = dict(annotations)
    return descriptor


def suite_descriptor() -> dict[str, Any]:
    return {"name": "suite", "uri": f"pkg:pypi/{PACKAGE}@{__version__}", "annotations": {"version": __version__}}


def result_of(verdict: Mapping[str, Any]) -> str | None:
    """PASSED, WARNED or FAILED; None for a run that is no test result (inconclusive, error)."""
    result = RESULTS.get(str(verdict.get("verdict")))
    if result == "PASSED" and any(r.get("status") == "warn" for r in verdict.get("requirements", [])):
        return "WARNED"
    return result


def declared_options(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """What the party declared it implements: the API, the version claimed, the optional methods agreed."""
    return {
        "api": verdict.get("api"),
        "title": verdict.get("title"),
        "party": verdict.get("party", "service"),
        "apiVersion": verdict.get("api_version"),
        "optionalMethods": list(verdict.get("target_config", {}).get("optional_methods", [])),
    }


def run_options(verdict: Mapping[str, Any]) -> dict[str, Any]:
    target = verdict.get("target", {})
    return {
        **declared_options(verdict),
        "seed": verdict.get("seed"),
        "maxExamples": verdict.get("max_examples"),
        "targetIdentities": list(verdict.get("target_config", {}).get("identities", [])),
        "embeddedReference": bool(target.get("embedded_reference", False)),
        "faultyVariants": list(target.get("faulty_variants", [])),
        "started": verdict.get("started"),
    }


def file_subjects(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    return [{"name": name, "digest": {"sha256": sha256(content)}} for name, content in sorted(files.items())]


def run_statement(verdict: Mapping[str, Any], files: Mapping[str, bytes]) -> dict[str, Any]:
    """The statement of one run or certification (its verdict JSON) over the files of its evidence bundle."""
    result = result_of(verdict)
    if result is None:
        raise ValueError(f"a {verdict.get('verdict')} run is no test result and is not attested")
    subject = file_subjects(files)
    if verdict.get("party", "service") == "service":
        base_url = str(verdict.get("target", {}).get("base_url", ""))
        subject.append(described("target", declared_options(verdict), uri=base_url))
    spec = verdict.get("spec", {})
    configuration: list[dict[str, Any]] = [
        {
            "name": f"specs/{spec.get('file')}",
            "digest": {"sha256": spec.get("sha256")},
            "mediaType": "application/yaml",
            "annotations": {"version": spec.get("version")},
        },
        suite_descriptor(),
    ]
    if "target/target.toml" in files:
        configuration.append(
            {
                "name": "target/target.toml",
                "digest": {"sha256": sha256(files["target/target.toml"])},
                "mediaType": "application/toml",
                "annotations": {"passwordsMasked": True},
            }
        )
    configuration.append(described("options", run_options(verdict)))
    requirements = verdict.get("requirements", [])
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": TEST_RESULT,
        "predicate": {
            "result": result,
            "configuration": configuration,
            "passedTests": [r["id"] for r in requirements if r.get("status") == "pass"],
            "warnedTests": [r["id"] for r in requirements if r.get("status") == "warn"],
            "failedTests": [r["id"] for r in requirements if r.get("status") == "fail"],
        },
    }


def gate_statement(read: Sequence[tuple[str, bytes, Decision]], policy: Policy, today: dt.date) -> dict[str, Any]:
    """The release gate's decision over the verdict files it read: (name, bytes as read, decision) each."""
    subject, passed, warned, failed = [], [], [], []
    for name, content, decision in read:
        verdict = json.loads(content)
        subject.append(
            {
                "name": name,
                "digest": {"sha256": sha256(content)},
                "annotations": {
                    "api": decision.api,
                    "verdict": verdict.get("verdict"),
                    "meetsPolicy": decision.passes,
                    "blocking": list(decision.blocking),
                    "notes": list(decision.notes),
                },
            }
        )
        (failed if not decision.passes else warned if decision.notes else passed).append(name)
    result = "FAILED" if failed else "WARNED" if warned else "PASSED"
    policy_descriptor = {
        "name": policy.source,
        "digest": {"sha256": policy.sha256},
        "mediaType": "application/toml",
        "annotations": {"decidedOn": today.isoformat()},
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": TEST_RESULT,
        "predicate": {
            "result": result,
            "configuration": [policy_descriptor, suite_descriptor()],
            "passedTests": passed,
            "warnedTests": warned,
            "failedTests": failed,
        },
    }


def serialise(statement: Mapping[str, Any]) -> bytes:
    return json.dumps(statement, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_statement(payload: bytes) -> dict[str, Any]:
    """The statement in a verified payload, its shape checked (names and digests are what `verify` relies on)."""
    try:
        statement = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise StatementError("the signed payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise StatementError(f"the signed payload is not an in-toto Statement ({STATEMENT_TYPE})")
    subject = statement.get("subject")
    if not isinstance(subject, list) or not subject:
        raise StatementError("the statement has no subject")
    for entry in subject:
        digest = entry.get("digest") if isinstance(entry, dict) else None
        if not isinstance(digest, dict) or not isinstance(digest.get("sha256"), str):
            raise StatementError("a subject of the statement has no sha256 digest")
        if not isinstance(entry.get("name", ""), str) or not isinstance(entry.get("uri", ""), str):
            raise StatementError("a subject of the statement has a name or uri that is not a string")
    if not isinstance(statement.get("predicateType"), str):
        raise StatementError("the statement has no predicateType")
    return statement


def summary(statement: Mapping[str, Any]) -> str:
    """One line on what a verified statement says (its texts are the signer's: print them through `printable`)."""
    predicate = statement.get("predicate") if isinstance(statement.get("predicate"), dict) else {}
    kind = statement.get("predicateType")
    if kind != TEST_RESULT:
        return f"predicate {kind}"
    counts = ", ".join(
        f"{len(predicate.get(key) or [])} {label}"
        for key, label in (("passedTests", "passed"), ("warnedTests", "warned"), ("failedTests", "failed"))
    )
    options = next(
        (
            d.get("annotations", {})
            for d in predicate.get("configuration", [])
            if isinstance(d, dict) and d.get("name") == "options"
        ),
        None,
    )
    if isinstance(options, dict):
        what = f"{options.get('title')} {options.get('apiVersion')} ({options.get('party')})"
        target = next((s.get("uri") for s in statement["subject"] if s.get("name") == "target" and s.get("uri")), "")
        what += f" at {target}" if target else ""
    else:
        what = "release gate over " + ", ".join(str(s.get("name")) for s in statement["subject"])
    return f"test-result {predicate.get('result')}: {what}; {counts}"
