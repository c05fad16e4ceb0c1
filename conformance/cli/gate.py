"""`conformance gate REPORTS... [--policy FILE] [--attest KEY]`: does each verdict meet the release policy; with
--attest, a signed in-toto attestation of the decision over the verdict files it read."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..gate import Decision, Policy, decide
from .common import EXIT_FAIL, EXIT_PASS, UsageError, printable, signing_key

if TYPE_CHECKING:
    from ..report.keys import SigningKey

DEFAULT_ATTESTATION = "gate.intoto.json"


def add_parser(commands: argparse._SubParsersAction) -> None:
    gate = commands.add_parser("gate", help="decide whether verdicts meet a release policy (exit 0 if all do)")
    gate.add_argument("reports", nargs="+", help="verdict JSON files written by `conformance run`")
    gate.add_argument("--policy", help="policy TOML: allow_warnings, allow_inconclusive, [[waivers]], ...")
    gate.add_argument(
        "--attest",
        metavar="KEY",
        help="sign the decision with this Ed25519 private key (`conformance keygen`): an in-toto attestation "
        "listing the verdict files read, by sha256, and whether each meets the policy",
    )
    gate.add_argument(
        "--attestation",
        default=DEFAULT_ATTESTATION,
        metavar="FILE",
        help=f"where --attest writes it (default {DEFAULT_ATTESTATION}; the verdicts are named relative to it)",
    )


def _read(path: str) -> tuple[bytes, dict]:
    try:
        content = Path(path).read_bytes()
        verdict = json.loads(content.decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        content, verdict = b"", None
    if not isinstance(verdict, dict) or not {"api", "verdict", "requirements"} <= verdict.keys():
        raise UsageError(f"{path} is not a verdict written by `conformance run`")
    return content, verdict


def read_verdict(path: str) -> dict:
    """A verdict JSON written by `conformance run` (a UsageError, exit 2, for anything else)."""
    return _read(path)[1]


def command(args: argparse.Namespace) -> int:
    signer = signing_key(args.attest) if args.attest else None
    if signer is not None and not Path(args.attestation).resolve().parent.is_dir():
        raise UsageError(f"--attestation {args.attestation}: its folder does not exist")
    policy = Policy.load(args.policy)
    today = dt.date.today()
    read = [(report, *_read(report)) for report in args.reports]  # each file read once: decided on as signed
    decisions = [decide(verdict, policy, today) for _, _, verdict in read]
    for report, decision in zip(args.reports, decisions, strict=True):
        state = "meets the policy" if decision.passes else "BLOCKED"
        print(printable(f"{report} ({decision.api}): {state} ({policy.source})"))
        for line in decision.blocking:  # findings' titles and reasons quote what a target sent
            print(printable(f"  blocks: {line}"))
        for line in decision.notes:
            print(printable(f"  note: {line}"))
    if signer is not None:
        _attest(args.attestation, [(name, content) for name, content, _ in read], decisions, policy, today, signer)
    return EXIT_PASS if all(decision.passes for decision in decisions) else EXIT_FAIL


def _attest(
    out: str,
    read: list[tuple[str, bytes]],
    decisions: list[Decision],
    policy: Policy,
    today: dt.date,
    signer: SigningKey,
) -> None:
    from ..report import attestation, dsse

    target = Path(out)
    folder = target.parent.resolve()
    named = [
        (Path(os.path.relpath(Path(name).resolve(), folder)).as_posix(), content, decision)
        for (name, content), decision in zip(read, decisions, strict=True)
    ]
    statement = attestation.gate_statement(named, policy, today)
    envelope = dsse.sign(attestation.serialise(statement), signer)
    try:
        target.write_bytes(envelope.to_json())
    except OSError as exc:
        raise UsageError(f"cannot write the attestation {out}: {exc.strerror}") from None
    result = statement["predicate"]["result"]
    public = printable(signer.source + ".pub")
    print(f"attestation of this decision ({result}): {printable(out)}, signed by key {signer.public.keyid}")
    print(f"  anyone can check it with the public key: conformance verify {printable(out)} --public-key {public}")
