"""The part of the HTML report a partner reads: the verdict and run facts, the requirement matrix, then every
finding written for people - what was expected and what came back, the exchange, the repro - grouped by
requirement and check with a count. Everything the target sent is escaped, control characters included; long
texts scroll in a box of their own so no row is taller than a screen. Python tracebacks stay in the log."""

from __future__ import annotations

import html
from typing import Any

COLOURS = {
    "pass": "#116329",
    "fail": "#a40e26",
    "warn": "#7d4e00",
    "error": "#953800",
    "not-tested": "#424a53",
    "not-applicable": "#424a53",
    "inconclusive": "#6639ba",
}
EXAMPLES_SHOWN = 3  # findings of one kind shown in full; the rest are counted
GROUPS_SHOWN = 6  # kinds of finding shown per requirement

STYLE = """
.conformance { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; max-width: 1200px; }
.conformance h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.conformance table { border-collapse: collapse; margin: 8px 0; }
.conformance th, .conformance td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; text-align: left; }
.conformance th { background: #f6f8fa; }
.conformance .id { white-space: nowrap; font-family: ui-monospace, monospace; }
.conformance .badge { font-weight: 700; white-space: nowrap; }
.conformance pre { white-space: pre-wrap; word-break: break-all; max-height: 18em; overflow: auto; background: #f6f8fa;
                   border: 1px solid #d0d7de; padding: 6px; margin: 4px 0; font-size: 12px; }
.conformance .finding { border-left: 4px solid #d0d7de; padding: 2px 10px; margin: 10px 0; }
.conformance .finding.fail { border-color: #a40e26; } .conformance .finding.warn { border-color: #7d4e00; }
.conformance .finding.error { border-color: #953800; }
.conformance .muted { color: #424a53; }
"""


