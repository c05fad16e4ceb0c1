"""DIR/index.html for `conformance run all`: one line per suite with its verdict and links to its reports."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from .html import COLOURS


def write_index(report_dir: Path, apis: list[str], exit_codes: dict[str, int]) -> Path:
    rows = []
    for api in apis:
        try:
            verdict = json.loads((report_dir / f"{api}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verdict = None
        if verdict is None:
            status, title, counts = "error", api, f"no verdict (exit code {exit_codes.get(api)})"
        else:
            status, title = verdict["verdict"], f"{verdict['title']} {verdict['api_version']}"
            counts = ", ".join(f"{n} {name}" for name, n in verdict["counts"].items())
        links = " · ".join(
            f'<a href="{api}.{kind}">{label}</a>'
            for kind, label in (("html", "report"), ("json", "verdict JSON"), ("junit.xml", "JUnit XML"))
            if (report_dir / f"{api}.{kind}").exists()
        )
        colour = COLOURS.get(status, COLOURS["fail"])
        rows.append(
            f"<tr><td>{escape(title)}</td><td><b style='color:{colour}'>{escape(status.upper())}</b></td>"
            f"<td>{escape(counts)}</td><td>{links}</td></tr>"
        )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Conformance runs</title></head><body>"
        "<h1>Conformance runs</h1><table border='1' cellpadding='6' style='border-collapse:collapse'>"
        "<tr><th>API</th><th>Verdict</th><th>Requirements</th><th>Reports</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    path = report_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
