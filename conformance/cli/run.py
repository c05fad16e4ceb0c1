"""`conformance run API|all`: run a suite against a target and write the reports.

The run itself is a pytest session (in this process) with the conformance plugin; this module checks the
options, reaches the target once, hands pytest its arguments, scans the artefacts for secrets, and prints
the judge's verdict. Its exit code is the verdict's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..judge import Verdict, judge
from ..options import Plan, claimed_version, describe_options, plan
from ..profiles import PROFILES, Profile, get_profile
from ..report import attestation, certificate
from ..report import leaks as leak_scan
from ..report.bundle import KEY_ENV, write_bundle
from ..report.masking import Masker
from ..run import DEFAULT_DEADLINE, load_target_config, no_target_config_message
from ..target import Credentials, validate_base_url
from ..transport import DEFAULT_MAX_BODY, BoundedSession, Breakers, Limits, TransportFailure, probe
from .common import EXIT_SUITE_BUG, EXIT_USAGE, UsageError, printable, signing_key
from .progress import Progress
from .report_dir import clear_previous, exclusive
from .summary import print_summary
from .terminal import terminal_of

if TYPE_CHECKING:
    from ..report.keys import SigningKey

ARTEFACTS = ("html", "junit.xml", "json", "log")
MAX_CONCURRENCY = 16
# Seconds of this process's CPU one exchange costs (sending, masking, checking, recording), about: `auto` keeps one
# request in flight per this much of the target's latency, so that the suite judges while it waits.
CPU_PER_EXCHANGE = 0.005


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run a conformance suite and write the reports")
    run.add_argument("api", choices=[*sorted(PROFILES), "all"], help="the API to test, or all of them")
    run.add_argument("--base-url", help="the service under test (default: start the embedded reference service)")
    run.add_argument("--report-dir", default="reports", help="where to write the reports (default: reports)")
    run.add_argument("--max-examples", type=int, default=25, help="generated examples per operation (default 25)")
    run.add_argument("--seed", type=int, help="seed for reproducible generation (default: random, reported)")
    run.add_argument("--api-version", help="the API version the service claims (default: the spec's)")
    run.add_argument(
        "--target-config",
        help="TOML file with your declared options and test identities (`conformance init API FILE` writes the "
        "template); required with --base-url",
    )
    run.add_argument(
        "--reference-data",
        action="store_true",
        help="with --base-url and no --target-config: use the reference service's sample data, on purpose",
    )
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
        help="requests in flight at once, each test on a thread of this process (default auto: 1 for the embedded "
        "reference; for --base-url, sized from the latency of the first answers, one request per "
        f"{CPU_PER_EXCHANGE * 1000:g} ms of it, up to {MAX_CONCURRENCY}; 1 = one request at a time)",
    )
    run.add_argument(
        "--bundle",
        action="store_true",
        help="also write DIR/API-evidence.zip: reports, spec, target config, a manifest sealed with the shared HMAC "
        "key in CONFORMANCE_BUNDLE_KEY (legacy: it proves nothing to a third party; --attest does)",
    )
    run.add_argument(
        "--attest",
        metavar="KEY",
        help="sign the result with this Ed25519 private key (`conformance keygen`): DIR/API-evidence.zip then holds "
        "an in-toto attestation anyone can check with the public key, and DIR/API.certificate.html sums it up",
    )
    add_baseline_option(run)
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


def add_baseline_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="a previous verdict JSON, or a curated baseline (TOML/JSON: key, owner, reason, expires per finding): "
        "the reports mark each finding known or new, and show what changed",
    )


def check_baseline(args: argparse.Namespace, api: str) -> None:
    """A baseline that cannot be read, or is of another API, is a usage error before anything is sent."""
    if getattr(args, "baseline", None):
        from ..baseline import Baseline

        Baseline.load(args.baseline, api)
        args.baseline = str(Path(args.baseline).resolve())


def keep_previous(args: argparse.Namespace, verdict: Path, name: str) -> None:
    """A baseline that is the very verdict this run writes over (`--baseline reports/loyalty.json`): kept as
    NAME.previous.json next to it, and read from there. Any earlier rerun of that verdict goes with it."""
    if getattr(args, "baseline", None) and Path(args.baseline) == verdict.resolve():
        kept = verdict.with_name(f"{name}.previous.json")
        verdict.replace(kept)
        args.baseline = str(kept.resolve())
        print(f"conformance: the previous verdict is kept as {kept} and is this run's baseline")
    for stale in (f"{name}.rerun.json", f"{name}.rerun.html"):
        verdict.with_name(stale).unlink(missing_ok=True)
    shutil.rmtree(verdict.with_name(f"{name}-rerun-bodies"), ignore_errors=True)


def concurrency(args: argparse.Namespace, profile: Profile) -> int | None:
    """Threads for the run: what --concurrency asks, within what the suite allows (None: auto, sized once the
    target's latency is known)."""
    if args.concurrency == "auto":
        if profile.sequential_because or not args.base_url:  # the embedded reference is on this machine: CPU-bound
            return 1
        return None
    if not (args.concurrency.isdigit() and 1 <= int(args.concurrency) <= MAX_CONCURRENCY):
        raise UsageError(f"--concurrency must be auto or a whole number from 1 to {MAX_CONCURRENCY}")
    if int(args.concurrency) > 1 and profile.sequential_because:
        print(f"conformance: {profile.name} runs one request at a time: {profile.sequential_because}")
        return 1
    return int(args.concurrency)


def auto_concurrency(latency: float) -> int:
    """`--concurrency auto` for a target that answered in `latency` seconds: one request in flight per
    CPU_PER_EXCHANGE of it, so that this process judges answers while others travel. A service on this machine
    answers faster than an answer is judged: 1."""
    return max(1, min(MAX_CONCURRENCY, round(latency / CPU_PER_EXCHANGE)))


def check_options(args: argparse.Namespace, profile: Profile) -> None:
    args.threads = concurrency(args, profile)
    if args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    for name in ("timeout", "deadline"):
        value = getattr(args, name)
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"--{name} must be a positive number of seconds")
    if args.max_body < 1:
        raise UsageError("--max-body must be a positive number of bytes")
    if args.base_url:
        validate_base_url(args.base_url)
        if not args.target_config and not args.reference_data:  # never the reference's data by accident
            raise UsageError(no_target_config_message(profile))
    if args.reference_data and args.target_config:
        raise UsageError("--reference-data and --target-config exclude each other: give one")
    args.config = load_target_config(profile, args.target_config)  # fail now, with the file's own error
    args.version = claimed_version(profile, args.config, args.api_version)
    if args.bundle and not os.environ.get(KEY_ENV):
        raise UsageError(f"--bundle signs the evidence with the key in {KEY_ENV}: set it")
    args.signer = signing_key(args.attest) if args.attest else None
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
    check_baseline(args, profile.name)
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        probe_file = report_dir / f".{profile.name}.write-test"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to --report-dir {args.report_dir}: {exc.strerror}") from None


