"""Locust as the engine of a load run: its master and worker processes, started, bounded and stopped from here.

Locust patches the process it runs in with gevent, so it never runs in the `conformance` process (nor in a pytest
session): each of its processes is a fresh interpreter running `locustfile.py`, in its own session (a terminal's
Ctrl-C reaches this process only, which then stops them in order), in a scratch directory (no `locust.conf` of the
current directory applies) and without the caller's LOCUST_* variables. The master writes what the workers counted
to a results file as it quits; that file, and the processes' output, are all this module hands back.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any

from .plan import LoadPlan

INSTALL_HINT = "pip install 'koshelek-imbee-conformance[load]'"
STOP_GRACE = 15.0  # seconds a stopped master gets to collect the workers' last counts and write its results
CONNECT_WAIT = 60  # seconds the master waits for local workers to connect (remote ones: --connect-wait)
LOG_TAIL = 64 * 1024  # bytes of each process's output kept for the log


def locust_installed() -> bool:
    """Whether Locust can be imported, found without importing it (importing it patches this process)."""
    return importlib.util.find_spec("locust") is not None


def locustfile() -> str:
    return str(resources.files("conformance.load").joinpath("locustfile.py"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class EngineResult:
    results: dict[str, Any] | None  # what the master wrote as it quit; None if it never did
    interrupted: bool  # Ctrl-C stopped the run
    master_exit: int | None
    logs: dict[str, str] = field(default_factory=dict)  # process name -> the tail of its output (raw, unmasked)


@dataclass
class WorkerOptions:
    """What local workers need besides the master's plan: where the master listens, what they may send to."""

    master_host: str
    master_port: int
    base_url: str
    ca_bundle: str | None
    credentials: dict[str, str]  # CONFORMANCE_USERNAME / CONFORMANCE_PASSWORD for their environment


class Engine:
    """Locust processes started by this run, each stopped by its own process id."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._outputs: dict[str, IO[bytes]] = {}

    def _start(self, name: str, arguments: list[str], env: dict[str, str]) -> None:
        output = open(self.scratch / f"{name}.log", "wb")
        self._outputs[name] = output
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-P", "-m", "locust", "-f", locustfile(), *arguments],
            cwd=self.scratch,
            env=_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_master(self, plan: LoadPlan, bind: tuple[str, int], results: Path, connect_wait: float) -> None:
        hard_bound = math.ceil(plan.duration + plan.timeout + STOP_GRACE)  # Locust quits by itself by then
        self._start(
            "master",
            [
                "--headless",
                "--master",
                "--master-bind-host",
                bind[0],
                "--master-bind-port",
                str(bind[1]),
                "--expect-workers",
                str(plan.workers),
                "--expect-workers-max-wait",
                str(math.ceil(connect_wait)),
                "--users",
                str(plan.users),
                "--spawn-rate",
                str(min(plan.users * 10, 10000)),  # every user within a tenth of a second
                "--run-time",
                f"{hard_bound}s",
                "--host",
                plan.base_url,
                "--only-summary",
                "--exit-code-on-error",
                "0",
                "--conformance-plan",
                plan.to_json(),
                "--conformance-results",
                str(results),
            ],
            {},
        )

    def start_workers(self, count: int, options: WorkerOptions) -> None:
        env = {
            "CONFORMANCE_LOAD_BASE_URL": options.base_url,
            "CONFORMANCE_LOAD_CA_BUNDLE": options.ca_bundle or "",
            **options.credentials,
        }
        for index in range(count):
            self._start(
                f"worker-{index + 1}",
                ["--worker", "--master-host", options.master_host, "--master-port", str(options.master_port)],
                env,
            )

    def wait(self, name: str, timeout: float, until: Path | None = None) -> int | None:
        """Wait for one process, or until the file `until` exists (Ctrl-C propagates to the caller); its exit code,
        or None if it is still running."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline and not (until and until.exists()):
            time.sleep(0.05)
        return process.poll()

    def interrupt(self) -> None:
        """Ctrl-C: the master first (SIGTERM: it quits its workers and writes what it has), then the rest."""
        master = self.processes.get("master")
        if master is not None and master.poll() is None:
            master.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                master.wait(timeout=STOP_GRACE)

    def stop(self) -> dict[str, str]:
        """End every process still running (SIGTERM, then SIGKILL), and return the tail of each one's output."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        logs = {}
        for name, output in self._outputs.items():
            output.close()
            data = Path(output.name).read_bytes()
            logs[name] = data[-LOG_TAIL:].decode("utf-8", "replace")
        return logs


def run_distributed(
    plan: LoadPlan,
    *,
    local_workers: int,
    bind: tuple[str, int],
    worker: WorkerOptions | None,
    scratch: Path,
    connect_wait: float = CONNECT_WAIT,
) -> EngineResult:
    """One load run: a master and `local_workers` workers here (the rest connect from elsewhere); returns once the
    master has quit, the hard bound has passed, or Ctrl-C (which stops everything first, and is reported)."""
    engine = Engine(scratch)
    results_path = scratch / "results.json"
    interrupted = False
    master_exit: int | None = None
    try:
        engine.start_master(plan, bind, results_path, connect_wait)
        if local_workers and worker is not None:
            engine.start_workers(local_workers, worker)
        bound = connect_wait + plan.duration + plan.timeout + 2 * STOP_GRACE
        try:
            master_exit = engine.wait("master", bound, until=results_path)  # written once every worker is done
        except KeyboardInterrupt:
            interrupted = True
            engine.interrupt()
            master_exit = engine.processes["master"].poll()
    finally:
        logs = engine.stop()
    results = None
    if results_path.exists():
        with contextlib.suppress(OSError, ValueError):
            results = json.loads(results_path.read_text(encoding="utf-8"))
    return EngineResult(results, interrupted, master_exit, logs)


def run_workers(count: int, options: WorkerOptions, scratch: Path) -> tuple[bool, dict[str, str]]:
    """`conformance load --worker`: workers of a master elsewhere, until they end (True) or Ctrl-C (False)."""
    engine = Engine(scratch)
    finished = True
    try:
        engine.start_workers(count, options)
        for name in list(engine.processes):
            while engine.wait(name, 3600) is None:
                pass
    except KeyboardInterrupt:
        finished = False
    finally:
        logs = engine.stop()
    return finished, logs