def visible(text: str) -> str:
    """Control characters a target sent (ESC, BEL, NUL, C1, bidi overrides...) shown as their escapes, as on the
    terminal: raw, they would hide or garble text in a browser, a text view or a copy-paste."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else c.encode("unicode_escape").decode("ascii") for c in text)


def escape(value: object) -> str:
    """Text for the page: its control characters made visible, then HTML-escaped."""
    return html.escape(visible(str(value)))


def _badge(status: str) -> str:
    colour = COLOURS.get(status, "#424a53")
    return f'<span class="badge" style="color:{colour}">{escape(status.upper())}</span>'


def _anchor(req_id: str) -> str:
    return f"finding-{escape(req_id)}"


def _matrix_row(requirement: dict[str, Any]) -> str:
    findings = requirement.get("findings", [])
    if findings:
        titles = "<br>".join(
            f"{escape(str(g.get('title') or g.get('check')))[:160]} <span class='muted'>×{g.get('count', 1)}</span>"
            for g in findings[:3]
        )
        more = f"<br><span class='muted'>and {len(findings) - 3} more</span>" if len(findings) > 3 else ""
        detail = f'{titles}{more}<br><a href="#{_anchor(requirement["id"])}">details</a>'
    else:
        detail = escape(requirement.get("why_not_tested") or "")
    evidence = f"{len(requirement['tests'])} test(s), {requirement.get('passes', 0)} passing check(s)"
    return (
        f"<tr><td class='id'>{escape(requirement['id'])}</td><td>{escape(requirement['rule'])}</td>"
        f"<td>{escape(requirement['level'])}</td><td>{_badge(requirement['status'])}</td>"
        f"<td class='muted'>{evidence}</td><td>{detail}</td></tr>"
    )


def _message(headers: dict[str, Any], body: str, first_line: str, body_file: str | None) -> str:
    lines = [first_line, *(f"{name}: {value}" for name, value in headers.items()), "", body]
    text = escape("\n".join(lines))
    if body_file:
        text += f"\n<span class='muted'>(shown cut; the whole body: {escape(body_file)})</span>"
    return f"<pre>{text}</pre>"


def exchange_html(exchange: dict[str, Any]) -> str:
    request = exchange["request"]
    parts = [
        _message(request["headers"], request["body"], f"{request['method']} {request['url']}", request.get("body_file"))
    ]
    response = exchange.get("response")
    if response is None:
        parts.append(f"<pre>{escape(exchange.get('note') or 'no answer')}</pre>")
    else:
        parts.append(
            _message(response["headers"], response["body"], f"HTTP {response['status']}", response.get("body_file"))
        )
    return f"<details><summary>request and answer</summary>{''.join(parts)}</details>"


def _known_mark(mark: dict[str, Any] | None) -> str:
    """A finding's standing against the run's baseline: new, known (whose, why, until when) or expired."""
    if not mark:
        return ""
    state = str(mark.get("state"))
    if state == "new":
        return " <span class='badge' style='color:#a40e26'>NEW</span>"
    who = ", ".join(escape(str(mark[k])) for k in ("owner", "reason") if mark.get(k))
    until = f" until {escape(str(mark['expires']))}" if mark.get("expires") else ""
    label = "KNOWN" if state == "known" else "BASELINE ENTRY EXPIRED"
    colour = "#424a53" if state == "known" else "#a40e26"
    return f" <span class='badge' style='color:{colour}'>{label}</span><span class='muted'>{until} ({who})</span>"


def _finding(group: dict[str, Any]) -> str:
    tests = group.get("tests", [])
    shown_tests = ", ".join(escape(t) for t in tests[:EXAMPLES_SHOWN])
    more = f" and {len(tests) - EXAMPLES_SHOWN} more" if len(tests) > EXAMPLES_SHOWN else ""
    reason = escape(str(group.get("reason") or "")[:600])
    key = f" · key <code>{escape(str(group['key']))}</code>" if group.get("key") else ""
    html = (
        f"<div class='finding {escape(group['status'])}'><b>{escape(str(group.get('title') or ''))}</b>"
        f"{_known_mark(group.get('baseline'))} "
        f"<span class='muted'>×{group.get('count', 1)} · {escape(str(group.get('check')))} · {shown_tests}{more}"
        f"{key}</span><p>{reason}</p>"
    )
    exchange = group.get("exchange")
    if exchange:
        html += exchange_html(exchange) + f"<pre>{escape(exchange['curl'])}</pre>"
    return html + "</div>"


def _findings_section(requirements: list[dict[str, Any]]) -> str:
    parts = []
    for requirement in requirements:
        groups = requirement.get("findings", [])
        if not groups or requirement["status"] in ("pass", "not-tested", "not-applicable"):
            continue
        parts.append(
            f"<h3 id='{_anchor(requirement['id'])}'><span class='id'>{escape(requirement['id'])}</span> "
            f"{_badge(requirement['status'])} {escape(requirement['rule'])}</h3>"
        )
        if requirement.get("quote"):
            parts.append(f"<p class='muted'>The documents: “{escape(requirement['quote'])}”</p>")
        parts += [_finding(group) for group in groups[:GROUPS_SHOWN]]
        if len(groups) > GROUPS_SHOWN:
            parts.append(f"<p class='muted'>and {len(groups) - GROUPS_SHOWN} more kinds of finding (in the JSON)</p>")
    return "<h2>Findings</h2>" + ("".join(parts) or "<p>None.</p>")


def _options(options: dict[str, Any]) -> str:
    """The partner's declared options the verdict holds for, one per line; an undeclared one says so."""
    lines = []
    for name, value in options.items():
        shown = (", ".join(value) or "none") if isinstance(value, list) else value
        text = "<i>not declared</i>" if shown is None else f"<code>{escape(str(shown))}</code>"
        lines.append(f"{escape(name)}: {text}")
    return "<br>".join(lines)


def _change_rows(rows: list[tuple[str, dict[str, Any]]]) -> str:
    cells = []
    for state, entry in rows:
        status = entry.get("status") or ""
        if entry.get("old_status") and entry["old_status"] != status:
            status = f"{entry['old_status']} → {status}"
        cells.append(
            f"<tr><td>{escape(state)}</td><td>{escape(status)}</td>"
            f"<td class='id'>{escape(str(entry.get('requirement')))}</td>"
            f"<td>{escape(str(entry.get('operation') or ''))}</td>"
            f"<td>{escape(str(entry.get('test') or entry.get('check') or ''))}</td>"
            f"<td>{escape(str(entry.get('title') or entry.get('signature') or ''))[:200]}</td>"
            f"<td class='id'>{escape(str(entry.get('key')))}</td></tr>"
        )
    head = "<tr><th></th><th>Status</th><th>Id</th><th>Operation</th><th>Check or test</th><th>Finding</th><th>Key</th>"
    return f"<table>{head}</tr>{''.join(cells)}</table>" if cells else "<p>No finding changed.</p>"


