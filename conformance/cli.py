"""The `conformance` command: run a suite, serve a reference service. Thin: it builds a pytest run and maps
its outcome to an exit code; what is tested lives in the suites and the plugin."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from .profiles import PROFILES, Profile, get_profile
from .report.bundle import KEY_ENV, verify_bundle, write_bundle
from .target import ConfigurationError, Credentials, TargetConfig, validate_base_url
from .transport import TransportFailure, probe

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_TRANSPORT, EXIT_INCONCLUSIVE, EXIT_SUITE_BUG = 0, 1, 2, 3, 4, 5


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a conformance suite and write the reports")
    run.add_argument("api", choices=[*sorted(PROFILES), "all"], help="the API to test, or all of them")
    run.add_argument("--base-url", help="the service under test (default: start the embedded reference service)")
    run.add_argument("--report-dir", default="reports", help="where to write the reports (default: reports)")
    run.add_argument("--max-examples", type=int, default=25, help="generated examples per operation (default 25)")
    run.add_argument("--seed", type=int, help="seed for reproducible generation (default: random, reported)")
    run.add_argument("--api-version", help="the API version the service claims (default: the spec's)")
    run.add_argument("--target-config", help="TOML file with your test identities (default: the reference data)")
    run.add_argument("--ca-bundle", help="PEM file of the CA that signed the service's certificate")
    run.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer (default 10)")
    run.add_argument(
        "--bundle",
        action="store_true",
        help="also write DIR/API-evidence.zip: reports, spec, target config, signed manifest "
        "(the HMAC key comes from CONFORMANCE_BUNDLE_KEY)",
    )
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        help="turn on a faulty variant of the embedded reference service, to see what the suite reports "
        "(repeatable; see `conformance serve API --list-faults`)",
    )

    verify = commands.add_parser("verify", help="check an evidence bundle: says which file was changed")
    verify.add_argument("bundle", help="an API-evidence.zip written by `conformance run --bundle`")

    gate = commands.add_parser("gate", help="decide whether verdicts meet a release policy (exit 0 if all do)")
    gate.add_argument("reports", nargs="+", help="verdict JSON files written by `conformance run`")
    gate.add_argument("--policy", help="policy TOML: allow_warnings, allow_inconclusive, [[waivers]]")

    serve = commands.add_parser("serve", help="run a reference service (a sandbox) on 127.0.0.1")
    serve.add_argument("api", choices=sorted(PROFILES))
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its file is printed)")
    serve.add_argument("--fault", action="append", default=[], help="turn on a faulty variant (repeatable)")
    serve.add_argument("--list-faults", action="store_true", help="list the faulty variants and exit")
    serve.add_argument(
        "--callback-url",
        help="push only: the account's Push Callback URL, where delivery statuses are POSTed (credentials from "
        "CONFORMANCE_CALLBACK_USERNAME / CONFORMANCE_CALLBACK_PASSWORD)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits 2 on a usage error
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "gate":
            return command_gate(args)
        if args.command == "verify":
            return command_verify(args)
        return command_serve(args)
    except (UsageError, ConfigurationError) as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TransportFailure as exc:
        print(f"conformance: target unreachable: {exc}", file=sys.stderr)
        return EXIT_TRANSPORT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): nothing left to say
        sys.stderr.close()
        return 141
    except Exception as exc:  # a bug in the suite: say so in one line, keep the traceback in a file
        import tempfile
        import traceback

        with tempfile.NamedTemporaryFile("w", prefix="conformance-crash-", suffix=".txt", delete=False) as crash:
            traceback.print_exc(file=crash)
        print(f"conformance: internal error ({type(exc).__name__}); details in {crash.name}", file=sys.stderr)
        return EXIT_SUITE_BUG


def _check_run_options(args: argparse.Namespace) -> None:
    if args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.target_config:
        TargetConfig.from_path(args.target_config)  # fail now, with the file's own error
    if args.bundle and not os.environ.get(KEY_ENV):
        raise UsageError(f"--bundle signs the evidence with the key in {KEY_ENV}: set it")
    if args.ca_bundle and not Path(args.ca_bundle).is_file():
        raise UsageError(f"--ca-bundle {args.ca_bundle} is not a file")
    profile = get_profile(args.api)
    if args.fault and args.base_url:
        raise UsageError("--fault turns on a faulty variant of the embedded reference service; leave out --base-url")
    unknown = set(args.fault) - set(profile.faults())
    if unknown:
        raise UsageError(
            f"unknown fault(s) {', '.join(sorted(unknown))}; see `conformance serve {profile.name} --list-faults`"
        )
    if args.api_version and args.api_version not in profile.api_versions:
        raise UsageError(f"--api-version must be one of {', '.join(profile.api_versions)}")
    try:
        Path(args.report_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --report-dir {args.report_dir}: {exc.strerror}") from None


def command_run_all(args: argparse.Namespace) -> int:
    """Every suite on its embedded default, one fresh interpreter each, then an index page linking the reports."""
    import subprocess

    if args.base_url or args.fault or args.target_config or args.api_version:
        raise UsageError("`run all` tests the embedded reference services; run one API to test your own service")
    from .report.index import write_index

    codes: dict[str, int] = {}
    for api in sorted(PROFILES):
        command = [
            sys.executable,
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
        ]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        codes[api] = subprocess.run(command).returncode
    index = write_index(Path(args.report_dir), sorted(PROFILES), codes)
    print(f"conformance: index of all runs: {index}")
    # The most serious outcome wins: a suite bug, then usage, then transport, then non-conformance.
    for code in (EXIT_SUITE_BUG, EXIT_USAGE, EXIT_TRANSPORT, EXIT_FAIL, EXIT_INCONCLUSIVE):
        if code in codes.values():
            return code
    return EXIT_PASS if all(code == EXIT_PASS for code in codes.values()) else EXIT_SUITE_BUG


def command_run(args: argparse.Namespace) -> int:
    if args.api == "all":
        return command_run_all(args)
    _check_run_options(args)
    profile = get_profile(args.api)
    if args.base_url:
        base_url = validate_base_url(args.base_url)
        credentials = Credentials.from_env(*profile.credential_env)
        if credentials is None:
            raise UsageError(
                f"set {profile.credential_env[0]} and {profile.credential_env[1]} "
                f"to the credentials Koshelek uses at {base_url}"
            )
        probe(
            base_url + profile.probe_path,
            **profile.auth_kwargs(credentials),
            verify=args.ca_bundle or True,
            timeout=args.timeout,
        )

    report_dir = Path(args.report_dir)
    paths = {kind: report_dir / f"{profile.name}.{kind}" for kind in ("html", "junit.xml", "json", "log")}
    for path in [*paths.values(), report_dir / f"{profile.name}-evidence.zip"]:
        path.unlink(missing_ok=True)  # never leave a stale report that looks like this run's
    pytest_args = [
        str(resources.files(profile.suite)),
        "-c",
        str(resources.files("conformance.suites").joinpath("pytest.ini")),
        "--rootdir",
        str(resources.files("conformance.suites")),
        "-p",
        "conformance.plugin",
        "--conformance-api",
        profile.name,
        "--conformance-max-examples",
        str(args.max_examples),
        "--conformance-timeout",
        str(args.timeout),
        "--conformance-verdict",
        str(paths["json"]),
        "--html",
        str(paths["html"]),
        "--self-contained-html",
        "--css",
        str(resources.files("conformance.report").joinpath("report.css")),
        "--junitxml",
        str(paths["junit.xml"]),
        "--tb=short",
        "-q",
    ]
    for option, value in (
        ("--conformance-base-url", args.base_url),
        ("--conformance-seed", args.seed),
        ("--conformance-api-version", args.api_version),
        ("--conformance-target-config", args.target_config),
        ("--conformance-ca-bundle", args.ca_bundle),
    ):
        if value is not None:
            pytest_args += [option, str(value)]
    if args.seed is not None:
        pytest_args += ["--hypothesis-seed", str(args.seed)]
    for fault in args.fault:
        pytest_args += ["--conformance-fault", fault]

    started = time.perf_counter()
    print(f"conformance: testing {profile.name} at {args.base_url or 'the embedded reference service'} ...")
    exit_code = _run_pytest(pytest_args, paths["log"])
    verdict = _read_verdict(paths["json"])
    if verdict is None:
        tail = paths["log"].read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        if exit_code == 4:  # pytest's usage error: the plugin refused the options
            raise UsageError("; ".join(line.removeprefix("ERROR: ") for line in tail if line.strip()))
        print(f"conformance: the suite did not finish (pytest exit {exit_code}); see {paths['log']}", file=sys.stderr)
        return EXIT_SUITE_BUG
    config = TargetConfig.from_path(args.target_config) if args.target_config else None
    leaks = _scan_for_secrets(report_dir, profile, config.secrets() if config else [])
    if args.bundle:
        spec_text = profile.spec_bytes
        target_text = (
            Path(args.target_config).read_text("utf-8") if args.target_config else profile.default_target_config()
        )
        bundle = write_bundle(report_dir, profile.name, profile.spec_file, spec_text, target_text, os.environ[KEY_ENV])
        leaks += _scan_bundle_for_secrets(bundle, profile, config.secrets() if config else [])
        paths["bundle"] = bundle
    _print_summary(verdict, paths, time.perf_counter() - started)
    if leaks:
        print(
            f"conformance: BUG: a credential appears in {', '.join(leaks)}; the reports were not masked. "
            "Do not share them; please report this.",
            file=sys.stderr,
        )
        return EXIT_SUITE_BUG
    if verdict["transport_errors"]:
        return EXIT_TRANSPORT
    return {"pass": EXIT_PASS, "inconclusive": EXIT_INCONCLUSIVE}.get(verdict["verdict"], EXIT_FAIL)


def _run_pytest(pytest_args: list[str], log_path: Path) -> int:
    """Run pytest in-process with its terminal output going to the log file, not the user's screen."""
    import pytest

    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        return int(pytest.main(pytest_args))


