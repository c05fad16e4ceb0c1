"""Wall time of a full `conformance run loyalty` against bare schemathesis (`st run`) on the same spec and server.

Both tools hit one reference Loyalty service (HTTPS on 127.0.0.1, cheroot), with the same example budget and
seed, each run in a fresh interpreter as a user would start it. Prints the median of --repeat runs and the
ratio conformance / schemathesis. Bare schemathesis runs only its default checks on the generated cases; the
suite adds its own checks, the hand-written probes (auth, search semantics, stateful flow) and three reports.

    python benchmarks/bench_loyalty.py [--max-examples 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys

from timing import PASSWORD, USER, Bench, requests_sent, timed

from conformance.fixtures.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bench = Bench.loyalty("bench-")
    profile, spec, env, work, st = bench.profile, bench.spec, bench.env, bench.work, bench.st
    with serve(profile.reference_app((USER, PASSWORD))) as server:
        commands = {
            "conformance run loyalty": [
                sys.executable,
                "-P",
                "-m",
                "conformance",
                "run",
                "loyalty",
                "--base-url",
                server.base_url,
                "--ca-bundle",
                server.ca_bundle,
                "--reference-data",
                "--max-examples",
                str(args.max_examples),
                "--seed",
                str(args.seed),
                "--report-dir",
                str(work / "conformance"),
            ],
            "st run (bare schemathesis)": [
                st,
                "run",
                spec,
                "--url",
                server.base_url,
                "--auth",
                f"{USER}:{PASSWORD}",
                "--tls-verify",
                server.ca_bundle,
                "--max-examples",
                str(args.max_examples),
                "--seed",
                str(args.seed),
                "--report-dir",
                str(work / "st"),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        requests: dict[str, str] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():  # interleaved, so drift hits both alike
                seconds, code, stdout = timed(command, env, work)
                times[name].append(seconds)
                if name.startswith("conformance") and code != 0:
                    sys.exit(f"{name} exited {code}: the reference service should pass")
                requests[name] = requests_sent(stdout)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"reference Loyalty service, HTTPS on 127.0.0.1, --max-examples {args.max_examples}, seed {args.seed}, "
        f"median of {args.repeat}"
    )
    for name, value in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"  {name:30} {value:6.2f} s   {requests[name]:>4} requests/cases   (runs: {runs})")
    suite, bare = medians["conformance run loyalty"], medians["st run (bare schemathesis)"]
    print(f"  ratio conformance / st run:    {suite / bare:6.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
