"""One run per report directory at a time, and no report of an earlier run left to pass for this run's.

Two runs writing into one directory would leave one run's reports beside (or over) the other's, and a gate reading
the directory would judge a mix. A run holds the directory's lock while it writes (an OS file lock: the lock of a
process that died is free again at once); a second run is told who holds it and stops. The runs `run all` starts
for each API are part of the run that holds the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from .common import UsageError, printable

LOCK, HOLDER = ".conformance.lock", ".conformance.run"  # the OS lock, and who holds it (for the message)


def _holder(report_dir: Path) -> dict[str, object]:
    try:
        found = json.loads((report_dir / HOLDER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


@contextlib.contextmanager
def exclusive(report_dir: Path, command: str) -> Iterator[None]:
    """Hold the report directory for this run (`command` says which); a UsageError (exit 2) naming the holder when
    another run has it."""
    lock = FileLock(str(report_dir / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = _holder(report_dir)
        if holder.get("pid") == os.getppid():  # `run all` holds it for the runs it starts
            yield
            return
        who = (
            f"pid {holder.get('pid')}, `{printable(str(holder.get('command')))[:200]}`, started {holder.get('started')}"
            if holder
            else "a process that has not said who it is"
        )
        raise UsageError(
            f"--report-dir {report_dir} is in use by another run ({who}); wait for it to end or give another "
            "--report-dir"
        ) from None
    try:
        holder_file = report_dir / HOLDER
        holder_file.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": command,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        (report_dir / HOLDER).unlink(missing_ok=True)
        lock.release()


def clear_previous(report_dir: Path, name: str, artefacts: tuple[str, ...]) -> None:
    """Remove every file an earlier run of `name` left (reports, side files, bundle), and the index of an earlier
    `run all`, which would now link a mix of runs: what the directory holds afterwards is this run's alone."""
    for kind in artefacts:
        (report_dir / f"{name}.{kind}").unlink(missing_ok=True)
    (report_dir / f"{name}-evidence.zip").unlink(missing_ok=True)
    (report_dir / f"{name}.certificate.html").unlink(missing_ok=True)
    shutil.rmtree(report_dir / f"{name}-bodies", ignore_errors=True)
    (report_dir / "index.html").unlink(missing_ok=True)