def _read_verdict(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _secret_needles(profile: Profile, extra: list[str] | None = None) -> list[bytes]:
    """The byte strings no artefact may contain: the credentials (raw and in Basic form) and target-config secrets."""
    import base64

    first, second = (os.environ.get(var) for var in profile.credential_env)
    needles = [secret.encode() for secret in extra or []]
    if second:  # else the embedded reference used a random secret that never left the process
        needles += [second.encode(), base64.b64encode(f"{first}:{second}".encode())]
        if profile.auth_headers is not None and first:  # both values are secrets when they ride in headers
            needles.append(first.encode())
    return [needle for needle in needles if len(needle) >= 3]


def _scan_for_secrets(report_dir: Path, profile: Profile, extra: list[str] | None = None) -> list[str]:
    """Every artefact of the run is searched for the secrets before it is handed over."""
    needles = _secret_needles(profile, extra)
    return [
        path.name
        for path in sorted(report_dir.glob(f"{profile.name}.*"))
        if any(needle in path.read_bytes() for needle in needles)
    ]


def _scan_bundle_for_secrets(bundle: Path, profile: Profile, extra: list[str] | None = None) -> list[str]:
    """The bundle's members, unpacked, go through the same scan as the reports."""
    import zipfile

    needles = _secret_needles(profile, extra)
    with zipfile.ZipFile(bundle) as archive:
        return [
            f"{bundle.name}:{name}"
            for name in archive.namelist()
            if any(needle in archive.read(name) for needle in needles)
        ]


def _printable(text: str) -> str:
    """Control characters from generated data would garble a terminal: show them escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _print_summary(verdict: dict[str, Any], paths: dict[str, Path], seconds: float) -> None:
    counts = verdict["counts"]
    print(
        f"conformance: verdict {verdict['verdict'].upper()} for {verdict['title']} {verdict['api_version']} "
        f"at {verdict['target']['base_url']}"
    )
    if verdict["verdict"] == "inconclusive":
        for reason in verdict["reasons"]:
            print(f"  INCONCLUSIVE: {reason}")
    unsure = f", {counts['inconclusive']} inconclusive" if counts.get("inconclusive") else ""
    print(
        f"  requirements: {counts['pass']} pass, {counts['fail']} fail, {counts['warn']} warn, "
        f"{counts['not-tested']} not tested{unsure}; {verdict['generated_cases']} requests in {seconds:.1f} s; "
        f"seed {verdict['seed']}"
    )
    for requirement in verdict["requirements"]:
        if requirement["status"] in ("fail", "warn"):
            failure = requirement["first_failure"] or {}
            detail = failure.get("title") or "; ".join(requirement["warnings"]) or ""
            print(f"  {requirement['status'].upper():4} {requirement['id']}: {requirement['rule']}")
            if detail:
                print(f"       {_printable(detail)}")
            if failure.get("exchange"):
                print(f"       reproduce: {_printable(failure['exchange']['curl'])}")
    for error in verdict["transport_errors"][:3]:
        print(f"  TRANSPORT {error}")
    print(f"  reports: {paths['html']}, {paths['junit.xml']}, {paths['json']} (log: {paths['log']})")
    if "bundle" in paths:
        print(f"  evidence bundle: {paths['bundle']} (check it with `conformance verify`)")


def command_verify(args: argparse.Namespace) -> int:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise UsageError(f"set {KEY_ENV} to the key the bundle was signed with")
    problems = verify_bundle(Path(args.bundle), key)
    if not problems:
        print(f"{args.bundle}: intact: every file matches the signed manifest")
        return EXIT_PASS
    print(f"{args.bundle}: NOT intact")
    for problem in problems:
        print(f"  {problem}")
    return EXIT_FAIL


def command_gate(args: argparse.Namespace) -> int:
    import datetime as dt

    from .gate import Policy, decide

    policy = Policy.load(args.policy)
    decisions = []
    for report in args.reports:
        verdict = _read_verdict(Path(report))
        if verdict is None or "requirements" not in verdict:
            raise UsageError(f"{report} is not a verdict written by `conformance run`")
        decisions.append(decide(verdict, policy, dt.date.today()))
    for decision in decisions:
        print(f"{decision.api}: {'meets the policy' if decision.passes else 'BLOCKED'} ({policy.source})")
        for line in decision.blocking:
            print(f"  blocks: {line}")
        for line in decision.notes:
            print(f"  note: {line}")
    return EXIT_PASS if all(decision.passes for decision in decisions) else EXIT_FAIL


def command_serve(args: argparse.Namespace) -> int:
    from conformance.fixtures.server import serve

    profile = get_profile(args.api)
    if args.list_faults:
        for fault in profile.faults().values():
            print(f"{fault.name:28} breaks {fault.breaks}: {fault.summary}")
        return EXIT_PASS
    unknown = set(args.fault) - set(profile.faults())
    if unknown:
        raise UsageError(f"unknown fault(s) {', '.join(sorted(unknown))}; see --list-faults")
    credentials = Credentials.from_env(*profile.credential_env) or Credentials("koshelek", "sandbox")
    options = {}
    if args.callback_url:
        if profile.name != "push":
            raise UsageError("--callback-url applies to `serve push` only")
        callback = Credentials.from_env("CONFORMANCE_CALLBACK_USERNAME", "CONFORMANCE_CALLBACK_PASSWORD")
        options = {
            "callback_url": validate_base_url(args.callback_url),
            "callback_credentials": (callback or Credentials("koshelek", "sandbox")).as_tuple(),
        }
    app = profile.reference_app(credentials.as_tuple(), tuple(args.fault), **options)
    server = serve(app, port=args.port, tls=args.tls)
    print(f"{profile.spec['info']['title']} reference service at {server.base_url}")
    print(
        f"  Basic credentials: {credentials.username} / (the value of {profile.credential_env[1]}, "
        f"or 'sandbox' when unset)"
    )
    if server.ca_bundle:
        print(f"  CA certificate: {server.ca_bundle}")
    if args.fault:
        print(f"  faulty variant: {', '.join(args.fault)}")
    if args.callback_url:
        print(f"  delivery statuses are POSTed to {options['callback_url']}/push/callback")
    print("  Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return EXIT_PASS
