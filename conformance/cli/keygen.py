"""`conformance keygen [NAME]`: an Ed25519 key pair for signing attestations (`--attest NAME`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..report.keys import PASSPHRASE_ENV, generate
from .common import EXIT_PASS, printable

DEFAULT_NAME = "conformance-signing.key"


def add_parser(commands: argparse._SubParsersAction) -> None:
    keygen = commands.add_parser(
        "keygen", help="make an Ed25519 key pair to sign attestations with (`run|certify-client|gate --attest`)"
    )
    keygen.add_argument(
        "name",
        nargs="?",
        default=DEFAULT_NAME,
        help=f"the private key file to write (default {DEFAULT_NAME}); the public key goes to NAME.pub. "
        f"The private key is encrypted with the passphrase in {PASSPHRASE_ENV} when it is set",
    )


def command(args: argparse.Namespace) -> int:
    private, public_path, public, encrypted = generate(Path(args.name))
    protection = (
        f"encrypted with the passphrase in {PASSPHRASE_ENV}"
        if encrypted
        else f"not encrypted: set {PASSPHRASE_ENV} before keygen to encrypt it"
    )
    print(f"conformance: wrote the private key {printable(str(private))} (mode 0600, {protection})")
    print(f"  and the public key {printable(str(public_path))}; key id {public.keyid}")
    print("  keep the private key to yourself; give the public key to whoever checks your evidence")
    return EXIT_PASS
