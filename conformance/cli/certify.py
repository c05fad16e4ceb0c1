"""`conformance certify-client push|imbee`: certify a partner's client of an API in its sandbox.

Two phases. First the sandbox listens behind the recording layer and the steps are walked: the partner's client
runs once per step (`--client-command`), or a person follows the checklist by hand. Every exchange is judged as it
arrives and written to the journal. Then the client suite judges the journal in a pytest session with the
conformance plugin, and the one judge gives the verdict: the same reports, exit codes and gate as `conformance run`.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..profiles import CLIENT_PROFILES
from ..report.bundle import KEY_ENV
from ..run import DEFAULT_DEADLINE
from .common import EXIT_SUITE_BUG, UsageError, printable
from .progress import Progress
from .run import ARTEFACTS, _run_pytest, add_baseline_option, check_baseline, keep_previous, seal, suite_arguments
from .summary import print_summary

if TYPE_CHECKING:
    from ..client.session import Certification

CONTROL = "/_certify"


def add_parser(commands: argparse._SubParsersAction) -> None:
    certify = commands.add_parser(
        "certify-client",
        help="certify a partner's client of an API: the sandbox judges every request the client sends",
    )
    certify.add_argument("api", choices=sorted(CLIENT_PROFILES), help="the API the client calls")
    certify.add_argument(
        "--listen", default="127.0.0.1:0", metavar="HOST:PORT", help="where the sandbox listens (127.0.0.1:0: any port)"
    )
    certify.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its file is printed)")
    certify.add_argument(
        "--client-command",
        help="run this client once per step, with the base URL, CA file, credentials and CONFORMANCE_STEP in its "
        "environment (default: a person follows the checklist)",
    )
    certify.add_argument(
        "--step-timeout", type=float, default=300.0, help="seconds a step may take (300); the step then ends"
    )
    certify.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE,
        help=f"seconds for the whole certification ({DEFAULT_DEADLINE:g})",
    )
    certify.add_argument("--report-dir", default="reports", help="where to write the reports (default: reports)")
    certify.add_argument(
        "--bundle",
        action="store_true",
        help=f"also write DIR/API-client-evidence.zip, signed with the key in {KEY_ENV}",
    )
    add_baseline_option(certify)


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen {value!r} is not HOST:PORT, e.g. 127.0.0.1:8443")
    return host.strip("[]"), int(port)


def check_options(args: argparse.Namespace) -> tuple[str, int]:
    for name in ("step_timeout", "deadline"):
        value = getattr(args, name)
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive number of seconds")
    if args.bundle and not os.environ.get(KEY_ENV):
        raise UsageError(f"--bundle signs the evidence with the key in {KEY_ENV}: set it")
    if args.client_command is not None and not args.client_command.strip():
        raise UsageError("--client-command is empty")
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write to --report-dir {args.report_dir}: {exc.strerror}") from None
    check_baseline(args, CLIENT_PROFILES[args.api].name)
    return _listen(args.listen)


def command(args: argparse.Namespace) -> int:
    from ..client.session import Certification, CertifyOptions
    from ..plugin import Outcome

    host, port = check_options(args)
    profile = CLIENT_PROFILES[args.api]
    started, started_at = time.perf_counter(), time.time()
    report_dir = Path(args.report_dir)
    paths = {kind: report_dir / f"{profile.name}.{kind}" for kind in ARTEFACTS}
    paths["journal"] = report_dir / f"{profile.name}.journal.jsonl"
    bodies = report_dir / f"{profile.name}-bodies"
    keep_previous(args, paths["json"], profile.name)
    for path in [*paths.values(), report_dir / f"{profile.name}-evidence.zip"]:
        path.unlink(missing_ok=True)  # never leave a stale report that looks like this run's
    shutil.rmtree(bodies, ignore_errors=True)

    options = CertifyOptions(
        args.api, paths["journal"], host, port, args.tls, args.client_command, args.step_timeout, args.deadline
    )
    certification = Certification.create(options, sys.stdout)
    try:
        try:
            certification.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.listen}: {exc.strerror}") from None
        _announce(certification, profile.spec["info"]["title"])
        certification.run_steps()
        if certification.server is not None:
            certification.server.stop()  # the journal is complete: nothing more may come in while it is judged
        print("\nconformance: judging the journal ...", flush=True)
        outcome = Outcome()
        outcome.certification = certification
        arguments = [
            *suite_arguments(profile, paths),
            *("--conformance-artefacts", str(bodies), "--conformance-started", repr(started_at)),
            *(("--conformance-baseline", args.baseline) if args.baseline else ()),
        ]
        pytest_exit, output = _run_pytest(arguments, outcome, Progress(sys.stdout, started))
        masker = certification.masker
        paths["log"].write_text(printable(masker.text(output)), encoding="utf-8")
        if outcome.verdict is None or outcome.run is None:
            print(
                f"conformance: the suite did not finish (pytest exit {pytest_exit}); see {paths['log']}",
                file=sys.stderr,
            )
            return EXIT_SUITE_BUG
        secrets = list(masker.secrets)
        login = certification.scenario.credentials[0]
        pairs = [(login, secret) for secret in secrets] if args.api == "push" else []  # Basic tokens of each
        key = os.environ[KEY_ENV] if args.bundle else None
        verdict = seal(outcome, profile, paths, bodies, secrets, pairs, bundle_key=key, target_text="")
        _print_steps(certification)
        print_summary(outcome.run, verdict, paths)
        if paths["journal"].exists():
            print(f"  journal of every exchange: {paths['journal']}")
        return verdict.exit_code
    finally:
        certification.stop()


def _announce(certification: Certification, title: str) -> None:
    env = certification.client_env
    scenario = certification.scenario
    print(f"conformance: certifying a client of the {title}")
    print(f"  sandbox: {certification.base_url}")
    if env["CONFORMANCE_CA_BUNDLE"]:
        print(f"  CA file: {env['CONFORMANCE_CA_BUNDLE']}")
    print("  credentials minted for this session (throw-away; never written to the reports):")
    for name in scenario.env_names:
        print(f"    {name}={env[name]}")
    for name, value in scenario.context.items():
        print(f"    {name}={value}")
    if certification.options.client_command:
        print(f"  client command, run once per step: {printable(certification.options.client_command)}")
    else:
        print(
            "  follow each step with your client; a step ends when its request arrives, on Enter, or on "
            f"POST {certification.base_url}{CONTROL}/next"
        )
    print("  checklist:")
    for number, step in enumerate(scenario.steps, 1):
        print(f"    {number}. [{step.id}] {step.instruction}")
    sys.stdout.flush()


def _print_steps(certification: Certification) -> None:
    done = ", ".join(f"{result.id} {result.status}" for result in certification.results)
    print(f"conformance: steps: {done}" + (f" ({certification.ended})" if certification.ended else ""))
