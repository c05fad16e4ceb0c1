"""`conformance run API|all`: run a suite against a target and write the reports.

The run itself is a pytest session (in this process) with the conformance plugin; this module checks the
options, reaches the target once, hands pytest its arguments, scans the artefacts for secrets, and prints
the judge's verdict. Its exit code is the verdict's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..judge import Verdict, judge
from ..profiles import PROFILES, Profile, get_profile
from ..report import leaks as leak_scan
from ..report.bundle import KEY_ENV, write_bundle
from ..report.masking import Masker
from ..run import DEFAULT_DEADLINE
from ..target import Credentials, TargetConfig, validate_base_url
from ..transport import DEFAULT_MAX_BODY, BoundedSession, Breakers, Limits, TransportFailure, probe
from .common import EXIT_SUITE_BUG, EXIT_USAGE, UsageError, printable
from .progress import Progress
from .summary import print_summary

ARTEFACTS = ("html", "junit.xml", "json", "log")
REMOTE_CONCURRENCY = 4  # a distant service's answers mostly wait on the network: overlap a few
MAX_CONCURRENCY = 16
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run a conformance suite and write the reports")
    run.add_argument("api", choices=[*sorted(PROFILES), "all"], help="the API to test, or all of them")
    run.add_argument("--base-url", help="the service under test (default: start the embedded reference service)")
    run.add_argument("--report-dir", default="reports", help="where to write the reports (default: reports)")
    run.add_argument("--max-examples", type=int, default=25, help="generated examples per operation (default 25)")
    run.add_argument("--seed", type=int, help="seed for reproducible generation (default: random, reported)")
    run.add_argument("--api-version", help="the API version the service claims (default: the spec's)")
    run.add_argument("--target-config", help="TOML file with your test identities (default: the reference data)")
    run.add_argument("--ca-bundle", help="PEM file of the CA that signed the service's certificate")
    run.add_argument("--timeout", type=float, default=10.0, help="seconds for each answer, headers and body (10)")
    run.add_argument(
        "--deadline", type=float, default=DEFAULT_DEADLINE, help=f"seconds for the whole run ({DEFAULT_DEADLINE:g})"
    )
    run.add_argument(
        "--max-body",
        type=int,
        default=DEFAULT_MAX_BODY,
        help=f"largest answer body read, in bytes ({DEFAULT_MAX_BODY})",
    )
    run.add_argument(
        "--concurrency",
        default="auto",
        help="requests in flight at once, one worker process each (default auto: 1 for the embedded reference "
        f"and services on this machine, {REMOTE_CONCURRENCY} for any other; 1 = one request at a time)",
    )
    run.add_argument(
        "--bundle",
        action="store_true",
        help="also write DIR/API-evidence.zip: reports, spec, target config, signed manifest "
        "(the HMAC key comes from CONFORMANCE_BUNDLE_KEY)",
    )
    callbacks = run.add_argument_group("callbacks (push: a host that posts delivery statuses)")
    callbacks.add_argument(
        "--callback-listen",
        metavar="HOST:PORT",
        help="listen for the host's callbacks here during the run (plain HTTP unless a certificate is given); "
        "credentials from CONFORMANCE_CALLBACK_USERNAME / CONFORMANCE_CALLBACK_PASSWORD when set",
    )
    callbacks.add_argument("--callback-tls-cert", metavar="FILE", help="certificate (PEM) to listen with over HTTPS")
    callbacks.add_argument("--callback-tls-key", metavar="FILE", help="its private key (PEM)")
    callbacks.add_argument(
        "--callback-public-url",
        metavar="URL",
        help="the URL the host posts to, when it is not the listen address (NAT, a tunnel); the report states it",
    )
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        help="turn on a faulty variant of the embedded reference service, to see what the suite reports "
        "(repeatable; see `conformance serve API --list-faults`)",
    )


def concurrency(args: argparse.Namespace, profile: Profile) -> int:
    """Worker processes for the run: what --concurrency asks, within what the suite allows."""
    if args.concurrency == "auto":
        try:
            host = urlsplit(args.base_url).hostname if args.base_url else None
        except ValueError:  # a malformed URL: the run's own URL check names what is wrong with it
            host = None
        wanted = 1 if host is None or host in LOOPBACK else REMOTE_CONCURRENCY
    elif args.concurrency.isdigit() and 1 <= int(args.concurrency) <= MAX_CONCURRENCY:
        wanted = int(args.concurrency)
    else:
        raise UsageError(f"--concurrency must be auto or a whole number from 1 to {MAX_CONCURRENCY}")
    if wanted > 1 and profile.sequential_because:
        if args.concurrency != "auto":
            print(f"conformance: {profile.name} runs one request at a time: {profile.sequential_because}")
        return 1
    return wanted


def check_options(args: argparse.Namespace, profile: Profile) -> None:
    args.workers = concurrency(args, profile)
    if args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    for name in ("timeout", "deadline"):
        value = getattr(args, name)
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"--{name} must be a positive number of seconds")
    if args.max_body < 1:
        raise UsageError("--max-body must be a positive number of bytes")
    if args.target_config:
        TargetConfig.from_path(args.target_config, profile.target_settings)  # fail now, with the file's own error
    if args.bundle and not os.environ.get(KEY_ENV):
        raise UsageError(f"--bundle signs the evidence with the key in {KEY_ENV}: set it")
    if args.ca_bundle and not Path(args.ca_bundle).is_file():
        raise UsageError(f"--ca-bundle {args.ca_bundle} is not a file")
    if args.fault and args.base_url:
        raise UsageError("--fault turns on a faulty variant of the embedded reference service; leave out --base-url")
    unknown = set(args.fault) - set(profile.faults())
    if unknown:
        raise UsageError(
            f"unknown fault(s) {', '.join(sorted(unknown))}; see `conformance serve {profile.name} --list-faults`"
        )
    if (args.callback_listen or args.callback_public_url) and not profile.receives_callbacks:
        raise UsageError(f"--callback-listen applies to an API whose host posts callbacks (push), not {profile.name}")
    if args.callback_listen and not args.base_url:
        raise UsageError("--callback-listen is for a host given with --base-url (the embedded sandbox uses its own)")
    if args.callback_public_url and not args.callback_listen:
        raise UsageError("--callback-public-url names where --callback-listen is reached from: give both")
    for option in ("callback_tls_cert", "callback_tls_key"):
        value = getattr(args, option)
        if value and not Path(value).is_file():
            raise UsageError(f"--{option.replace('_', '-')} {value} is not a file")
    if args.api_version and args.api_version not in profile.api_versions:
        raise UsageError(f"--api-version must be one of {', '.join(profile.api_versions)}")
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        probe_file = report_dir / f".{profile.name}.write-test"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to --report-dir {args.report_dir}: {exc.strerror}") from None


def reach(args: argparse.Namespace, profile: Profile) -> Credentials:
    """One authenticated request through the run's own HTTP layer, before anything else: exit 3 if it fails."""
    base_url = validate_base_url(args.base_url)
    credentials = Credentials.from_env(*profile.credential_env)
    if credentials is None:
        raise UsageError(profile.missing_credentials_message(base_url))
    profile.check_credentials(credentials)
    limits = Limits(timeout=args.timeout, max_body=args.max_body)
    session = BoundedSession(limits, Breakers(limits), verify=args.ca_bundle or True)
    auth = profile.auth_kwargs(credentials)
    session.auth = auth.get("auth")
    session.headers.update(auth.get("headers", {}))
    with session:
        probe(session, base_url + profile.probe_path, ca_bundle_given=bool(args.ca_bundle))
    return credentials


