"""`conformance verify EVIDENCE [--public-key PUB ...]`: is the evidence intact, who signed it, and which file
changed if any. EVIDENCE is an evidence bundle (API-evidence.zip) or an attestation of its own (the release gate's
gate.intoto.json). Without --public-key, an old bundle sealed with the shared HMAC key is checked with that key."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..report import attestation
from ..report.bundle import ENVELOPE, KEY_ENV, UnreadableBundle, read_members, verify_bundle
from ..report.keys import load_public
from ..report.verification import Checked, check
from .common import EXIT_FAIL, EXIT_PASS, UsageError, printable


def add_parser(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser(
        "verify", help="check signed evidence with public keys: who signed it, and which file was changed"
    )
    verify.add_argument(
        "evidence", help="an API-evidence.zip (`run|certify-client --attest`) or gate.intoto.json (`gate --attest`)"
    )
    verify.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="PUB",
        help="the public key of a party that must have signed it (repeatable: the partner, the reviewer, ...)",
    )


def report(checked: Checked) -> None:
    """What `verify` and `countersign` say about one piece of evidence."""
    name = printable(str(checked.path))
    if checked.intact:
        what = "every file matches the signed statement"
        print(f"{name}: intact and signed by every key given: {what}")
    else:
        print(f"{name}: NOT intact" if checked.signed_by else f"{name}: NOT signed by the keys given")
    for key in checked.signed_by:
        print(f"  signed by {printable(key.source)} (key id {key.keyid})")
    for key in checked.not_signed_by:
        print(f"  not signed by {printable(key.source)} (key id {key.keyid}): no signature verifies with it")
    for keyid in checked.other_keyids:
        print(f"  also signed by a key not given (key id hint {printable(keyid)}): not checked")
    if checked.signed_by:
        for problem in checked.problems:
            print(f"  {printable(problem)}")
        if checked.statement is not None:
            print(f"  statement: {printable(attestation.summary(checked.statement))}")
    elif checked.problems:  # nothing authentic to compare the files with: only what stopped the check
        for problem in checked.problems[:1]:
            print(f"  {printable(problem)}")


def command(args: argparse.Namespace) -> int:
    path = Path(args.evidence)
    if args.public_key:
        keys = [load_public(key) for key in args.public_key]
        try:
            checked = check(path, keys)
        except UnreadableBundle as exc:
            raise UsageError(str(exc)) from None
        report(checked)
        return EXIT_PASS if checked.intact else EXIT_FAIL
    return _legacy(path)


def _legacy(path: Path) -> int:
    """An old bundle, sealed with the shared HMAC key."""
    key = os.environ.get(KEY_ENV)
    try:
        seals = read_members(path).seals
    except UnreadableBundle as exc:
        raise UsageError(str(exc)) from None
    if ENVELOPE in seals and "manifest.json" not in seals:
        raise UsageError(f"{path} is signed with Ed25519 keys: check it with --public-key and the signer's public key")
    if not key:
        raise UsageError(f"give --public-key and the signer's public key (for an HMAC-sealed bundle: set {KEY_ENV})")
    problems = verify_bundle(path, key)
    shown = printable(str(path))
    if problems:
        print(f"{shown}: NOT intact")
        for problem in problems:
            print(f"  {printable(problem)}")
        return EXIT_FAIL
    print(f"{shown}: intact: every file matches the manifest sealed with {KEY_ENV}")
    print(
        f"  note: this proves nothing to a third party: whoever holds {KEY_ENV} can also seal a forged bundle. "
        "Signed evidence (`--attest KEY`, checked with `--public-key`) can be checked by anyone."
    )
    return EXIT_PASS
