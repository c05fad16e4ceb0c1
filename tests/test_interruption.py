"""A run its user stops (Ctrl-C) says so in every report, and blames the service for nothing it did not reach."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import PASSWORD, USERNAME

from conformance.plugin import Interruption
from conformance.transport import Breakers, Limits


@pytest.mark.slow
def test_an_interrupted_run_says_it_was_interrupted_and_blames_nothing_on_the_service(tmp_path: Path) -> None:
    env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD}
    command = [sys.executable, "-P", "-m", "conformance", "run", "loyalty", "--fault", "slow-communication"]
    process = subprocess.Popen(
        [*command, "--max-examples", "3", "--seed", "1", "--report-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    for line in process.stdout:  # wait until requests are under way, then press Ctrl-C
        if "testing loyalty" in line:
            break
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - started < 60
    assert process.returncode == 4, out + err
    verdict = json.loads((tmp_path / "loyalty.json").read_text("utf-8"))
    assert verdict["verdict"] == "inconclusive" and verdict["interrupted"], verdict["reasons"]
    assert verdict["reasons"][0].startswith("the run was interrupted (Ctrl-C)")
    assert not any("never answered a request with success" in reason for reason in verdict["reasons"])
    assert "interrupted" in (tmp_path / "loyalty.html").read_text("utf-8")
    assert "Traceback" not in err


def test_the_run_restores_the_ctrl_c_handler_it_stood_in_for() -> None:
    handler = Interruption(SimpleNamespace(breakers=Breakers(Limits())))  # type: ignore[arg-type]
    before = signal.getsignal(signal.SIGINT)
    handler.pytest_sessionstart(None)  # type: ignore[arg-type]
    assert signal.getsignal(signal.SIGINT) == handler._ctrl_c
    handler.pytest_unconfigure(None)  # type: ignore[arg-type]
    assert signal.getsignal(signal.SIGINT) == before