def baseline_html(baseline: dict[str, Any]) -> str:
    """The report's section on the baseline the run was given: what is new, known, gone or not seen."""
    counts = baseline.get("counts", {})
    kind = "the verdict of an earlier run" if baseline.get("kind") == "verdict" else "a curated baseline"
    parts = [
        "<h2>Since the baseline</h2>",
        f"<p>Baseline: {escape(str(baseline.get('file')))} ({kind}, sha256 "
        f"<code>{escape(str(baseline.get('sha256', ''))[:12])}</code>): {counts.get('new', 0)} new, "
        f"{counts.get('known', 0)} known, {counts.get('expired', 0)} whose entry expired. A known finding is still "
        "a defect: the verdict above counts it; the release gate decides whether it blocks.</p>",
    ]
    diff = baseline.get("diff")
    if diff is not None:
        if diff["partial"]:
            items = "".join(f"<li>{escape(reason)}</li>" for reason in diff["partial"])
            parts.append(f"<p>The comparison is partial:</p><ul>{items}</ul>")
        labels = (
            ("new_findings", "new"),
            ("still_present", "still present"),
            ("gone", "gone"),
            ("not_seen", "not seen"),
        )
        parts.append(_change_rows([(label, entry) for state, label in labels for entry in diff[state]]))
        if diff["requirements"]:
            changed = "".join(
                f"<li><span class='id'>{escape(r['id'])}</span>: {escape(str(r['old']))} → {escape(str(r['new']))}</li>"
                for r in diff["requirements"]
            )
            parts.append(f"<p>Requirement statuses that changed:</p><ul>{changed}</ul>")
    elif baseline.get("not_found"):
        parts.append("<p>Entries of the baseline this run did not find:</p>")
        parts.append(_change_rows([(str(entry.get("state")), entry) for entry in baseline["not_found"]]))
    parts.append(
        "<p class='muted'>Gone: this run examined the rule with the same check or test and did not find it. "
        "Not seen: this run did not examine it (that is no evidence of a fix).</p>"
    )
    return "".join(parts)


def summary_html(verdict: dict[str, Any]) -> str:
    target = verdict["target"]
    facts = [
        (
            "Verdict",
            _badge(verdict["verdict"])
            + ("<br>" + "<br>".join(escape(r) for r in verdict["reasons"]) if verdict["reasons"] else ""),
        ),
        (
            "Target",
            escape(target["base_url"])
            + (" (embedded reference service)" if target["embedded_reference"] else "")
            + "".join(f" <b>with faulty variant {escape(f)}</b>" for f in target["faulty_variants"]),
        ),
        ("API version claimed", escape(verdict["api_version"])),
        (
            "Spec",
            f"{escape(verdict['spec']['file'])} v{escape(verdict['spec']['version'])}, "
            f"sha256 <code>{escape(verdict['spec']['sha256'])}</code>",
        ),
        ("Suite version", escape(verdict["suite_version"])),
        ("Seed", f"{verdict['seed']} (rerun with <code>--seed {verdict['seed']}</code>)"),
        (
            "Started, duration",
            f"{escape(verdict['started'])}, {verdict['duration_seconds']} s, {verdict['generated_cases']} requests",
        ),
        (
            "Auth failures answered with",
            escape(", ".join(f"{k}: {v}" for k, v in verdict["auth_failure_statuses"].items()) or "-"),
        ),
    ]
    client = verdict.get("client")
    if client:  # a client certification: the sandbox is where the client sent to; nothing was generated
        facts[1] = ("Sandbox", escape(str(client["sandbox"] or target["base_url"])))
        facts[5:] = [
            ("Client", escape(client["client_command"] or "followed the checklist by hand")),
            (
                "Steps",
                "<br>".join(
                    f"{escape(s['id'])}: {escape(s['status'])}"
                    + (f" (exit {s['exit_code']})" if s["exit_code"] is not None else "")
                    for s in client["steps"]
                )
                + (f"<br>{escape(client['ended'])}" if client["ended"] else ""),
            ),
            (
                "Started, duration",
                f"{escape(verdict['started'])}, {verdict['duration_seconds']} s, "
                f"{verdict['exchanges']['answered']} requests from the client",
            ),
        ]
    if verdict.get("options"):  # what the verdict holds for: right under the version claimed
        facts.insert(3, ("Options declared", _options(verdict["options"])))
    if verdict.get("callbacks"):
        callbacks = verdict["callbacks"]
        facts.append(
            (
                "Callbacks",
                f"expected at {escape(callbacks['expected_at'])}: {callbacks['received']} "
                f"received, {callbacks['refused']} refused",
            )
        )
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    counts = ", ".join(f"{n} {status}" for status, n in verdict["counts"].items() if n)
    matrix = "".join(_matrix_row(r) for r in verdict["requirements"])
    decisions = "".join(
        f"<li><b>{escape(str(d.get('ambiguity')))}</b>: {escape(str(d.get('choice')))}</li>"
        for d in verdict["decisions"]
    )
    not_run = "".join(f"<li>{escape(test)}: {escape(why)}</li>" for test, why in verdict["not_run"].items())
    return (
        f"<style>{STYLE}</style><div class='conformance'>"
        f"<h2>Verdict</h2><table>{rows}</table>"
        + (baseline_html(verdict["baseline"]) if verdict.get("baseline") else "")
        + f"<h2>Requirements ({escape(counts)})</h2>"
        "<table><tr><th>Id</th><th>Rule</th><th>Level</th><th>Status</th><th>Evidence</th><th>Findings</th></tr>"
        f"{matrix}</table>"
        + _findings_section(verdict["requirements"])
        + (f"<h2>Not run</h2><ul>{not_run}</ul>" if not_run else "")
        + f"<h2>Choices made where the documents are ambiguous</h2><ul>{decisions}</ul>"
        + "<h2>Every test</h2><p class='muted'>The table below lists each test; the findings above say what "
        "failed. Python tracebacks are in the log next to this report.</p></div>"
    )


