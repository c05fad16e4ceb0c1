"""A failure's repro, pasted as printed into a shell with the credential variables set, reproduces the failure:
for the embedded reference it starts the same faulty service (`conformance serve ... --fault ...`) and replays
the very request, which gets the very answer the report shows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, USERNAME, run_here


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.slow
def test_the_printed_repro_reproduces_the_failure_against_the_same_faulty_reference(tmp_path: Path) -> None:
    result = run_here(["run", "loyalty", "--fault", "status-400", "--max-examples", "3", "--seed", "5"], tmp_path)
    assert result.exit_code == 1, result.stdout
    finding = next(r for r in result.verdict()["requirements"] if r["id"] == "R-LOY-20")["findings"][0]
    exchange = finding["exchange"]
    assert exchange["curl"] in result.stdout, "the terminal prints the repro as the report holds it"
    if not port_is_free(8080):  # the printed line starts the reference on the port it names
        pytest.skip("port 8080 is taken on this machine: the printed repro cannot start its service there")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # where `conformance` is
        "CONFORMANCE_USERNAME": USERNAME,
        "CONFORMANCE_PASSWORD": PASSWORD,
    }
    output = tmp_path / "shell.out"  # a file, not a pipe: the service in the background keeps its output open
    with output.open("wb") as out:
        shell = subprocess.Popen(
            ["sh", "-c", exchange["curl"]],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the service it starts in the background is in this group: stopped below
        )
        try:
            shell.wait(timeout=60)
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
    printed = output.read_text("utf-8", "replace")
    status_lines = [line for line in printed.splitlines() if line.startswith("HTTP/")]
    assert status_lines, printed
    assert status_lines[0].split()[1] == str(exchange["response"]["status"]), printed
    assert exchange["response"]["status"] == 400  # the faulty variant's answer, where 422 is documented