def reach(args: argparse.Namespace, profile: Profile) -> Credentials:
    """One authenticated request through the run's own HTTP layer, before anything else: exit 3 if it got no answer
    (an answer too large to read whole is an answer), within --timeout and --deadline."""
    return _reach(args, profile)[0]


def reach_timed(args: argparse.Namespace, profile: Profile) -> float | None:
    """`reach`, then the same request again on the connection it opened: the seconds that second answer took (the
    target's latency, without the connection's own handshakes). None when it did not come within a second more than
    the first took: the run then goes one request at a time, and the target was reached all the same."""
    return _reach(args, profile, timed=True)[1]


def _reach(args: argparse.Namespace, profile: Profile, *, timed: bool = False) -> tuple[Credentials, float | None]:
    base_url = validate_base_url(args.base_url)
    credentials = Credentials.from_env(*profile.credential_env)
    if credentials is None:
        raise UsageError(profile.missing_credentials_message(base_url))
    profile.check_credentials(credentials)
    seconds = getattr(args, "deadline", None) or DEFAULT_DEADLINE  # callers other than `run` may give none
    limits = Limits(timeout=args.timeout, max_body=args.max_body, deadline=time.monotonic() + seconds)
    session = BoundedSession(limits, Breakers(limits), verify=args.ca_bundle or True)
    auth = profile.auth_kwargs(credentials)
    session.auth = auth.get("auth")
    session.headers.update(auth.get("headers", {}))
    url = base_url + profile.probe_path
    with session:
        started = time.perf_counter()
        probe(session, url, ca_bundle_given=bool(args.ca_bundle))
        if not timed:
            return credentials, None
        limits.timeout = min(limits.timeout, time.perf_counter() - started + 1.0)
        started = time.perf_counter()
        try:
            probe(session, url, ca_bundle_given=bool(args.ca_bundle))
        except TransportFailure:
            return credentials, None
        return credentials, time.perf_counter() - started


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
    threads = getattr(args, "threads", None) or 1
    if threads > 1:  # modules stay whole on one thread (plugin.threads); contract items spread
        arguments += ["--conformance-concurrency", str(threads)]
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
        ("--conformance-baseline", args.baseline),
    ):
        if value is not None:
            arguments += [option, str(value)]
    if getattr(args, "reference_data", False):
        arguments.append("--conformance-reference-data")
    if args.seed is not None:
        arguments += ["--hypothesis-seed", str(args.seed)]
    for fault in args.fault:
        arguments += ["--conformance-fault", fault]
    return arguments


