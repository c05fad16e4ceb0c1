"""The highest rate one generator core sustains against the Push sandbox on loopback: how to size the workers of
`conformance load push` for the documented 1,000,000 messages a minute.

The sandbox (`conformance serve push --tls`, with a limit no step reaches) runs in a process of its own, so the
generator and the sandbox each have a core of this 2-core machine. `conformance load push --workers 1` sends single
messages to it at rising rates, --duration seconds each; a rate is sustained when the one worker sent at least 95 % of
it (the verdict's own kept-up rule). Each step reports the rate sent, the worker's CPU while sending (the results
carry it) and so the requests one CPU-second sends. Median of --repeat ladders.

Baseline, in the same run: a bare Locust user (FastHttpUser posting the same body on the same schedule, no
accounting, no judging) at the highest rate sustained, its requests per CPU-second measured the same way (the
worker's CPU from the start of its test to its end).

    python benchmarks/bench_load.py [--repeat 3] [--duration 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import PASSWORD, USER

LADDER = [100, 200, 300, 400, 500, 700, 1000, 1400, 2000, 2800]  # requests a second (single sends: messages a second)
TARGET = """
rate_limit_per_minute = 1000000000
[identities.registered]
msisdn = 79216668899
"""
BARE_LOCUSTFILE = """
import time
from locust import FastHttpUser, events, task
from conformance.load.plan import LoadPlan
import os, json, base64
PLAN = LoadPlan.from_json(os.environ["BENCH_PLAN"])
USER, PASSWORD = os.environ["CONFORMANCE_USERNAME"], os.environ["CONFORMANCE_PASSWORD"]
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
BODY = PLAN.body()

CPU = {}

@events.test_start.add_listener
def _start(**kw):
    CPU["start"] = time.process_time()

@events.quitting.add_listener
def _quit(environment, **kw):
    if "start" in CPU and os.environ.get("BENCH_CPU_FILE") and environment.runner.__class__.__name__ == "WorkerRunner":
        open(os.environ["BENCH_CPU_FILE"], "w").write(str(time.process_time() - CPU["start"]))

class Bare(FastHttpUser):
    host = PLAN.base_url
    insecure = True
    concurrency = 1
    def on_start(self):
        self._next = time.monotonic()
    def wait_time(self):
        self._next = max(self._next + 1 / PLAN.per_user_rate, time.monotonic() - 1)
        return max(0.0, self._next - time.monotonic())
    @task
    def send(self):
        self.client.post(PLAN.path, data=BODY, headers={"Authorization": AUTH, "Content-Type": "application/json"})
