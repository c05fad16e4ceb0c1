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
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..profiles import CLIENT_PROFILES
from ..report.bundle import KEY_ENV
from ..run import DEFAULT_DEADLINE
from .common import EXIT_SUITE_BUG, UsageError, printable, signing_key
from .progress import Progress
from .report_dir import clear_previous, exclusive
from .run import (
    ARTEFACTS,
    _run_pytest,
    add_baseline_option,
    check_baseline,
    keep_previous,
    say_attestation,
    seal,
    suite_arguments,
)
from .summary import print_summary
from .terminal import terminal_of

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
    certify.add_argument(
        "--attest",
        metavar="KEY",
        help="sign the result with this Ed25519 private key (`conformance keygen`): DIR/API-client-evidence.zip "
        "then holds an in-toto attestation anyone can check with the public key, and a certificate page",
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
    args.signer = signing_key(args.attest) if args.attest else None
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
    host, port = check_options(args)
    report_dir = Path(args.report_dir)
    with exclusive(report_dir, f"conformance certify-client {args.api} (report dir {args.report_dir})"):
        return _certify(args, host, port, report_dir)


def _certify(args: argparse.Namespace, host: str, port: int, report_dir: Path) -> int:
    from ..client.session import Certification, CertifyOptions
    from ..plugin import Outcome

    terminal = terminal_of(args)
    profile = CLIENT_PROFILES[args.api]
    started, started_at = time.perf_counter(), time.time()
    paths = {kind: report_dir / f"{profile.name}.{kind}" for kind in ARTEFACTS}
    paths["journal"] = report_dir / f"{profile.name}.journal.jsonl"
    bodies = report_dir / f"{profile.name}-bodies"
    keep_previous(args, paths["json"], profile.name)  # before the clean-up: the baseline may be the last verdict
    clear_previous(report_dir, profile.name, (*ARTEFACTS, "journal.jsonl"))  # nothing stale looks like this run's

    options = CertifyOptions(
        args.api, paths["journal"], host, port, args.tls, args.client_command, args.step_timeout, args.deadline
    )
    certification = Certification.create(options, sys.stdout)
    terminal.use(certification.masker)
    try:
        try:
            certification.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.listen}: {exc.strerror}") from None
        _announce(certification, profile.spec["info"]["title"], terminal.shown)
        certification.run_steps()
        if certification.server is not None:
            certification.server.stop()  # the journal is complete: nothing more may come in while it is judged
        print("\nconformance: judging the journal ...", flush=True)
        outcome = Outcome()
        outcome.certification = certification
        outcome.terminal = terminal
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
                f"conformance: {outcome.broken or f'the suite did not finish (pytest exit {pytest_exit})'}; "
                f"see {paths['log']}",
                file=sys.stderr,
            )
            return EXIT_SUITE_BUG
        secrets = list(masker.secrets)
        login = certification.scenario.credentials[0]
        pairs = [(login, secret) for secret in secrets] if args.api == "push" else []  # Basic tokens of each
        key = os.environ[KEY_ENV] if args.bundle else None
        verdict = seal(
            outcome,
            profile,
            paths,
            bodies,
            secrets,
            pairs,
            bundle_key=key,
            target_text="",
            transcript=terminal.transcript(),
            signer=args.signer,
        )
        _print_steps(certification)
        print_summary(outcome.run, verdict, paths)
        say_attestation(args.signer, verdict, paths)
        if paths["journal"].exists():
            print(f"  journal of every exchange: {paths['journal']}")
        return verdict.exit_code
    finally:
        certification.stop()


def _announce(certification: Certification, title: str, out: TextIO) -> None:
    """What the person at the terminal needs, the minted credentials included: shown as it is, never kept."""

    def say(text: str) -> None:
        print(text, file=out)

    env = certification.client_env
    scenario = certification.scenario
    say(f"conformance: certifying a client of the {title}")
    say(f"  sandbox: {certification.base_url}")
    if env["CONFORMANCE_CA_BUNDLE"]:
        say(f"  CA file: {env['CONFORMANCE_CA_BUNDLE']}")
    say("  credentials minted for this session (throw-away; never written to the reports):")
    for name in scenario.env_names:
        say(f"    {name}={env[name]}")
    for name, value in scenario.context.items():
        say(f"    {name}={value}")
    if certification.options.client_command:
        say(f"  client command, run once per step: {printable(certification.options.client_command)}")
    else:
        say(
            "  follow each step with your client; a step ends when its request arrives, on Enter, or on "
            f"POST {certification.base_url}{CONTROL}/next"
        )
    say("  checklist:")
    for number, step in enumerate(scenario.steps, 1):
        say(f"    {number}. [{step.id}] {step.instruction}")
    out.flush()


def _print_steps(certification: Certification) -> None:
    done = ", ".join(f"{result.id} {result.status}" for result in certification.results)
    print(f"conformance: steps: {done}" + (f" ({certification.ended})" if certification.ended else ""))