def short_failure(reason: str) -> str:
    """What a failed test's row in the table says: the first line of its finding, escaped."""
    first = (reason or "failed").strip().splitlines()[0] if (reason or "").strip() else "failed"
    # pytest-html puts this inside its own log box: plain escaped text, no box of our own (a nested one is
    # positioned out of sight by pytest-html's stylesheet).
    return f"{escape(first[:300])} — see Findings above"


RERUN_COLOURS = {
    "reproducible": "#a40e26",
    "flaky": "#7d4e00",
    "fixed": "#116329",
    "inconclusive": "#6639ba",
    "not replayable": "#424a53",
}


def rerun_html(document: dict[str, Any]) -> str:
    """The page of a rerun: each finding tried again, how it behaved, and every attempt as evidence."""
    of = document["rerun_of"]
    counts = ", ".join(f"{n} {name}" for name, n in document["counts"].items() if n)
    target = document["target"]
    where = escape(str(target.get("base_url"))) + (
        " (embedded reference service" + "".join(f", {escape(f)}" for f in target.get("faulty_variants", [])) + ")"
        if target.get("embedded_reference")
        else ""
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{escape(str(document.get('title')))}: rerun of what failed</title><style>{STYLE}</style></head>",
        "<body><div class='conformance'>",
        f"<h2>Rerun of what failed: {escape(counts)}</h2>",
        f"<p>{escape(document['note'])}</p><table>",
        f"<tr><th>Report</th><td><a href='{escape(of['html'])}'>{escape(of['report'])}</a> (verdict "
        f"{escape(str(of.get('verdict')))}, started {escape(str(of.get('started')))}, sha256 "
        f"<code>{escape(of['sha256'][:12])}</code>)</td></tr>",
        f"<tr><th>Target</th><td>{where}</td></tr>",
        f"<tr><th>Attempts per finding</th><td>{document['times']}</td></tr>",
        f"<tr><th>Started, duration</th><td>{escape(document['started'])}, {document['duration_seconds']} s</td></tr>",
        "</table>",
    ]
    for entry in document["findings"]:
        colour = RERUN_COLOURS.get(entry["classification"], "#424a53")
        key_parts = entry["key_parts"]
        where = escape(str(key_parts.get("operation") or "")) + " " + escape(str(key_parts.get("test") or ""))
        parts.append(
            f"<div class='finding'><b style='color:{colour}'>{escape(entry['classification'].upper())}</b> "
            f"<span class='id'>{escape(entry['requirement'])}</span> {escape(entry['title'])} "
            f"<span class='muted'>· key <code>{escape(entry['key'])}</code> · {where} · {escape(entry['how'])}</span>"
        )
        if entry.get("why"):
            parts.append(f"<p>{escape(entry['why'])}</p>")
        for attempt in entry.get("attempts", []):
            found = "; ".join(f"{f['title']} ({f['key']})" for f in attempt.get("found", [])[:5])
            status = f", HTTP {attempt['status']}" if attempt.get("status") is not None else ""
            parts.append(
                f"<p>Attempt {attempt['attempt']}: <b>{escape(attempt['outcome'])}</b>{status}"
                f"{' · ' + escape(attempt['note']) if attempt.get('note') else ''}"
                f"{' · found: ' + escape(found) if found else ''}</p>"
            )
            if attempt.get("exchange"):
                parts.append(exchange_html(attempt["exchange"]) + f"<pre>{escape(attempt['exchange']['curl'])}</pre>")
        parts.append("</div>")
    parts.append("</div></body></html>")
    return "".join(parts)


__all__ = [
    "COLOURS",
    "STYLE",
    "baseline_html",
    "escape",
    "exchange_html",
    "rerun_html",
    "short_failure",
    "summary_html",
    "visible",
]
