"""The Push API suite against a host that is not the embedded sandbox: the sandbox runs as a process of its own,
posting its callbacks to the URL it was given, and the suite listens there (`--callback-listen`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import PASSWORD, USERNAME, run_cli

CALLBACK_USER, CALLBACK_PASSWORD = "koshelek-callbacks", "callback-Pa55-not-in-reports"
CALLBACK_ENV = {"CONFORMANCE_CALLBACK_USERNAME": CALLBACK_USER, "CONFORMANCE_CALLBACK_PASSWORD": CALLBACK_PASSWORD}
CALLBACK_RULES = ("R-CB-01", "R-CB-02", "R-CB-04", "R-CB-05")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def push_host(callback_url: str, callback_ca: str | None, *options: str) -> Iterator[tuple[str, str]]:
    """`conformance serve push --tls --callback-url ...` in a process of its own: (base URL, CA file)."""
    env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD, **CALLBACK_ENV}
    command = [
        sys.executable,
        "-P",
        "-m",
        "conformance",
        "serve",
        "push",
        "--port",
        str(free_port()),
        "--tls",
        "--callback-url",
        callback_url,
        *(["--callback-ca", callback_ca] if callback_ca else []),
    ]
    command += list(options)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base_url = ca = None
        for line in process.stdout:
            if "reference service at " in line:
                base_url = line.rsplit(" ", 1)[1].strip()
            if "CA certificate: " in line:
                ca = line.split("CA certificate: ", 1)[1].strip()
            if "Ctrl-C" in line:
                break
        assert base_url and ca, process.stderr.read()
        yield base_url, ca
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_against_host(tmp_path: Path, *faults: str, tls: bool = True, host_options: tuple[str, ...] = ()):
    """A run of the push suite against `serve push` whose account posts callbacks to the suite's listener (HTTPS
    with a throw-away CA the host is told to trust, or, without `tls`, plain HTTP)."""
    from conformance.fixtures.server import make_certificates

    port = free_port()
    certificates = tmp_path / "listener-tls"
    certificates.mkdir()
    cert, key, ca = make_certificates(certificates)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/koshelek"
    options = [*host_options, *(f"--fault={fault}" for fault in faults)]
    with push_host(url, ca if tls else None, *options) as (base_url, host_ca):
        return run_cli(
            [
                "run",
                "push",
                "--base-url",
                base_url,
                "--ca-bundle",
                host_ca,
                "--callback-listen",
                f"127.0.0.1:{port}",
                *(["--callback-tls-cert", cert, "--callback-tls-key", key] if tls else []),
                "--reference-data",
                "--max-examples",
                "5",
                "--seed",
                "7",
            ],
            tmp_path / "reports",
            env=CALLBACK_ENV,
        )


@pytest.mark.slow
def test_a_host_that_calls_back_passes_the_callback_rules(tmp_path: Path) -> None:
    result = run_against_host(tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "expecting the host's callbacks at https://127.0.0.1:" in result.stdout
    for requirement in CALLBACK_RULES:
        assert result.status_of(requirement, "push") == "pass", requirement
    verdict = result.verdict("push")
    assert verdict["callbacks"]["received"] > 0 and verdict["callbacks"]["refused"] == 0
    assert verdict["out_of_reach"]["R-RATE-01"].startswith("the documented limit is 1,000,000")
    for path in (tmp_path / "reports").glob("push.*"):
        assert CALLBACK_PASSWORD.encode() not in path.read_bytes(), path.name


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["no-callbacks", "callbacks-wrong-id"])
def test_a_host_that_does_not_call_back_right_fails_the_callback_rule(fault: str, tmp_path: Path) -> None:
    result = run_against_host(tmp_path, fault)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.status_of("R-CB-05", "push") == "fail"
    assert "FAIL R-CB-05" in result.stdout


@pytest.mark.slow
def test_callbacks_posted_over_plain_http_fail_the_https_rule(tmp_path: Path) -> None:
    """The host posts to an http:// callback URL: the callbacks arrive, and over plain HTTP, which R-CB-02 forbids."""
    result = run_against_host(tmp_path, tls=False)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.status_of("R-CB-02", "push") == "fail"
    assert result.status_of("R-CB-05", "push") == "pass"  # they did arrive: only the transport is wrong


@pytest.mark.slow
def test_a_host_that_reports_delivery_but_no_reading_conforms(tmp_path: Path) -> None:
    """DELIVERED is the documented duty; OPENED means a person read the message, which no document promises within a
    wait (a release candidate's test numbers are read by nobody): it is judged only when it comes."""
    result = run_against_host(tmp_path, host_options=("--delivered-only",))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.status_of("R-CB-01", "push") == result.status_of("R-CB-05", "push") == "pass"
    assert result.status_of("R-STATE-02", "push") != "warn", "no OPENED came: there is no order to fault"
