"""Wall time of a partner's fix loop: `conformance rerun REPORT --times 3` against the full run that wrote REPORT.

One faulty Loyalty service (HTTPS on 127.0.0.1, cheroot) with a defect that checks find on every operation
(`missing-charset`) and one only a test's own assertion finds (`and-semantics`): the rerun replays the exchanges
of the first kind and runs the test of the second again. Each command runs in a fresh interpreter, as a user
would start it; prints the median of --repeat runs of each and their ratio.

    python benchmarks/bench_rerun.py [--max-examples 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys

from timing import PASSWORD, USER, Bench, timed

from conformance.fixtures.server import serve

FAULTS = ("missing-charset", "and-semantics")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--times", type=int, default=3)
    args = parser.parse_args()

    bench = Bench.loyalty("bench-rerun-")
    profile, env, work = bench.profile, bench.env, bench.work
    conformance = [sys.executable, "-P", "-m", "conformance"]
    with serve(profile.reference_app((USER, PASSWORD), FAULTS)) as server:
        target = ["--base-url", server.base_url, "--ca-bundle", server.ca_bundle]
        full = [*conformance, "run", "loyalty", *target, "--max-examples", str(args.max_examples), "--seed", "1"]
        rerun = [*conformance, "rerun", str(work / "run" / "loyalty.json"), "--times", str(args.times)]
        rerun += ["--ca-bundle", server.ca_bundle, "--report-dir", str(work / "rerun")]
        runs, reruns = [], []
        for _ in range(args.repeat):
            seconds, code, output = timed([*full, "--report-dir", str(work / "run")], env, work)
            assert code == 1, output
            runs.append(seconds)
            seconds, code, output = timed(rerun, env, work)
            assert code == 1, output
            reruns.append(seconds)
        document = json.loads((work / "rerun" / "loyalty.rerun.json").read_text(encoding="utf-8"))
    shutil.rmtree(work, ignore_errors=True)
    findings = document["findings"]
    kinds = {how: sum(1 for f in findings if f["how"] == how) for how in ("exchange replayed", "test run again")}
    run_median, rerun_median = statistics.median(runs), statistics.median(reruns)
    print(f"full run, --max-examples {args.max_examples}: median {run_median:.1f} s of {[round(s, 1) for s in runs]}")
    print(
        f"rerun --times {args.times} of its {len(findings)} failing findings ({kinds['exchange replayed']} replayed, "
        f"{kinds['test run again']} by their test): median {rerun_median:.1f} s of {[round(s, 1) for s in reruns]}"
    )
    print(f"ratio rerun / full run: {rerun_median / run_median:.2f}")


if __name__ == "__main__":
    main()
