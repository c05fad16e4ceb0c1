"""Run the CLI against a misbehaving service as a user would, and measure what the run cost: wall time and the
peak memory of its process."""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

USERNAME, PASSWORD = "koshelek-test", "Pa55-w0rd-never-in-reports"
MEMORY_BOUND_MB = 500


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


def run_measured(
    args: list[str], report_dir: Path, *, env: dict[str, str | None] | None = None, timeout: float = 300
) -> Measured:
    """`conformance ARGS` in a fresh interpreter; the peak memory is its own (os.wait4), not this process's."""
    full_env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD, **(env or {})}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    started = time.monotonic()
    with (
        open(report_dir.parent / f"{report_dir.name}.out", "w+b") as out,
        open(report_dir.parent / f"{report_dir.name}.err", "w+b") as err,
    ):
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "conformance", *args, "--report-dir", str(report_dir)],
            stdout=out,
            stderr=err,
            env=full_env,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    return Measured(os.waitstatus_to_exitcode(status), stdout, stderr, seconds, usage.ru_maxrss / 1024, report_dir)


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