"""


def env() -> dict[str, str]:
    return {**os.environ, "CONFORMANCE_USERNAME": USER, "CONFORMANCE_PASSWORD": PASSWORD}


def start_sandbox(port: int) -> tuple[subprocess.Popen, str, str]:
    command = [sys.executable, "-P", "-m", "conformance", "serve", "push", "--port", str(port), "--tls"]
    command += ["--rate-limit", "1000000000/min"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env())
    base_url = ca = ""
    for line in process.stdout:
        if "reference service at " in line:
            base_url = line.rsplit(" ", 1)[1].strip()
        if "CA certificate: " in line:
            ca = line.split("CA certificate: ", 1)[1].strip()
        if "Ctrl-C" in line:
            break
    return process, base_url, ca


def step(base_url: str, ca: str, config: Path, rate: int, duration: float, work: Path) -> dict[str, float]:
    reports = work / f"r{rate}"
    command = [sys.executable, "-P", "-m", "conformance", "load", "push", "--base-url", base_url, "--ca-bundle", ca]
    command += ["--target-config", str(config), "--rate", f"{rate}/s", "--duration", str(duration), "--workers", "1"]
    command += ["--report-dir", str(reports)]
    subprocess.run(command, env=env(), capture_output=True, text=True, check=False)
    load = json.loads((reports / "push-load.json").read_text(encoding="utf-8"))["load"]
    cpu = load["workers"]["cpu_seconds"]
    sent = load["requests"]["sent"]
    return {
        "asked": rate,
        "sent_per_s": load["achieved_per_minute"] / 60,
        "kept_up": load["generators_kept_up"],
        "cpu_share": cpu / max(load["sending_seconds"], 0.1),
        "per_cpu_second": sent / cpu if cpu else 0.0,
        "p95_ms": load["latency_ms"].get("p95", 0),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bare(base_url: str, rate: int, duration: float, work: Path) -> float:
    """Requests per CPU-second of a bare Locust worker at `rate`, from the start of its test to its end."""
    from conformance.load.plan import LoadPlan

    locustfile = work / "bare_locustfile.py"
    locustfile.write_text(BARE_LOCUSTFILE, encoding="utf-8")
    plan = LoadPlan(base_url, rate * 60, duration, "single", 1, 79216668899, "/push/delivery", 0, 1, 10**9, 10)
    plan = LoadPlan(**{**plan.__dict__, "users": max(1, -(-rate // 20))})
    port = free_port()
    cpu_file = work / "bare_cpu.txt"
    cpu_file.unlink(missing_ok=True)
    run_env = {**env(), "BENCH_PLAN": plan.to_json(), "BENCH_CPU_FILE": str(cpu_file)}
    common = [sys.executable, "-P", "-m", "locust", "-f", str(locustfile)]
    master = subprocess.Popen(
        [
            *common,
            *("--headless", "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)),
            *("--expect-workers", "1", "-u", str(plan.users), "-r", str(plan.users * 10), "-t", f"{int(duration)}s"),
            *("--csv", str(work / "bare")),
        ],
        env=run_env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
        env=run_env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    master.wait(timeout=duration + 60)
    worker.wait(timeout=30)
    rows = (work / "bare_stats.csv").read_text(encoding="utf-8").splitlines()
    total = next(line for line in rows if ",Aggregated," in line)
    requests = int(total.split(",")[2])
    cpu = float(cpu_file.read_text(encoding="utf-8")) if cpu_file.exists() else 0.0
    return requests / cpu if cpu else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    config = work / "target.toml"
    config.write_text(TARGET, encoding="utf-8")
    sandbox, base_url, ca = start_sandbox(free_port())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; sandbox at {base_url}")
    highest, per_cpu, bare_per_cpu = [], [], []
    try:
        for ladder in range(args.repeat):
            best = None
            for rate in LADDER:
                time.sleep(1)
                found = step(base_url, ca, config, rate, args.duration, work / f"ladder{ladder}")
                print(
                    f"  ladder {ladder + 1}: asked {rate}/s, sent {found['sent_per_s']:.0f}/s, "
                    f"worker CPU {found['cpu_share']:.0%}, {found['per_cpu_second']:.0f} requests/CPU-s, "
                    f"p95 {found['p95_ms']} ms" + ("" if found["kept_up"] else "  <- not sustained"),
                    flush=True,
                )
                if not found["kept_up"]:
                    break
                best = found
            highest.append(best["asked"] if best else 0)
            per_cpu.append(best["per_cpu_second"] if best else 0.0)
            bare_per_cpu.append(bare(base_url, highest[-1] or LADDER[0], args.duration, work))
            print(f"  bare Locust at {highest[-1]}/s: {bare_per_cpu[-1]:.0f} requests/CPU-s", flush=True)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    rate, cpu, base = statistics.median(highest), statistics.median(per_cpu), statistics.median(bare_per_cpu)
    print(f"highest rate one worker sustained (median of {args.repeat}): {rate:.0f} messages/s = {rate * 60:,.0f}/min")
    print(
        f"requests per worker CPU-second at that rate: {cpu:.0f} (bare Locust user: {base:.0f}, ratio {cpu / base:.2f})"
    )
    print(f"workers for 1,000,000/min (16,667/s) at that CPU cost: {16667 / cpu:.1f} cores' worth")


if __name__ == "__main__":
    main()
