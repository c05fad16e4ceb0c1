"""What the benchmarks share: time one command in a fresh process, and read how many requests it sent."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """(wall seconds, exit code, stdout + stderr) of one run, in a scratch directory (`st run` writes its
    .hypothesis directory into the current one)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def requests_sent(output: str) -> str:
    """The requests a conformance run reports, or the cases `st run` generated ("?" when neither is printed)."""
    found = re.search(r"(\d+) requests in|(\d+) generated", output)
    return next((group for group in found.groups() if group), "?") if found else "?"
