"""One run per report directory at a time: a second run is told who holds it and stops (exit 2); the lock of a run
that died is taken over; the runs `run all` starts are part of the run that holds it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_here

HOLD = """
import sys, time
from pathlib import Path
from conformance.cli.report_dir import exclusive
with exclusive(Path(sys.argv[1]), "conformance run loyalty --base-url https://failing.example (report dir r)"):
    print("holding", flush=True)
    if len(sys.argv) > 2:  # a run that starts runs of its own into the same directory, as `run all` does
        import subprocess
        code = subprocess.run([sys.executable, "-c", sys.argv[2], sys.argv[1]]).returncode
        print(f"child {code}", flush=True)
    time.sleep(60)
"""
CHILD = """
import sys
from pathlib import Path
from conformance.cli.report_dir import exclusive
with exclusive(Path(sys.argv[1]), "conformance run push (report dir r)"):
    print("child ran", flush=True)
"""


def hold(report_dir: Path, *extra: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(report_dir), *extra], stdout=subprocess.PIPE, text=True, cwd=report_dir
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_run_into_a_held_report_dir_says_who_holds_it_and_exits_2(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    holder = hold(reports)
    try:
        result = run_here(["run", "loyalty", "--max-examples", "1"], reports)
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2, result.stdout
    assert f"--report-dir {reports} is in use by another run (pid {holder.pid}, " in result.stderr
    assert "`conformance run loyalty --base-url https://failing.example (report dir r)`, started 20" in result.stderr
    assert not (reports / "loyalty.json").exists()  # nothing of the second run was written


def test_the_lock_of_a_run_that_died_is_taken_over(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    holder = hold(reports)
    os.kill(holder.pid, signal.SIGKILL)  # no clean-up: its lock file and its holder note stay behind
    holder.wait()
    assert (reports / ".conformance.run").exists()
    result = run_here(["run", "push-callback", "--max-examples", "1", "--seed", "2"], reports)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not (reports / ".conformance.run").exists()  # released at the end of the run


def test_the_runs_run_all_starts_share_its_lock(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    holder = hold(reports, CHILD)
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline and not any(line.removeprefix("child ").isdigit() for line in lines):
            lines.append(holder.stdout.readline().strip())
    finally:
        holder.kill()
        holder.wait()
    assert "child ran" in lines and "child 0" in lines, lines