def announce(args: argparse.Namespace, profile: Profile) -> Plan:
    """Before any request: the options the verdict will hold for, and each rule this run cannot test, and why."""
    listener = bool(args.callback_listen) or not args.base_url  # the embedded sandbox posts to the suite itself
    the_plan = plan(profile, args.config, args.version, listener=listener)
    print(f"conformance: declared options: {printable(describe_options(the_plan.options))}")
    shortfalls = the_plan.shortfalls(profile.requirements)
    for line in [*shortfalls, *(f"note: {note}" for note in the_plan.notes)]:
        print(f"conformance: {printable(line)}")
    if shortfalls:
        print(f"conformance: the template names what a full certification needs: `conformance init {profile.name}`")
    sys.stdout.flush()
    return the_plan


def described(args: argparse.Namespace) -> str:
    """The run, as the lock of its report directory names it to another run."""
    where = f" --base-url {args.base_url}" if args.base_url else ""
    return f"conformance run {args.api}{where} (report dir {args.report_dir})"


def command(args: argparse.Namespace) -> int:
    if args.api == "all":
        return run_all(args)
    profile = get_profile(args.api)
    check_options(args, profile)
    report_dir = Path(args.report_dir)
    with exclusive(report_dir, described(args)):
        return run_one(args, profile, report_dir)


def run_one(args: argparse.Namespace, profile: Profile, report_dir: Path) -> int:
    terminal = terminal_of(args)
    terminal.use(_env_masker(profile))  # until the run's own masker exists
    started, started_at = time.perf_counter(), time.time()
    paths = {kind: report_dir / f"{profile.name}.{kind}" for kind in ARTEFACTS}
    bodies = report_dir / f"{profile.name}-bodies"  # whole bodies the reports show cut
    keep_previous(args, paths["json"], profile.name)  # before the clean-up: the baseline may be the last verdict
    clear_previous(report_dir, profile.name, ARTEFACTS)  # never leave a stale report that looks like this run's
    options = announce(args, profile).options
    sized = ""
    if args.base_url:
        try:
            if args.threads is None:
                latency = reach_timed(args, profile)
                args.threads = 1 if latency is None else auto_concurrency(latency)
                took = f"an answer took {latency * 1000:.0f} ms" if latency else "a second answer did not come in time"
                sized = f" (--concurrency auto: {took})"
            else:
                reach(args, profile)
        except TransportFailure as exc:  # the gate and CI read a verdict even when nothing could be tested
            from ..report import verdict_json

            spec = {"file": profile.spec_file, "version": profile.spec_version, "sha256": profile.spec_sha256}
            document = verdict_json.unreachable(
                profile.name, profile.spec["info"]["title"], validate_base_url(args.base_url), str(exc), spec, options
            )
            verdict_json.write(document, paths["json"])
            raise
    at_once = f", {args.threads} requests at a time" if args.threads > 1 else ", one request at a time" if sized else ""
    at_once += sized
    where = args.base_url or "the embedded reference service"
    print(f"conformance: testing {profile.name} at {where}{at_once} ...", flush=True)
    if args.callback_listen:
        scheme = "https" if args.callback_tls_cert else "http"
        expected = args.callback_public_url or f"{scheme}://{args.callback_listen}"
        print(f"conformance: expecting the host's callbacks at {expected} (the account's callback URL)", flush=True)

    from ..plugin import Outcome

    outcome = Outcome()
    outcome.terminal = terminal
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
        print(
            f"conformance: {outcome.broken or f'the suite did not finish (pytest exit {pytest_exit})'}; "
            f"see {paths['log']}",
            file=sys.stderr,
        )
        return EXIT_SUITE_BUG

    run = outcome.run
    secrets = [*masker.secrets, *run.target.config.secrets()]
    pairs = [run.target.credentials.as_tuple()] if profile.auth_headers is None else []
    key = os.environ[KEY_ENV] if args.bundle else None
    verdict = seal(
        outcome,
        profile,
        paths,
        bodies,
        secrets,
        pairs,
        bundle_key=key,
        target_text=run.target.config.text,
        transcript=terminal.transcript(),
        signer=args.signer,
    )
    print_summary(run, verdict, paths)
    say_attestation(args.signer, verdict, paths)
    return verdict.exit_code


def sealed_paths(report_dir: Path, name: str) -> list[Path]:
    """The files a sealed run adds beside its reports: the evidence bundle and the certificate page."""
    return [report_dir / f"{name}-evidence.zip", certificate.path_for(report_dir, name)]


