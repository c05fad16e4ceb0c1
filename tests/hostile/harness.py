"""Run the CLI against a misbehaving service as a user would, and measure what the run cost: wall time and the
peak memory of its process."""

from __future__ import annotations

import base64
import html
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

USERNAME, PASSWORD = "koshelek-test", "Pa55-w0rd-never-in-reports"
MEMORY_BOUND_MB = 500
FAST = ["--max-examples", "2", "--seed", "5", "--timeout", "1"]


@dataclass
class Measured:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    report_dir: Path

    def verdict(self, api: str = "loyalty") -> dict:
        return json.loads((self.report_dir / f"{api}.json").read_text("utf-8"))

    def status_of(self, requirement: str, api: str = "loyalty") -> str:
        return next(r["status"] for r in self.verdict(api)["requirements"] if r["id"] == requirement)

    def artefacts(self) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in sorted(self.report_dir.iterdir()) if path.is_file()}


# The run is started through this small launcher, which forks it and reports its peak memory. A process started
# straight from a test worker inherits the worker's own high-water mark in ru_maxrss (Linux folds the parent's into
# it at exec): a worker that once held 400 MB would make every run it starts look 400 MB large.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(
    args: list[str], report_dir: Path, *, env: dict[str, str | None] | None = None, timeout: float = 300
) -> Measured:
    """`conformance ARGS` in a fresh interpreter; the peak memory is its own (os.wait4), not this process's."""
    full_env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD, **(env or {})}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    peak_file = report_dir.parent / f"{report_dir.name}.peak"
    started = time.monotonic()
    with (
        open(report_dir.parent / f"{report_dir.name}.out", "w+b") as out,
        open(report_dir.parent / f"{report_dir.name}.err", "w+b") as err,
    ):
        command = [sys.executable, "-P", "-m", "conformance", *args, "--report-dir", str(report_dir)]
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(peak_file), *command[1:]],
            stdout=out,
            stderr=err,
            env=full_env,
            start_new_session=True,  # its own process group: a run past the timeout is killed with its launcher
        )
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            status = process.wait()
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    peak_mb = int(peak_file.read_text()) / 1024 if peak_file.exists() else float("inf")  # unknown: killed
    return Measured(status, stdout, stderr, seconds, peak_mb, report_dir)


def encodings_of(secret: str, username: str = USERNAME) -> dict[str, bytes]:
    """The forms a secret could take in an artefact: how a test (independently of the suite's own scanner)
    looks for it."""
    raw = secret.encode()
    forms = {
        "raw": raw,
        "upper": secret.upper().encode(),
        "json-escaped": json.dumps(secret).encode()[1:-1],
        "percent": quote(secret, safe="").encode(),
        "html": html.escape(secret).encode(),
        "hex": raw.hex().encode(),
        "base64": base64.b64encode(raw),
        "basic-utf8": base64.b64encode(f"{username}:{secret}".encode()),
    }
    try:
        forms["basic-latin1"] = base64.b64encode(f"{username}:{secret}".encode("latin-1"))
        forms["latin1"] = secret.encode("latin-1")
    except UnicodeEncodeError:
        pass
    return {name: form for name, form in forms.items() if len(form) >= 6}


def leaked_forms(data: bytes, secret: str) -> list[str]:
    """Which forms of `secret` appear in `data`, as it is or after undoing HTML and JSON escaping."""
    views = [data]
    text = data.decode("utf-8", "replace")
    views.append(html.unescape(text).encode())
    views.append(html.unescape(text).replace('\\"', '"').encode())
    found = []
    for name, form in encodings_of(secret).items():
        if any(form in view for view in views):
            found.append(name)
    return found


def run_loyalty(url: str, tmp_path: Path, *extra: str, env: dict | None = None) -> Measured:
    return run_measured(
        ["run", "loyalty", "--base-url", url, "--reference-data", *FAST, *extra], tmp_path / "reports", env=env
    )


def within_bounds(result: Measured, seconds: float) -> None:
    assert result.seconds < seconds, f"the run took {result.seconds:.1f} s"
    assert result.peak_mb < MEMORY_BOUND_MB, f"the run peaked at {result.peak_mb:.0f} MB"
    assert "Traceback" not in result.stdout + result.stderr


def no_secret_anywhere(result: Measured, secret: str = PASSWORD) -> None:
    for name, content in result.artefacts().items():
        assert not leaked_forms(content, secret), f"{name} holds {leaked_forms(content, secret)} of the secret"
    assert not leaked_forms((result.stdout + result.stderr).encode(), secret)
