"""DIR/index.html for `conformance run all`: this invocation's runs only, one line each, and the overall verdict."""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path

from .. import __version__
from .html import STYLE, _badge

SEVERITY = ["error", "fail", "inconclusive", "pass"]  # the overall verdict is the most serious one


def write_index(report_dir: Path, apis: list[str], exit_codes: dict[str, int]) -> Path:
    rows, verdicts, seeds = [], [], set()
    for api in apis:
        try:
            verdict = json.loads((report_dir / f"{api}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verdict = None
        if verdict is None:
            status, title, counts = "error", api, f"no verdict (exit code {exit_codes.get(api)})"
            duration = ""
        else:
            status, title = verdict["verdict"], f"{verdict['title']} {verdict.get('api_version', '')}"
            counts = ", ".join(f"{n} {name}" for name, n in verdict.get("counts", {}).items() if n)
            duration = f"{verdict.get('duration_seconds', '')} s"
            seeds.add(str(verdict.get("seed")))
        verdicts.append(status)
        links = " · ".join(
            f'<a href="{escape(api)}.{kind}">{label}</a>'
            for kind, label in (
                ("html", "report"),
                ("json", "verdict JSON"),
                ("junit.xml", "JUnit XML"),
                ("certificate.html", "certificate"),  # a signed run (`--attest`)
            )
            if (report_dir / f"{api}.{kind}").exists()
        )
        rows.append(
            f"<tr><td>{escape(title)}</td><td>{_badge(status)}</td><td>{escape(counts)}</td>"
            f"<td>{escape(duration)}</td><td>{links}</td></tr>"
        )
    overall = min(verdicts, key=lambda v: SEVERITY.index(v) if v in SEVERITY else 0) if verdicts else "error"
    facts = (
        f"<tr><th>Overall verdict</th><td>{_badge(overall)}</td></tr>"
        f"<tr><th>Date</th><td>{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}</td></tr>"
        f"<tr><th>Seed</th><td>{escape(', '.join(sorted(seeds)) or '-')}</td></tr>"
        f"<tr><th>Suite version</th><td>{escape(__version__)}</td></tr>"
    )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Conformance runs</title>"
        f"<style>{STYLE}</style></head><body><div class='conformance'>"
        f"<h1>Conformance runs</h1><table>{facts}</table>"
        "<h2>Runs of this invocation</h2>"
        "<table><tr><th>API</th><th>Verdict</th><th>Requirements</th><th>Duration</th><th>Reports</th></tr>"
        + "".join(rows)
        + "</table></div></body></html>"
    )
    path = report_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
