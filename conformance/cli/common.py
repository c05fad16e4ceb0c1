"""What the commands share: exit codes, the usage error, safe printing of untrusted text, the signing key."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report.keys import SigningKey

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_TRANSPORT, EXIT_INCONCLUSIVE, EXIT_SUITE_BUG = 0, 1, 2, 3, 4, 5


class UsageError(Exception):
    """A wrong option or input: exit code 2, one line on stderr."""


def printable(text: str) -> str:
    """Control characters (ANSI escapes included) from a target would garble a terminal: show them escaped."""
    return "".join(c if c.isprintable() or c == "\n" else c.encode("unicode_escape").decode("ascii") for c in text)


def signing_key(path: str) -> SigningKey:
    """The private key of `--attest KEY`, read before anything runs (a bad key is a usage error, exit 2)."""
    from ..report.keys import load_private, readable_by_others

    key = load_private(path)
    if readable_by_others(path):
        print(
            f"conformance: warning: the private key {printable(path)} is readable by other users (chmod 600 it)",
            file=sys.stderr,
        )
    return key
