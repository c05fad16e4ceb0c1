"""What the benchmarks share: their starting point, timing one command in a fresh process, and reading how many
requests it sent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from conformance.profiles import Profile, get_profile


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


USER, PASSWORD = "bench", "bench-password"  # the reference service's credentials in every benchmark


@dataclass(frozen=True)
class Bench:
    """What each benchmark starts from: the Loyalty profile and spec file, the environment with the credentials,
    a scratch directory, and bare schemathesis' `st` next to this interpreter."""

    profile: Profile
    spec: str
    env: dict[str, str]
    work: Path
    st: str

    @classmethod
    def loyalty(cls, prefix: str) -> Bench:
        profile = get_profile("loyalty")
        return cls(
            profile,
            str(resources.files("conformance.specs").joinpath(profile.spec_file)),
            {**os.environ, "CONFORMANCE_USERNAME": USER, "CONFORMANCE_PASSWORD": PASSWORD},
            Path(tempfile.mkdtemp(prefix=prefix)),
            shutil.which("st", path=str(Path(sys.executable).parent)) or "st",
        )
