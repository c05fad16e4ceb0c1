"""`conformance load push` on Locust: a local master and two worker processes against the Push sandbox, at a few
hundred messages a minute for a few seconds. The sandbox that refuses at its limit passes; the one that never
refuses and the one that refuses far below its declared limit are each caught on their rule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PASSWORD, USERNAME, run_here

from conformance.cli.run import suite_arguments
from conformance.profiles import get_profile

SMALL_LIMIT = """
rate_limit_per_minute = 5
[identities.registered]
msisdn = 79216668899
"""


def target_config(tmp_path: Path, text: str = SMALL_LIMIT) -> str:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def sandbox_at_five_a_minute():
    """`conformance serve push --rate-limit 5/min --retry-after --tls` in a process of its own."""
    env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD}
    command = [sys.executable, "-P", "-m", "conformance", "serve", "push", "--port", "0", "--tls"]
    command += ["--rate-limit", "5/min", "--retry-after"]
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


def test_a_host_that_refuses_at_its_limit_passes(tmp_path: Path, sandbox_at_five_a_minute) -> None:
    base_url, ca = sandbox_at_five_a_minute
    arguments = ["load", "push", "--base-url", base_url, "--ca-bundle", ca, "--target-config", target_config(tmp_path)]
    result = run_here([*arguments, "--rate", "600/min", "--duration", "3", "--workers", "2"], tmp_path / "r")
    assert result.exit_code == 0, result.stdout + result.stderr
    verdict = result.verdict("push-load")
    assert verdict["verdict"] == "pass" and verdict["kind"] == "load"
    statuses = {r["id"]: r["status"] for r in verdict["requirements"]}
    assert statuses == {"R-RATE-01": "pass", "R-RATE-02": "pass", "R-RATE-04": "pass"}
    load = verdict["load"]
    assert load["workers"]["expected"] == 2 and load["workers"]["reported"] == 2 and load["workers"]["cpu_seconds"] > 0
    assert load["requests"]["accepted"] == 5 and load["requests"]["refused"] > 10
    assert load["requests"]["refused_with_retry_after"] == load["requests"]["refused"]
    assert load["counting"].startswith("single sends") and load["stopped"] == "the run sent for the duration asked"
    assert "PASS R-RATE-02" in result.stdout
    page = (tmp_path / "r" / "push-load.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "TOO_MANY_REQUESTS" in page
    for artefact in (tmp_path / "r").iterdir():
        assert PASSWORD.encode() not in artefact.read_bytes(), artefact.name
    assert "locust" not in sys.modules and "gevent" not in sys.modules  # Locust ran in its own processes only


def test_a_host_that_never_refuses_is_caught_within_the_request_bound(tmp_path: Path) -> None:
    arguments = ["load", "push", "--fault", "no-rate-limit", "--target-config", target_config(tmp_path)]
    arguments += ["--rate", "600/min", "--duration", "3", "--workers", "2", "--max-requests", "20"]
    result = run_here(arguments, tmp_path / "r")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "FAIL R-RATE-02" in result.stdout
    load = result.verdict("push-load")["load"]
    assert load["requests"]["sent"] == 20 and load["requests"]["refused"] == 0
    assert load["stopped"] == "the run stopped at --max-requests"
    assert result.verdict("push-load")["target"]["faulty_variants"] == ["no-rate-limit"]


def test_a_host_that_refuses_far_below_its_limit_is_caught(tmp_path: Path) -> None:
    fault = get_profile("push").faults()["rate-limit-far-below"]
    assert fault.proven_by == "load" and fault.breaks == "R-RATE-01"
    arguments = ["load", "push", "--fault", fault.name, "--rate", "540/min", "--duration", "3", "--workers", "2"]
    result = run_here(arguments, tmp_path / "r")  # the default target config: 600 a minute
    assert result.exit_code == 1, result.stdout + result.stderr
    verdict = result.verdict("push-load")
    statuses = {r["id"]: r["status"] for r in verdict["requirements"]}
    assert statuses["R-RATE-01"] == "fail" and statuses["R-RATE-02"] == "not-tested"
    assert "R-RATE-02" in verdict["out_of_reach"]
    assert "FAIL R-RATE-01" in result.stdout


def test_without_locust_the_command_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("conformance.load.engine.locust_installed", lambda: False)
    result = run_here(["load", "push", "--rate", "600/min"], tmp_path)
    assert result.exit_code == 2
    assert "pip install 'koshelek-imbee-conformance[load]'" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--duration", "4"], "give --rate"),
        (["--rate", "lots"], "not a rate"),
        (["--rate", "600/min", "--worker", "--master-host", "gen.example"], "--worker needs --base-url"),
        (["--rate", "600/min", "--master"], "--expect-workers"),
        (["--rate", "600/min", "--base-url", "https://push.example", "--fault", "no-rate-limit"], "leave out"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = run_here(["load", "push", *arguments], tmp_path)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_host_is_a_transport_failure_with_a_verdict(tmp_path: Path) -> None:
    result = run_here(["load", "push", "--base-url", "https://127.0.0.1:1", "--rate", "600/min"], tmp_path)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert result.verdict("push-load")["verdict"] == "error"


def test_locust_pytest_plugin_stays_out_of_the_suites_and_of_these_tests(request) -> None:
    assert not request.config.pluginmanager.has_plugin("locust")
    arguments = suite_arguments(get_profile("push"), {"json": Path("a"), "html": Path("b"), "junit.xml": Path("c")})
    assert "no:locust" in arguments and arguments[arguments.index("no:locust") - 1] == "-p"


@pytest.mark.proof
def test_ctrl_c_stops_the_generators_and_reports_the_run_cut_short(tmp_path: Path) -> None:
    env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD}
    command = [sys.executable, "-P", "-m", "conformance", "load", "push", "--rate", "300/min", "--duration", "60"]
    command += ["--report-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert "load on" in process.stdout.readline()
    time.sleep(6)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 4, out + err
    assert "interrupted (Ctrl-C)" in out


@pytest.mark.proof
def test_a_master_judges_what_workers_started_apart_sent(tmp_path: Path, sandbox_at_five_a_minute) -> None:
    """The multi-machine commands on one machine: `--master --expect-workers 2` and `--worker --master-host`."""
    from conformance.load.engine import free_port

    base_url, ca = sandbox_at_five_a_minute
    port = free_port()
    env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD}
    load = [sys.executable, "-P", "-m", "conformance", "load", "push", "--base-url", base_url, "--ca-bundle", ca]
    master = subprocess.Popen(
        [
            *load,
            "--master",
            "--master-bind",
            f"127.0.0.1:{port}",
            "--expect-workers",
            "2",
            "--target-config",
            target_config(tmp_path),
            "--rate",
            "600/min",
            "--duration",
            "3",
            "--report-dir",
            str(tmp_path / "r"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    time.sleep(2)
    worker = subprocess.run(
        [*load, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port), "--workers", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    out, _ = master.communicate(timeout=120)
    assert master.returncode == 0, out
    assert worker.returncode == 0, worker.stdout + worker.stderr
    load_figures = json.loads((tmp_path / "r" / "push-load.json").read_text(encoding="utf-8"))["load"]
    assert load_figures["workers"]["reported"] == 2 and load_figures["requests"]["accepted"] == 5


@pytest.mark.proof
def test_a_worker_refuses_a_master_that_points_it_elsewhere(tmp_path: Path, sandbox_at_five_a_minute) -> None:
    from conformance.load.engine import free_port

    base_url, ca = sandbox_at_five_a_minute
    port = free_port()
    env = {**os.environ, "CONFORMANCE_USERNAME": USERNAME, "CONFORMANCE_PASSWORD": PASSWORD}
    load = [sys.executable, "-P", "-m", "conformance", "load", "push", "--ca-bundle", ca]
    master = subprocess.Popen(
        [
            *load,
            "--base-url",
            base_url,
            "--master",
            "--master-bind",
            f"127.0.0.1:{port}",
            "--expect-workers",
            "1",
            "--target-config",
            target_config(tmp_path),
            "--rate",
            "600/min",
            "--duration",
            "2",
            "--report-dir",
            str(tmp_path / "r"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    time.sleep(2)
    other = "https://127.0.0.2:1"  # what this worker was started for: not the master's target
    subprocess.run(
        [
            *load,
            "--base-url",
            other,
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(port),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    out, _ = master.communicate(timeout=120)
    verdict = json.loads((tmp_path / "r" / "push-load.json").read_text(encoding="utf-8"))
    assert verdict["load"]["requests"]["sent"] == 0 and verdict["verdict"] == "inconclusive", out
    assert "another --base-url" in " ".join(verdict["reasons"])


@pytest.mark.parametrize(("counts", "accepted"), [("recipients", 1), ("requests", 4)])
def test_the_sandbox_counts_what_its_option_says_and_tells_when_to_retry(counts: str, accepted: int) -> None:
    import base64

    from conformance.fixtures.push.app import create_app

    app = create_app((USERNAME, PASSWORD), rate_limit_per_minute=4, rate_counts=counts, retry_after=True)
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    batch = {
        "pushType": "SERVICE",
        "subId": "s",
        "msisdn": [79216668899] * 3,
        "payload": {"title": "T", "message": "M", "deeplink": {"target": "card"}},
    }
    client = app.test_client()
    answers = [
        client.post("/push/bulk/single", json=batch, headers={"Authorization": f"Basic {token}"}) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [200] * accepted + [429] * (5 - accepted)  # batches of 3 numbers
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in answers if a.status_code == 429)
