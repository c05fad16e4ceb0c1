"""What the CLI prints goes through the masker too: CI logs are public more often than reports are.

`Terminal` stands in for sys.stdout and sys.stderr while a command runs: each write is masked with the secrets
known at that moment (the credentials from the environment first, the run's own masker once the run exists,
which learns what the target hands out) and kept, capped, for the end-of-run leak scan, which reads the
transcript like any artefact. Text the command means to show as it is (the throw-away credentials a client
certification mints for the person at the terminal) goes to `Terminal.shown`, and is neither masked nor kept.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import IO

from ..report.masking import Masker

TRANSCRIPT_LIMIT = 4 * 1024 * 1024  # characters of the transcript kept for the scan (the end of a long run is cut)


class Terminal:
    def __init__(self, masker: Masker | None = None) -> None:
        self.masker = masker or Masker()
        self._kept: list[str] = []
        self._size = 0
        self.stdout: IO[str] = sys.stdout
        self.stderr: IO[str] = sys.stderr

    def use(self, masker: Masker) -> None:
        """From now on, mask with `masker` (the run's: it learns the secrets the target hands out)."""
        self.masker = masker

    def transcript(self) -> str:
        return "".join(self._kept)

    def keep(self, text: str) -> None:
        if self._size < TRANSCRIPT_LIMIT:
            self._kept.append(text[: TRANSCRIPT_LIMIT - self._size])
            self._size += len(self._kept[-1])

    @property
    def shown(self) -> IO[str]:
        """The real standard output, for what is meant to be seen unmasked (and is not kept)."""
        return self.stdout

    @contextlib.contextmanager
    def installed(self) -> Iterator[Terminal]:
        self.stdout, self.stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Masked(self, self.stdout), _Masked(self, self.stderr)
        try:
            yield self
        finally:
            sys.stdout, sys.stderr = self.stdout, self.stderr


def terminal_of(args: argparse.Namespace) -> Terminal:
    """The command's masked terminal (`main` installs one; a command called some other way gets its own)."""
    terminal = getattr(args, "terminal", None)
    if terminal is None:
        terminal = args.terminal = Terminal()
    return terminal


class _Masked:
    """A text stream that masks each write before passing it on (a write is a line or a few: a secret is never
    split across two by the suite's own printing, which builds each line whole)."""

    def __init__(self, terminal: Terminal, stream: IO[str]) -> None:
        self._terminal, self._stream = terminal, stream

    def write(self, text: str) -> int:
        masked = self._terminal.masker.text(text)
        self._terminal.keep(masked)
        self._stream.write(masked)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def __getattr__(self, name: str) -> object:  # encoding, errors, ... of the real stream
        return getattr(self._stream, name)