def suite_arguments(profile: Profile, paths: dict[str, Path]) -> list[str]:
    """What every conformance pytest session gets: the profile's suite under the suites' own pytest.ini and the
    plugin, and where the verdict and the HTML and JUnit reports go."""
    return [
        str(resources.files(profile.suite)),
        "-c",
        str(resources.files("conformance.suites").joinpath("pytest.ini")),
        "--rootdir",
        str(resources.files("conformance.suites")),
        "-p",
        "conformance.plugin",
        "-p",
        "no:locust",  # Locust's pytest plugin (installed with `[load]`) has no business in a conformance run
        "--conformance-api",
        profile.name,
        "--conformance-verdict",
        str(paths["json"]),
        "--html",
        str(paths["html"]),
        "--self-contained-html",
        "--css",
        str(resources.files("conformance.report").joinpath("report.css")),
        "--junitxml",
        str(paths["junit.xml"]),
        "--tb=native",  # the log keeps tracebacks; pytest's own formatting parses every frame's source (seconds)
        "-q",
    ]


def pytest_arguments(args: argparse.Namespace, profile: Profile, paths: dict[str, Path]) -> list[str]:
    arguments = [
        *suite_arguments(profile, paths),
        "--conformance-max-examples",
        str(args.max_examples),
        "--conformance-timeout",
        str(args.timeout),
        "--conformance-deadline",
        str(args.deadline),
        "--conformance-max-body",
        str(args.max_body),
    ]
    workers = getattr(args, "workers", 1)
    if workers > 1:  # modules stay whole on one worker (the plugin groups them); contract items spread
        arguments += ["-n", str(workers), "--dist", "loadgroup", "--no-loadscope-reorder"]
    for option, value in (
        ("--conformance-base-url", args.base_url),
        ("--conformance-seed", args.seed),
        ("--conformance-api-version", args.api_version),
        ("--conformance-target-config", args.target_config),
        ("--conformance-ca-bundle", args.ca_bundle),
        ("--conformance-callback-listen", args.callback_listen),
        ("--conformance-callback-tls-cert", args.callback_tls_cert),
        ("--conformance-callback-tls-key", args.callback_tls_key),
        ("--conformance-callback-public-url", args.callback_public_url),
    ):
        if value is not None:
            arguments += [option, str(value)]
    if args.seed is not None:
        arguments += ["--hypothesis-seed", str(args.seed)]
    for fault in args.fault:
        arguments += ["--conformance-fault", fault]
    return arguments


