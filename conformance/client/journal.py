"""The journal of a certification: one JSON line per exchange, written before anything judges it.

Every string is masked before it is written (by value, every secret the session knows at that moment, including
the passwords and keys the client chose or was handed), so the file can travel with the reports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..report.masking import Masker

MAX_ENTRIES = 20000  # exchanges of one certification: a client that loops forever fills no disk and no memory


def masked(value: Any, masker: Masker) -> Any:
    """`value` with every string in it (keys too) masked."""
    if isinstance(value, str):
        return masker.text(value)
    if isinstance(value, dict):
        return {masker.text(str(key)): masked(item, masker) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item, masker) for item in value]
    return value


class Journal:
    """Append-only, one line per entry, flushed at once (a crash or Ctrl-C keeps what came before)."""

    def __init__(self, path: Path, masker: Masker) -> None:
        self.path, self.masker = path, masker
        self._file = path.open("w", encoding="utf-8")
        self._lock = threading.Lock()
        self.written = 0
        self.dropped = 0

    def write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if self._file.closed:
                return
            if entry.get("kind") == "exchange" and self.written >= MAX_ENTRIES:
                self.dropped += 1
                return
            self._file.write(json.dumps(masked(entry, self.masker), ensure_ascii=False) + "\n")
            self._file.flush()
            self.written += entry.get("kind") == "exchange"

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read(path: str | Path) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)
