"""`conformance rerun REPORT.json [--times N]`: try each failing finding of a report again, and say whether it is
reproducible, fixed or flaky (see `conformance.rerun`).

The target is the report's (an embedded reference is started again with the same faulty variants), or
`--base-url`. Credentials come from the environment, as for `conformance run`. The rerun writes its own report
next to the original (`API.rerun.json`, `API.rerun.html`), linked to it, and never touches the original. A rerun
is a developer's loop: the verdict of a full run is what certifies.

Exit 0: every finding is fixed. 1: a finding is reproducible or flaky. 2: usage (a file that is not a report,
a client's report). 3: the target is unreachable. 4: nothing reproduced, but something could not be judged or
replayed. 5: a credential reached the rerun's report (it is withheld).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..profiles import PROFILES, get_profile
from ..report import leaks as leak_scan
from ..rerun import (
    CLASSES,
    FIXED,
    FLAKY,
    NO_ANSWER,
    NOT_JUDGED,
    NOT_REPLAYABLE,
    NOT_REPRODUCED,
    REPRODUCED,
    REPRODUCIBLE,
    Attempt,
    ExchangeReplayer,
    Finding,
    classify,
    is_suite_test_id,
    plan,
)
from ..run import DEFAULT_DEADLINE, RunOptions, start
from ..target import Credentials
from ..transport import DEFAULT_MAX_BODY
from .common import EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_SUITE_BUG, UsageError, printable
from .gate import read_verdict
from .run import _env_masker, pytest_arguments, reach
from .terminal import terminal_of

MAX_TIMES = 20
NOTE = "A rerun tries again only what failed; the verdict of a full run is what certifies."


def add_parser(commands: argparse._SubParsersAction) -> None:
    rerun = commands.add_parser(
        "rerun", help="try each failing finding of a report again: reproducible, fixed or flaky (exit 0: all fixed)"
    )
    rerun.add_argument("report", help="a verdict JSON written by `conformance run`")
    rerun.add_argument("--times", type=int, default=3, help=f"attempts per finding (default 3, at most {MAX_TIMES})")
    rerun.add_argument("--base-url", help="where the service is now (default: the report's target)")
    rerun.add_argument("--ca-bundle", help="PEM file of the CA that signed the service's certificate")
    rerun.add_argument("--target-config", help="the run's target config, when the report's is not at its path")
    rerun.add_argument("--timeout", type=float, default=10.0, help="seconds for each answer, headers and body (10)")
    rerun.add_argument(
        "--deadline", type=float, default=DEFAULT_DEADLINE, help=f"seconds for the whole rerun ({DEFAULT_DEADLINE:g})"
    )
    rerun.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest answer body read, in bytes")
    rerun.add_argument("--report-dir", help="where the rerun's report goes (default: next to REPORT)")


def _check(args: argparse.Namespace, report: dict[str, Any]) -> None:
    if report.get("party") == "client":
        raise UsageError("a client certification is tried again by running `conformance certify-client` again")
    if not report.get("requirements"):
        raise UsageError(f"{args.report} holds no findings (a run that reached nothing, or withheld reports)")
    if report.get("api") not in PROFILES:
        raise UsageError(f"{args.report} is a verdict of {report.get('api')!r}, which this suite does not know")
    if not 1 <= args.times <= MAX_TIMES:
        raise UsageError(f"--times must be a whole number from 1 to {MAX_TIMES}")
    for name in ("timeout", "deadline"):
        value = getattr(args, name)
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"--{name} must be a positive number of seconds")
    if args.max_body < 1:
        raise UsageError("--max-body must be a positive number of bytes")
    if args.ca_bundle and not Path(args.ca_bundle).is_file():
        raise UsageError(f"--ca-bundle {args.ca_bundle} is not a file")
    if not report.get("target", {}).get("base_url") and not args.base_url:
        raise UsageError(f"{args.report} names no target: give --base-url")


def _target_config(args: argparse.Namespace, report: dict[str, Any]) -> str | None:
    """The run's target config: --target-config, else the file the report names, else the default."""
    if args.target_config:
        return str(args.target_config)
    source = str(report.get("target_config", {}).get("source") or "")
    if not source or source.startswith("default ("):
        return None
    if not Path(source).is_file():
        raise UsageError(f"the report's target config {source} is not here: give --target-config")
    return source


