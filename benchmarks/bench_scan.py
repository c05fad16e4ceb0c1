"""CPU time of the end-of-run leak scan: the reports of a faulty Loyalty run, read through every view.

A run against the embedded reference with a defect that every operation's answers show (`missing-charset`) writes
reports that quote many answers; the scan then reads each report (HTML, JUnit, JSON, log) through every view
(`conformance.report.views`). Prints, for each report, its size, its views and their characters, and the median of
--repeat scans of it; then the whole scan's median.

    python benchmarks/bench_scan.py [--fault missing-charset] [--repeat 3]

To set it against other code, run it from another checkout's interpreter (e.g. `PYTHONPATH=../old python ...`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

from conformance.cli import main as conformance
from conformance.report import leaks
from conformance.report.views import views

PASSWORD = "bench-scan-password-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", default="missing-charset")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    os.environ.update(CONFORMANCE_USERNAME="bench", CONFORMANCE_PASSWORD=PASSWORD)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as work:
        reports = Path(work)
        run = ["run", "loyalty", "--fault", args.fault, "--max-examples", "5", "--seed", "1", "--report-dir", work]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            conformance(run)
        finder = leaks.finder([PASSWORD], [("bench", PASSWORD)])
        paths = sorted(path for path in reports.glob("loyalty.*") if path.is_file())
        total = []
        for _ in range(args.repeat):
            started = time.process_time()
            leaks.scan(paths, finder)
            total.append(time.process_time() - started)
        for path in paths:
            text = path.read_bytes().decode("latin-1")
            seen = list(views(text))
            seconds = []
            for _ in range(args.repeat):
                started = time.process_time()
                leaks.scan([path], finder)
                seconds.append(time.process_time() - started)
            print(
                f"{path.name:20} {path.stat().st_size:>9,} bytes  {len(seen):>5} views  "
                f"{sum(len(view.text) for view in seen):>11,} characters  {statistics.median(seconds):.3f} s"
            )
        print(f"the whole scan: {statistics.median(total):.3f} s of CPU (median of {args.repeat})")


if __name__ == "__main__":
    main()
