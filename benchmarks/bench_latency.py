"""A distant Loyalty service: `conformance run loyalty` at --concurrency 1 and N, against bare `st run`.

The reference Loyalty service (HTTPS, cheroot) sits behind a TCP proxy on 127.0.0.1 that delivers every chunk
the client sends --delay seconds late (benchmarks/latency_proxy.py), as a partner's service reached over the
internet would answer. Each command runs in a fresh interpreter, in turn, with the same spec, server, example
budget and seed; bare schemathesis runs in a scratch directory with one worker. Prints the median wall time of
--repeat runs, the requests each sent, and the ratios.

    python benchmarks/bench_latency.py [--delay 0.05] [--concurrency 4] [--max-examples 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from urllib.parse import urlsplit

from latency_proxy import LatencyProxy
from timing import PASSWORD, USER, Bench, requests_sent, timed

from conformance.fixtures.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added to every request (default 0.05)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bench = Bench.loyalty("bench-latency-")
    profile, spec, env, work, st = bench.profile, bench.spec, bench.env, bench.work, bench.st
    budget = ["--max-examples", str(args.max_examples), "--seed", str(args.seed)]
    with serve(profile.reference_app((USER, PASSWORD))) as server:
        upstream = urlsplit(server.base_url)
        with LatencyProxy((upstream.hostname, upstream.port), args.delay) as proxy:
            url = f"https://127.0.0.1:{proxy.port}{upstream.path}"

            def conformance(concurrency: int) -> list[str]:
                return [
                    *(sys.executable, "-P", "-m", "conformance", "run", "loyalty", "--base-url", url),
                    *("--ca-bundle", server.ca_bundle, "--reference-data", *budget, "--concurrency", str(concurrency)),
                    *("--report-dir", str(work / f"conformance-{concurrency}")),
                ]

            commands = {
                "conformance --concurrency 1": conformance(1),
                f"conformance --concurrency {args.concurrency}": conformance(args.concurrency),
                "st run --workers 1": [
                    *(st, "run", spec, "--url", url, "--auth", f"{USER}:{PASSWORD}"),
                    *("--tls-verify", server.ca_bundle, *budget, "--workers", "1"),
                ],
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            sent: dict[str, set[str]] = {name: set() for name in commands}
            for _ in range(args.repeat):
                for name, command in commands.items():  # interleaved, so drift hits each alike
                    seconds, code, output = timed(command, env, work)
                    if name.startswith("conformance") and code != 0:
                        sys.exit(f"{name} exited {code}: the reference service should pass\n{output[-2000:]}")
                    times[name].append(seconds)
                    sent[name].add(requests_sent(output))
    shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"reference Loyalty service behind {args.delay * 1000:g} ms of latency, --max-examples {args.max_examples}, "
        f"seed {args.seed}, {os.cpu_count()} cores, median of {args.repeat}"
    )
    for name, value in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        count = "/".join(sorted(sent[name]))
        print(f"  {name:28} {value:6.2f} s   {count:>5} requests (st: cases)   (runs: {runs})")
    one, many, bare = medians.values()
    print(f"  ratio --concurrency {args.concurrency} / --concurrency 1: {many / one:5.2f}")
    print(f"  ratio --concurrency {args.concurrency} / st run:          {many / bare:5.2f}")
    print(f"  ratio --concurrency 1 / st run:          {one / bare:5.2f}")


if __name__ == "__main__":
    main()
