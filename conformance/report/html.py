"""The summary that opens the HTML report: verdict, run facts, the requirement matrix, the spec's decisions."""

from __future__ import annotations

from html import escape
from typing import Any

COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "warn": "#9a6700",
    "error": "#bc4c00",
    "not-tested": "#57606a",
    "not-applicable": "#57606a",
    "inconclusive": "#8250df",
}


def _badge(status: str) -> str:
    colour = COLOURS.get(status, "#57606a")
    return f'<b style="color:{colour}">{escape(status.upper())}</b>'


def _findings_cell(requirement: dict[str, Any]) -> str:
    found = requirement.get("findings", [])
    if not found:
        return escape(requirement.get("why_not_tested") or "")
    lines = [
        f"{escape(g['status'])}: {escape(str(g.get('title') or ''))} <i>(x{g.get('count', 1)}, "
        f"{escape(str(g.get('check') or ''))})</i>"
        for g in found[:4]
    ]
    if len(found) > 4:
        lines.append(f"<i>and {len(found) - 4} more kinds of finding</i>")
    text = "<br>".join(lines)
    exchange = found[0].get("exchange")
    if exchange:
        style = "white-space:pre-wrap;word-break:break-all;max-width:520px;font-size:11px"
        text += f'<pre style="{style}">{escape(exchange["curl"])}</pre>'
    return text


def _tests_cell(requirement: dict[str, Any]) -> str:
    # Failing tests first: they are the ones a reader opens.
    failing = [t for g in requirement.get("findings", []) for t in g["tests"]]
    tests = list(dict.fromkeys(failing + requirement["tests"]))
    shown = "<br>".join(escape(t) for t in tests[:3])
    return shown + (f"<br><i>and {len(tests) - 3} more</i>" if len(tests) > 3 else "")


def summary_html(verdict: dict[str, Any]) -> str:
    facts = [
        (
            "Verdict",
            _badge(verdict["verdict"]) + (" — " + escape("; ".join(verdict["reasons"])) if verdict["reasons"] else ""),
        ),
        (
            "Target",
            escape(verdict["target"]["base_url"])
            + (" (embedded reference service)" if verdict["target"]["embedded_reference"] else "")
            + "".join(f" <b>with faulty variant {escape(f)}</b>" for f in verdict["target"]["faulty_variants"]),
        ),
        ("API version claimed", escape(verdict["api_version"])),
        (
            "Spec",
            f"{escape(verdict['spec']['file'])} v{escape(verdict['spec']['version'])}, "
            f"sha256 <code>{verdict['spec']['sha256']}</code>",
        ),
        ("Suite version", escape(verdict["suite_version"])),
        ("Seed", f"{verdict['seed']} (rerun with <code>--seed {verdict['seed']}</code>)"),
        ("Duration", f"{verdict['duration_seconds']} s, {verdict['generated_cases']} requests"),
        (
            "Auth failures answered with",
            escape(", ".join(f"{k}: {v}" for k, v in verdict["auth_failure_statuses"].items()) or "-"),
        ),
    ]
    rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in facts)
    matrix = "".join(
        f"<tr><td>{escape(r['id'])}</td><td>{escape(r['rule'])}</td><td>{escape(r['level'])}</td>"
        f"<td>{_badge(r['status'])}</td><td style='font-size:11px'>{_tests_cell(r)}</td>"
        f"<td>{_findings_cell(r)}</td></tr>"
        for r in verdict["requirements"]
    )
    counts = ", ".join(f"{n} {status}" for status, n in verdict["counts"].items())
    decisions = "".join(
        f"<li><b>{escape(d['ambiguity'])}</b>: {escape(d['choice'])}</li>" for d in verdict["decisions"]
    )
    not_run = "".join(f"<li>{escape(test)}: {escape(why)}</li>" for test, why in verdict["not_run"].items())
    return (
        f"<h2>Verdict</h2><table>{rows}</table>"
        f"<h2>Requirements ({counts})</h2>"
        "<table border='1' cellpadding='4' style='border-collapse:collapse'>"
        "<tr><th>Id</th><th>Rule</th><th>Level</th><th>Status</th><th>Tests</th><th>Findings</th></tr>"
        f"{matrix}</table>"
        + (f"<h2>Not run</h2><ul>{not_run}</ul>" if not_run else "")
        + f"<h2>Choices made where the documents are ambiguous</h2><ul>{decisions}</ul>"
    )