def command(args: argparse.Namespace) -> int:
    report_path = Path(args.report)
    report = read_verdict(args.report)
    _check(args, report)
    profile = get_profile(report["api"])
    terminal_of(args).use(_env_masker(profile))  # what the rerun prints is masked like a run's
    started, started_at = time.perf_counter(), time.time()
    ends = time.monotonic() + args.deadline
    findings = plan(report)
    if not findings:
        print(f"conformance rerun: {args.report} has no failing finding: nothing to try again")
        return EXIT_PASS
    report_dir = Path(args.report_dir) if args.report_dir else report_path.parent
    paths = {kind: report_dir / f"{profile.name}.rerun.{kind}" for kind in ("json", "html")}
    bodies = report_dir / f"{profile.name}-rerun-bodies"
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write to {report_dir}: {exc.strerror}") from None
    for path in paths.values():
        path.unlink(missing_ok=True)  # never leave an earlier rerun that looks like this one
    shutil.rmtree(bodies, ignore_errors=True)
    options = _options(args, report, profile, bodies)
    if options.base_url is not None:  # one authenticated request first: exit 3 when the target is unreachable
        limits = {
            "ca_bundle": args.ca_bundle,
            "timeout": args.timeout,
            "max_body": args.max_body,
            "deadline": args.deadline,
        }
        reach(argparse.Namespace(base_url=options.base_url, **limits), profile)
    where = options.base_url or "the embedded reference service" + "".join(f", {f}" for f in options.faults)
    print(f"conformance rerun: {len(findings)} finding(s) of {args.report}, {args.times} time(s) each, at {where}")
    secrets: set[str] = set()
    by_check = [finding for finding in findings if not finding.by_test]
    results, target = _replay_all(by_check, options, str(report["target"].get("base_url") or ""), args.times, secrets)
    by_test = [finding for finding in findings if finding.by_test]
    if by_test:
        results.update(_rerun_tests(by_test, options, profile, args.times, ends, secrets))
    document = _document(report, report_path, report_dir, findings, results, args.times, target, started, started_at)
    _write(document, paths)
    pairs = [Credentials.from_env(*profile.credential_env)] if profile.auth_headers is None else []
    finder = leak_scan.finder(secrets, [pair.as_tuple() for pair in pairs if pair is not None])
    terminal = terminal_of(args)
    texts = [("the terminal output", terminal.transcript())]
    found = leak_scan.scan([*paths.values(), *sorted(bodies.glob("*"))], finder, texts=texts)
    if found:  # none of it may be shared
        for path in paths.values():
            path.unlink(missing_ok=True)
        shutil.rmtree(bodies, ignore_errors=True)
        print(
            f"conformance rerun: BUG: a credential appears in {', '.join(found)}; the report was withheld.",
            file=sys.stderr,
        )
        return EXIT_SUITE_BUG
    _print(document, paths)
    return document["exit_code"]


def _options(args: argparse.Namespace, report: dict[str, Any], profile: Any, bodies: Path) -> RunOptions:
    """The run the findings are tried again in: the report's target (an embedded reference started again with the
    same faulty variants) or --base-url, its API version, target config and seed, the rerun's own bounds."""
    target = report["target"]
    embedded = bool(target.get("embedded_reference")) and not args.base_url
    target_config = _target_config(args, report)
    return RunOptions(
        api=profile.name,
        base_url=None if embedded else (args.base_url or target["base_url"]),
        target_config=target_config,
        reference_data=target_config is None,  # the report's run used the reference's sample data: so does this
        api_version=report.get("api_version"),
        max_examples=int(report.get("max_examples") or 25),
        seed=report.get("seed"),
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
        deadline=args.deadline,
        max_body=args.max_body,
        faults=tuple(target.get("faulty_variants", [])) if embedded else (),
        artefacts=str(bodies),
    )