def say_attestation(signer: SigningKey | None, verdict: Verdict, paths: dict[str, Path]) -> None:
    """After the summary: what was signed and how anyone checks it, or why nothing was."""
    if signer is None:
        return
    if verdict.verdict not in attestation.RESULTS:
        print(
            f"conformance: not attested: a run that ends {verdict.verdict} is no test result, so nothing was signed "
            "(the reports are written as usual; attest a run that passes or fails)"
        )
    elif "bundle" in paths and paths["bundle"].exists():
        print(f"  certificate: {paths['certificate']}; signed by key {signer.public.keyid}")
        public = printable(signer.source + ".pub")
        print(f"  anyone can check it with the public key: conformance verify {paths['bundle']} --public-key {public}")


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
    transcript: str = "",
    signer: SigningKey | None = None,
) -> Verdict:
    """The artefacts as they leave: side files no finding cites dropped, the certificate page written when the
    result is attested, every artefact and the terminal transcript scanned through every view for every secret
    (and each Basic pair in `pairs`), then the evidence bundle sealed (HMAC `bundle_key`) and/or attested
    (`signer`) and scanned in turn. A secret found withholds them all, and the verdict becomes an error."""
    run, verdict = outcome.run, outcome.verdict
    report_dir = paths["json"].parent
    _keep_only_cited(bodies, paths["json"])
    if signer is not None:
        document = json.loads(paths["json"].read_text(encoding="utf-8"))
        if attestation.result_of(document) is None:  # inconclusive or error: no test result to attest
            signer = None
        else:
            paths["certificate"] = certificate.write(report_dir, document, [signer.public])
    finder = leak_scan.finder(secrets, pairs)
    texts = [("the terminal output", transcript)] if transcript else []
    found = leak_scan.scan([*paths.values(), *sorted(bodies.glob("*"))], finder, texts=texts)
    if (bundle_key is not None or signer is not None) and not found:
        spec = (profile.spec_file, profile.spec_bytes)
        bundle = write_bundle(report_dir, profile.name, *spec, target_text, bundle_key, signer=signer)
        found += leak_scan.scan([bundle], finder)
        paths["bundle"] = bundle
    if found:
        verdict = judge(outcome.records, profile.requirements, replace(outcome.facts, leaks=tuple(found)))
        _withhold(report_dir, profile, paths, run, verdict, found, finder)
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
    report_dir: Path,
    profile: Profile,
    paths: dict[str, Path],
    run: object,
    verdict: object,
    found: list[str],
    finder: Masker,
) -> None:
    """A secret reached an artefact: none of them may be shared. Only a bare verdict JSON is left, itself scanned:
    if even that shows a secret, only the verdict and the names of the artefacts stay."""
    from ..report import verdict_json

    for path in [*paths.values(), *sealed_paths(report_dir, profile.name)]:
        path.unlink(missing_ok=True)
    shutil.rmtree(report_dir / f"{profile.name}-bodies", ignore_errors=True)
    document = verdict_json.build(run, verdict, leaks=found)  # type: ignore[arg-type]
    document["requirements"] = []  # findings quote exchanges: the bare verdict keeps none
    document["not_run"] = {}  # skip reasons may quote answers
    document.pop("baseline", None)  # nor the comparison with a baseline, which quotes findings
    verdict_json.write(document, paths["json"])
    if leak_scan.scan([paths["json"]], finder):
        bare = {key: document[key] for key in ("verdict", "exit_code", "api", "title", "suite_version", "leaks")}
        bare["reasons"] = ["a credential was found in the artefacts: they were withheld; please report this"]
        verdict_json.write(bare, paths["json"])
    print(
        f"conformance: BUG: a credential appears in {', '.join(found)}; the reports were withheld. Please report this.",
        file=sys.stderr,
    )


def run_all(args: argparse.Namespace) -> int:
    """Every suite on its embedded reference, each in a fresh interpreter (two at a time: the runs are CPU-bound
    and independent), then an index of this invocation's runs."""
    if args.base_url or args.fault or args.target_config or args.api_version or args.reference_data:
        raise UsageError("`run all` tests the embedded reference services; run one API to test your own service")
    if args.baseline:
        raise UsageError("--baseline is one API's: give it to `conformance run API`")
    if args.attest:
        signing_key(args.attest)  # a bad key fails here, once, not in each run
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write to --report-dir {args.report_dir}: {exc.strerror}") from None
    with exclusive(report_dir, described(args)):
        for api in PROFILES:  # an earlier run's report must never stand in for this one's
            clear_previous(report_dir, api, ARTEFACTS)
        return _run_each(args, report_dir)


def _run_each(args: argparse.Namespace, report_dir: Path) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from ..report.index import write_index

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
        if args.attest:
            command_line += ["--attest", args.attest]
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
