"""Shared helpers of the project's own tests: start a reference (or faulty) service, run the CLI against it.

Two ways to run the CLI: `run_cli` starts a fresh interpreter, as a user would (for what only a process can
show: exit codes, stderr, no traceback); `run_here` calls the same `main` in this process, which saves the
interpreter's start-up and imports on every run (for the proofs that walk many variants).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.fixtures.server import RunningServer, serve
from conformance.profiles import get_profile

USERNAME, PASSWORD = "koshelek-test", "Pa55-w0rd-never-in-reports"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path

    def verdict(self, api: str = "loyalty") -> dict[str, Any]:
        return json.loads((self.report_dir / f"{api}.json").read_text(encoding="utf-8"))

    def status_of(self, requirement: str, api: str = "loyalty") -> str:
        return next(r["status"] for r in self.verdict(api)["requirements"] if r["id"] == requirement)

    def html_rows(self, api: str = "loyalty") -> list[dict[str, Any]]:
        """The rows of the HTML report's results table, as pytest-html's page script receives them."""
        import html
        import re

        page = (self.report_dir / f"{api}.html").read_text(encoding="utf-8")
        blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))
        return [row for results in blob["tests"].values() for row in results]


def run_cli(args: list[str], report_dir: Path, *, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
    """Run `conformance ARGS` in a fresh interpreter, as a user would."""
    full_env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD, **(env or {})}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "conformance", *args, "--report-dir", str(report_dir)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr, report_dir)


def run_here(args: list[str], report_dir: Path, *, env: dict[str, str | None] | None = None) -> CliResult:
    """Run `conformance ARGS` in this process, with the environment set as `run_cli` would set it."""
    from conformance.cli import main

    wanted = {"CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD, **(env or {})}
    saved = {name: os.environ.get(name) for name in wanted}
    out, err = io.StringIO(), io.StringIO()
    try:
        for name, value in wanted.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "--report-dir", str(report_dir)])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return CliResult(code, out.getvalue(), err.getvalue(), report_dir)


def against(server: RunningServer, api: str = "loyalty") -> list[str]:
    """`run API --base-url ... --ca-bundle ...`: the arguments of a run against a service the test started."""
    return ["run", api, "--base-url", server.base_url, "--ca-bundle", server.ca_bundle or "", "--reference-data"]


def start_service(api: str, faults: tuple[str, ...] = (), *, tls: bool = True) -> RunningServer:
    app = get_profile(api).reference_app((USERNAME, PASSWORD), faults)
    return serve(app, tls=tls)


@pytest.fixture
def loyalty_service() -> Iterator[RunningServer]:
    with start_service("loyalty") as server:
        yield server


def target_config(api: str, *, without: tuple[str, ...] = (), **options: str | None) -> str:
    """The API's template (what `conformance init API` writes) with the identities `without` names left out and
    `options` declared (None: the option left undeclared)."""
    lines, skipping = [], False
    for line in get_profile(api).default_target_config().splitlines():
        if line.startswith("["):
            skipping = line.strip() in {f"[identities.{name}]" for name in without}
        if skipping:
            continue
        key = line.partition("=")[0].strip()
        if key in options and not line.startswith("#"):
            continue  # declared below, or left out
        lines.append(line)
    declared = [f'{key} = "{value}"' for key, value in options.items() if value is not None]
    return "\n".join([*declared, *lines]) + "\n"


def write_config(tmp_path: Path, api: str, **changes: Any) -> str:
    path = tmp_path / f"{api}-target.toml"
    path.write_text(target_config(api, **changes), encoding="utf-8")
    return str(path)
