"""`conformance countersign EVIDENCE --key KEY [--public-key PUB ...]`: add a signature to signed evidence, after
checking it, e.g. Koshelek's reviewer signing a partner's certification once it has been reviewed."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..report.keys import load_public
from ..report.verification import UnreadableBundle, check, countersign
from .common import EXIT_FAIL, EXIT_PASS, UsageError, printable, signing_key


def add_parser(commands: argparse._SubParsersAction) -> None:
    sign = commands.add_parser(
        "countersign", help="add your signature to signed evidence (a reviewer's, after the partner's)"
    )
    sign.add_argument("evidence", help="an API-evidence.zip or gate.intoto.json that is already signed")
    sign.add_argument("--key", required=True, help="your Ed25519 private key (`conformance keygen`)")
    sign.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="PUB",
        help="the public key of a party that must already have signed it (repeatable); checked first",
    )


def command(args: argparse.Namespace) -> int:
    key = signing_key(args.key)
    path = Path(args.evidence)
    given = [load_public(public) for public in args.public_key]
    mine = key.public
    try:
        checked = check(path, [*given, mine])
    except UnreadableBundle as exc:
        raise UsageError(str(exc)) from None
    already = any(k is mine for k in checked.signed_by)
    checked.signed_by = [k for k in checked.signed_by if k is not mine]
    checked.not_signed_by = [k for k in checked.not_signed_by if k is not mine]
    if checked.envelope is None or checked.statement is None or checked.not_signed_by or checked.problems:
        for other in checked.not_signed_by:
            print(f"  not signed by {printable(other.source)} (key id {other.keyid}): no signature verifies with it")
        for problem in checked.problems:
            print(f"  {printable(problem)}")
        print("conformance: not countersigned: the evidence must be intact and signed by every key given")
        return EXIT_FAIL
    if already:
        print(f"conformance: {printable(str(path))} already carries the signature of key {mine.keyid}")
        return EXIT_PASS
    if not given:
        print("conformance: note: no --public-key given, so the existing signatures were not checked")
    countersign(checked, key)
    print(f"conformance: added the signature of key {mine.keyid} to {printable(str(path))}")
    keys = " ".join(f"--public-key {printable(p)}" for p in [*args.public_key, key.source + ".pub"])
    print(f"  check it with: conformance verify {printable(str(path))} {keys}")
    return EXIT_PASS
