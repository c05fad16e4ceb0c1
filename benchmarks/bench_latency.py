"""A distant Loyalty service: `conformance run loyalty` at --concurrency 1 and auto, against bare `st run` with 1 and
4 workers, each as a fraction of the sequential waiting (the requests of a one-at-a-time run times the latency).

The reference Loyalty service (HTTPS, cheroot with 32 threads, as a service serving many clients) sits behind a TCP
proxy on 127.0.0.1 that delivers every chunk the client sends --delay seconds late (conformance.fixtures.latency), as
a partner's service reached over the internet would answer. For each delay, each command runs in a fresh
interpreter, in turn (interleaved, so that drift hits each alike), with the same spec, server, example budget and
seed; bare schemathesis runs in a scratch directory. Prints the median wall time of --repeat runs, the requests each
sent (`st run`: the cases it generated), and the ratio to the sequential waiting.

    python benchmarks/bench_latency.py [--delays 0.05 0.2] [--max-examples 25] [--repeat 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit

from timing import PASSWORD, USER, Bench, requests_sent, timed

from conformance.fixtures.latency import LatencyProxy
from conformance.fixtures.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", type=float, nargs="+", default=[0.05, 0.2], help="seconds added to each request")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bench = Bench.loyalty("bench-latency-")
    print(f"machine: {machine()}; load average before: {load()}")
    print(f"reference Loyalty service, --max-examples {args.max_examples}, seed {args.seed}, median of {args.repeat}")
    try:
        for delay in args.delays:
            measure(bench, delay, args)
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    print(f"load average after: {load()}")


def measure(bench: Bench, delay: float, args: argparse.Namespace) -> None:
    budget = ["--max-examples", str(args.max_examples), "--seed", str(args.seed)]
    with serve(bench.profile.reference_app((USER, PASSWORD)), threads=32) as server:
        upstream = urlsplit(server.base_url)
        with LatencyProxy((upstream.hostname or "127.0.0.1", upstream.port or 443), delay) as proxy:
            url = f"https://127.0.0.1:{proxy.port}{upstream.path}"

            def conformance(concurrency: str) -> list[str]:
                return [
                    *(sys.executable, "-P", "-m", "conformance", "run", "loyalty", "--base-url", url),
                    *("--ca-bundle", server.ca_bundle or "", "--reference-data", *budget),
                    *("--concurrency", concurrency, "--report-dir", str(bench.work / f"conformance-{concurrency}")),
                ]

            def st_run(workers: int) -> list[str]:
                return [
                    *(bench.st, "run", bench.spec, "--url", url, "--auth", f"{USER}:{PASSWORD}"),
                    *("--tls-verify", server.ca_bundle or "", *budget, "--workers", str(workers)),
                ]

            commands = {
                "conformance --concurrency 1": conformance("1"),
                "conformance --concurrency auto": conformance("auto"),
                "st run --workers 1": st_run(1),
                "st run --workers 4": st_run(4),
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            sent: dict[str, set[str]] = {name: set() for name in commands}
            notes: dict[str, str] = {}
            for _ in range(args.repeat):
                for name, command in commands.items():
                    seconds, code, output = timed(command, bench.env, Path(bench.work))
                    if name.startswith("conformance") and code != 0:
                        sys.exit(f"{name} exited {code}: the reference service should pass\n{output[-2000:]}")
                    times[name].append(seconds)
                    sent[name].add(requests_sent(output))
                    notes[name] = sized(output)
    medians = {name: statistics.median(values) for name, values in times.items()}
    requests = int(min(sent["conformance --concurrency 1"], key=int))
    waiting = requests * delay
    print(f"\n{delay * 1000:g} ms of latency: {requests} requests one at a time, {waiting:.1f} s of sequential waiting")
    for name, value in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        count = "/".join(sorted(sent[name]))
        note = f"  [{notes[name]}]" if notes[name] else ""
        print(f"  {name:31} {value:6.2f} s  {value / waiting:5.2f}x   {count:>5} requests/cases  (runs: {runs}){note}")


def sized(output: str) -> str:
    """What `--concurrency auto` chose, as the run said it."""
    for line in output.splitlines():
        if "requests at a time" in line or "one request at a time" in line:
            return line.split(", ", 1)[-1].removesuffix(" ...")
    return ""


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kib = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
        model += f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{model}, {os.cpu_count()} cores"


def load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