def command(args: argparse.Namespace) -> int:
    if args.api == "all":
        return run_all(args)
    profile = get_profile(args.api)
    check_options(args, profile)
    started, started_at = time.perf_counter(), time.time()
    report_dir = Path(args.report_dir)
    paths = {kind: report_dir / f"{profile.name}.{kind}" for kind in ARTEFACTS}
    bodies = report_dir / f"{profile.name}-bodies"  # whole bodies the reports show cut
    for path in [*paths.values(), report_dir / f"{profile.name}-evidence.zip"]:
        path.unlink(missing_ok=True)  # never leave a stale report that looks like this run's
    shutil.rmtree(bodies, ignore_errors=True)
    if args.base_url:
        try:
            reach(args, profile)
        except TransportFailure as exc:  # the gate and CI read a verdict even when nothing could be tested
            from ..report import verdict_json

            spec = {"file": profile.spec_file, "version": profile.spec_version, "sha256": profile.spec_sha256}
            document = verdict_json.unreachable(
                profile.name, profile.spec["info"]["title"], validate_base_url(args.base_url), str(exc), spec
            )
            verdict_json.write(document, paths["json"])
            raise
    workers = f" on {args.workers} workers" if args.workers > 1 else ""
    where = args.base_url or "the embedded reference service"
    print(f"conformance: testing {profile.name} at {where}{workers} ...", flush=True)
    if args.callback_listen:
        scheme = "https" if args.callback_tls_cert else "http"
        expected = args.callback_public_url or f"{scheme}://{args.callback_listen}"
        print(f"conformance: expecting the host's callbacks at {expected} (the account's callback URL)", flush=True)

    from ..plugin import Outcome

    outcome = Outcome()
    arguments = [
        *pytest_arguments(args, profile, paths),
        *("--conformance-artefacts", str(bodies), "--conformance-started", repr(started_at)),
    ]
    pytest_exit, output = _run_pytest(arguments, outcome, Progress(sys.stdout, started))
    masker = outcome.run.masker if outcome.run is not None else _env_masker(profile)
    paths["log"].write_text(printable(masker.text(output)), encoding="utf-8")
    if outcome.verdict is None or outcome.run is None:
        tail = [line for line in printable(masker.text(output)).strip().splitlines() if line.strip()][-5:]
        if pytest_exit == 4:  # pytest's usage error: the plugin refused the options
            raise UsageError("; ".join(line.removeprefix("ERROR: ") for line in tail))
        print(f"conformance: the suite did not finish (pytest exit {pytest_exit}); see {paths['log']}", file=sys.stderr)
        return EXIT_SUITE_BUG

    run = outcome.run
    secrets = [*masker.secrets, *run.target.config.secrets()]
    pairs = [run.target.credentials.as_tuple()] if profile.auth_headers is None else []
    key = os.environ[KEY_ENV] if args.bundle else None
    verdict = seal(outcome, profile, paths, bodies, secrets, pairs, bundle_key=key, target_text=run.target.config.text)
    print_summary(run, verdict, paths)
    return verdict.exit_code