def _replay_all(
    findings: list[Finding], options: RunOptions, old_base: str, times: int, secrets: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each check's finding replayed `times` times through one run (its target, HTTP layer, recorder and bridge):
    (the results by key, the target as the rerun reached it). The run's secrets are added to `secrets`."""
    from ..plugin import schemathesis_bridge

    results: dict[str, dict[str, Any]] = {}
    run = start(options)
    try:
        schemathesis_bridge.install(run)
        replayer = ExchangeReplayer(run, old_base)
        try:
            for finding in findings:
                results[finding.key] = _replay(replayer, finding, times)
        finally:
            replayer.close()
        secrets.update(run.masker.secrets, run.target.config.secrets())
        target = {
            "base_url": run.target.base_url,
            "embedded_reference": run.target.embedded,
            "faulty_variants": list(options.faults),
        }
    finally:
        run.stop()
    return results, target


def _replay(replayer: ExchangeReplayer, finding: Finding, times: int) -> dict[str, Any]:
    request = replayer.replayable(finding)
    if isinstance(request, str):
        return {"how": "exchange replayed", "classification": NOT_REPLAYABLE, "why": request, "attempts": []}
    attempts = [
        replayer.attempt(finding, request, f"rerun {finding.key} attempt {number}") for number in range(1, times + 1)
    ]
    return _result("exchange replayed", attempts)


def _result(how: str, attempts: list[Attempt]) -> dict[str, Any]:
    outcomes = [attempt.outcome for attempt in attempts]
    return {
        "how": how,
        "classification": classify(outcomes),
        "reproduced": outcomes.count(REPRODUCED),
        "attempts": [attempt.as_dict(number) for number, attempt in enumerate(attempts, 1)],
    }


def _rerun_tests(
    findings: list[Finding], options: RunOptions, profile: Any, times: int, ends: float, secrets: set[str]
) -> dict[str, dict[str, Any]]:
    """A test's own finding: the tests behind them run again, all of them in one session per attempt, each session
    within what is left of the rerun's deadline (`ends`, monotonic)."""
    results: dict[str, dict[str, Any]] = {}
    nodes: list[str] = []
    for finding in findings:
        test = finding.parts.get("test", "")
        if is_suite_test_id(test):
            nodes.append(test)
        else:
            why = "the report does not name the test by a suite's test id"
            results[finding.key] = {
                "how": "test run again",
                "classification": NOT_REPLAYABLE,
                "why": why,
                "attempts": [],
            }
    nodes = list(dict.fromkeys(nodes))
    sessions = []
    for _ in range(times if nodes else 0):
        left = ends - time.monotonic()
        sessions.append(_session(nodes, replace(options, deadline=left), profile, secrets) if left > 0 else None)
    for finding in findings:
        if finding.key not in results:
            results[finding.key] = _result("test run again", [_judge_session(finding, verdict) for verdict in sessions])
    return results


def _session(nodes: list[str], options: RunOptions, profile: Any, secrets: set[str]) -> dict[str, Any] | None:
    """One pytest session of the given tests against the rerun's target: its verdict document (None: no verdict).
    The session's secrets (its credentials, keys the service handed out) are added to `secrets`."""
    from ..plugin import Outcome
    from .progress import Progress
    from .run import _run_pytest

    with tempfile.TemporaryDirectory(prefix="conformance-rerun-") as scratch:
        paths = {kind: Path(scratch) / f"{profile.name}.{kind}" for kind in ("json", "html", "junit.xml")}
        namespace = argparse.Namespace(
            max_examples=options.max_examples,
            timeout=options.timeout,
            deadline=options.deadline,
            max_body=options.max_body,
            workers=1,
            base_url=options.base_url,
            seed=options.seed,
            api_version=options.api_version,
            target_config=options.target_config,
            reference_data=options.reference_data and options.base_url is not None,
            ca_bundle=options.ca_bundle,
            callback_listen=None,
            callback_tls_cert=None,
            callback_tls_key=None,
            callback_public_url=None,
            baseline=None,
            fault=list(options.faults),
        )
        suites = resources.files("conformance.suites")
        selected = [str(suites.joinpath(node.split("::", 1)[0])) + "::" + node.split("::", 1)[1] for node in nodes]
        arguments = pytest_arguments(namespace, profile, paths)
        arguments[:1] = selected  # the tests themselves, instead of the whole suite's directory
        arguments += ["--conformance-artefacts", str(Path(scratch) / "bodies")]
        outcome = Outcome()
        with contextlib.redirect_stderr(io.StringIO()):
            _run_pytest(arguments, outcome, Progress(io.StringIO(), time.perf_counter()))
        if outcome.run is not None:
            secrets.update(outcome.run.masker.secrets, outcome.run.target.config.secrets())
        try:
            return json.loads(paths["json"].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def _judge_session(finding: Finding, verdict: dict[str, Any] | None) -> Attempt:
    if verdict is None:
        return Attempt(NOT_JUDGED, "the tests did not finish (a suite that changed, or a test that no longer exists)")
    test = finding.parts.get("test", "")
    requirement = next((r for r in verdict.get("requirements", []) if r["id"] == finding.requirement), None)
    if requirement is None:
        return Attempt(NOT_JUDGED, f"{finding.requirement} is not in this suite's catalogue")
    found = [
        {"key": f["key"], "requirement": requirement["id"], "title": f.get("title", ""), "status": f["status"]}
        for f in requirement.get("findings", [])
        if test in f.get("tests", []) and f.get("status") in ("fail", "error", "warn")
    ]
    same = next((f for f in requirement.get("findings", []) if f.get("key") == finding.key), None)
    if same is not None:
        return Attempt(REPRODUCED, "", None, found, same.get("exchange"))
    if test in requirement.get("examined_by", []):
        return Attempt(NOT_REPRODUCED, "", None, found)
    why = verdict.get("not_run", {}).get(test) or (found[0]["title"] if found else "the test did not run")
    return Attempt(NOT_JUDGED, str(why), None, found)


def _document(
    report: dict[str, Any],
    report_path: Path,
    report_dir: Path,
    findings: list[Finding],
    results: dict[str, dict[str, Any]],
    times: int,
    target: dict[str, Any],
    started: float,
    started_at: float,
) -> dict[str, Any]:
    entries = []
    for finding in findings:
        entries.append(
            {
                "key": finding.key,
                "requirement": finding.requirement,
                "key_parts": finding.parts,
                "title": finding.title,
                "status_in_report": finding.status,
                **results[finding.key],
            }
        )
    counts = {name: sum(1 for entry in entries if entry["classification"] == name) for name in CLASSES}
    if counts[REPRODUCIBLE] or counts[FLAKY]:
        exit_code = EXIT_FAIL
    elif counts[FIXED] == len(entries):
        exit_code = EXIT_PASS
    else:
        exit_code = EXIT_INCONCLUSIVE
    original = report_path.resolve()
    return {
        "rerun_of": {
            "report": str(original),
            "html": os.path.relpath(original.with_suffix(".html"), report_dir.resolve()),  # the page links to it
            "sha256": hashlib.sha256(original.read_bytes()).hexdigest(),
            "verdict": report.get("verdict"),
            "started": report.get("started"),
            "seed": report.get("seed"),
        },
        "api": report.get("api"),
        "title": report.get("title"),
        "suite_version": __version__,
        "target": target,
        "times": times,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at)),
        "duration_seconds": round(time.perf_counter() - started, 1),
        "counts": counts,
        "exit_code": exit_code,
        "note": NOTE,
        "findings": entries,
    }


def _write(document: dict[str, Any], paths: dict[str, Path]) -> None:
    from ..report.html import rerun_html

    paths["json"].write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    paths["html"].write_text(rerun_html(document), encoding="utf-8")


def _print(document: dict[str, Any], paths: dict[str, Path]) -> None:
    for entry in document["findings"]:
        attempts = entry.get("attempts", [])
        tally = f"{entry.get('reproduced', 0)}/{len(attempts)} reproduced" if attempts else entry.get("why", "")
        where = entry["key_parts"].get("test") or entry["key_parts"].get("operation") or ""
        line = f"  {entry['classification'].upper():<15} {entry['requirement']:<10} {entry['key']}  {where}: "
        print(printable(line + f"{entry['title'][:100]} ({tally})"))
        for attempt in attempts:
            if attempt["outcome"] in (NO_ANSWER, NOT_JUDGED) or attempt["note"]:
                print(printable(f"        attempt {attempt['attempt']}: {attempt['outcome']} {attempt['note']}"))
    counts = ", ".join(f"{n} {name}" for name, n in document["counts"].items() if n)
    print(f"conformance rerun: {counts}. {NOTE}")
    print(f"  report: {paths['html']}, {paths['json']} (of {document['rerun_of']['report']})")
