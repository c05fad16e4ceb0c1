"""A run leaves nothing behind but its reports: no temporary directory, nothing in the working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, USERNAME


@pytest.mark.slow
@pytest.mark.parametrize("api", ["loyalty", "push"])  # push adds the callback listener and its certificates
def test_a_run_leaves_no_temporary_files_and_writes_only_its_report_dir(api: str, tmp_path: Path) -> None:
    work, scratch = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "conformance", "run", api, "--max-examples", "3", "--seed", "4"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["reports"], "the run wrote outside its report directory"
    assert list(scratch.iterdir()) == [], f"temporary files survived the run: {list(scratch.iterdir())}"