def seal(
    outcome: Any,
    profile: Profile,
    paths: dict[str, Path],
    bodies: Path,
    secrets: list[str],
    pairs: list[tuple[str, str]],
    *,
    bundle_key: str | None,
    target_text: str,
) -> Verdict:
    """The artefacts as they leave: side files no finding cites dropped, every artefact scanned for every form of
    every secret (and of each Basic pair in `pairs`), the evidence bundle signed when a key is given. A secret
    found withholds them all, and the verdict becomes an error."""
    run, verdict = outcome.run, outcome.verdict
    report_dir = paths["json"].parent
    _keep_only_cited(bodies, paths["json"])
    needles = leak_scan.needles(secrets, pairs)
    found = leak_scan.scan([*paths.values(), *sorted(bodies.glob("*"))], needles)
    if bundle_key is not None and not found:
        bundle = write_bundle(report_dir, profile.name, profile.spec_file, profile.spec_bytes, target_text, bundle_key)
        found += leak_scan.scan([bundle], needles)
        paths["bundle"] = bundle
    if found:
        verdict = judge(outcome.records, profile.requirements, replace(outcome.facts, leaks=tuple(found)))
        _withhold(report_dir, profile, paths, run, verdict, found)
    return verdict


def _run_pytest(arguments: list[str], outcome: object, progress: Progress) -> tuple[int, str]:
    """Run pytest in-process; its terminal output is kept (to be masked into the log), the progress shown."""
    import pytest

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = int(pytest.main(arguments, plugins=[outcome, progress]))
    return code, buffer.getvalue()


def _keep_only_cited(bodies: Path, verdict: Path) -> None:
    """Side files of bodies no finding cites are not evidence: they go (the verdict names the ones that stay)."""
    if not bodies.is_dir():
        return
    cited = verdict.read_text(encoding="utf-8") if verdict.exists() else ""
    for path in bodies.iterdir():
        if str(path.resolve()) not in cited:
            path.unlink()
    if not any(bodies.iterdir()):
        bodies.rmdir()


def _env_masker(profile: Profile) -> Masker:
    credentials = Credentials.from_env(*profile.credential_env)
    return Masker.for_credentials(credentials, basic=profile.auth_headers is None) if credentials else Masker()


def _withhold(
    report_dir: Path, profile: Profile, paths: dict[str, Path], run: object, verdict: object, found: list[str]
) -> None:
    """A secret reached an artefact: none of them may be shared. Only a bare verdict JSON is left."""
    from ..report import verdict_json

    for path in [*paths.values(), report_dir / f"{profile.name}-evidence.zip"]:
        path.unlink(missing_ok=True)
    shutil.rmtree(report_dir / f"{profile.name}-bodies", ignore_errors=True)
    document = verdict_json.build(run, verdict, leaks=found)  # type: ignore[arg-type]
    document["requirements"] = []  # findings quote exchanges: the bare verdict keeps none
    verdict_json.write(document, paths["json"])
    print(
        f"conformance: BUG: a credential appears in {', '.join(found)}; the reports were withheld. Please report this.",
        file=sys.stderr,
    )


def run_all(args: argparse.Namespace) -> int:
    """Every suite on its embedded reference, each in a fresh interpreter (two at a time: the runs are CPU-bound
    and independent), then an index of this invocation's runs."""
    if args.base_url or args.fault or args.target_config or args.api_version:
        raise UsageError("`run all` tests the embedded reference services; run one API to test your own service")
    from concurrent.futures import ThreadPoolExecutor

    from ..report.index import write_index

    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "index.html").unlink(missing_ok=True)
    for api in PROFILES:
        for kind in ARTEFACTS:  # an earlier run's report must never stand in for this one's
            (report_dir / f"{api}.{kind}").unlink(missing_ok=True)
        (report_dir / f"{api}-evidence.zip").unlink(missing_ok=True)

    def one(api: str) -> tuple[int, str]:
        # -P: the current directory (say, a checkout of this repository) must not shadow the installed package.
        command_line = [
            sys.executable,
            "-P",
            "-m",
            "conformance",
            "run",
            api,
            "--report-dir",
            args.report_dir,
            "--max-examples",
            str(args.max_examples),
            "--timeout",
            str(args.timeout),
            "--deadline",
            str(args.deadline),
            "--max-body",
            str(args.max_body),
        ]
        if args.seed is not None:
            command_line += ["--seed", str(args.seed)]
        if args.bundle:
            command_line.append("--bundle")
        done = subprocess.run(command_line, capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr

    codes: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for api, (code, output) in zip(sorted(PROFILES), pool.map(one, sorted(PROFILES)), strict=True):
            codes[api] = code
            print(output, end="", flush=True)
    index = write_index(report_dir, sorted(PROFILES), codes)
    print(f"conformance: index of all runs: {index}")
    # The most serious outcome wins: a suite bug, then usage, then transport, then non-conformance.
    for code in (EXIT_SUITE_BUG, EXIT_USAGE, 3, 1, 4):
        if code in codes.values():
            return code
    return 0 if all(code == 0 for code in codes.values()) else EXIT_SUITE_BUG
