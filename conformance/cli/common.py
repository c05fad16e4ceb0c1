"""What the commands share: exit codes, the usage error, and safe printing of untrusted text."""

from __future__ import annotations

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_TRANSPORT, EXIT_INCONCLUSIVE, EXIT_SUITE_BUG = 0, 1, 2, 3, 4, 5


class UsageError(Exception):
    """A wrong option or input: exit code 2, one line on stderr."""


def printable(text: str) -> str:
    """Control characters (ANSI escapes included) from a target would garble a terminal: show them escaped."""
    return "".join(c if c.isprintable() or c == "\n" else c.encode("unicode_escape").decode("ascii") for c in text)
