"""The reports of a load run: the verdict JSON (the shape `conformance run` writes, plus a `load` member, so the
release gate reads it as it reads any verdict) and one self-contained HTML page with two small inline SVG charts.

Everything the target sent reaches these reports masked (the command masks the samples before they get here) and
is escaped here; the charts are numbers only.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from .. import __version__
from ..judge import Verdict
from ..report.html import COLOURS, STYLE, _badge, _findings_section, _matrix_row
from ..report.verdict_json import requirement_entries
from .judging import Stop
from .measurement import Measurement
from .plan import per_minute_text

CHART_WIDTH, CHART_HEIGHT, MARGIN = 720, 180, 44
ACCEPTED, REFUSED, FAILED, LIMIT = COLOURS["pass"], COLOURS["inconclusive"], COLOURS["error"], COLOURS["fail"]


def document(
    *,
    verdict: Verdict,
    measurement: Measurement,
    stop: Stop,
    profile: Any,
    base_url: str,
    embedded: bool,
    faults: tuple[str, ...],
    target_config: dict[str, Any],
    started: float,
    duration: float,
    out_of_reach: dict[str, str],
    leaks: list[str] | None = None,
) -> dict[str, Any]:
    requirements = requirement_entries(verdict)
    return {
        "verdict": verdict.verdict,
        "reasons": verdict.reasons,
        "exit_code": verdict.exit_code,
        "api": profile.name,
        "kind": "load",  # `conformance load`: the rate limit at scale, not a conformance run
        "party": "service",
        "title": profile.spec["info"]["title"],
        "target": {"base_url": base_url, "embedded_reference": embedded, "faulty_variants": list(faults)},
        "api_version": profile.spec_version,
        "spec": {"file": profile.spec_file, "version": profile.spec_version, "sha256": profile.spec_sha256},
        "target_config": target_config,
        "suite_version": __version__,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_seconds": round(duration, 1),
        "exchanges": {
            "answered": measurement.answered,
            "unanswered": {"no answer": measurement.sent - measurement.answered}
            if measurement.sent > measurement.answered
            else {},
            "not_sent": {},
        },
        "not_applicable": [],
        "out_of_reach": out_of_reach,
        "leaks": list(leaks or []),
        "decisions": [d for d in profile.decisions if d.get("ambiguity") == "A-9"],
        "counts": verdict.counts(),
        "requirements": requirements,
        "load": {**measurement.describe(), "stopped": stop.sentence, "cut_short": stop.cut_short},
    }


# --- the charts ------------------------------------------------------------------------------------------------------


def _scale(top: float) -> float:
    """A round top for an axis."""
    if top <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        if top <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def rate_chart(per_second: list[dict[str, int]], limit_per_second: float) -> str:
    """Stacked bars, one a second: messages accepted, refused, and failed (5xx, other answers, none)."""
    if not per_second:
        return "<p class='muted'>No request was sent.</p>"
    top = _scale(max(max(s["accepted"] + s["refused"] + s["failed"] for s in per_second), limit_per_second))
    inner_w, inner_h = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * 20
    width = inner_w / len(per_second)
    parts = []
    for index, second in enumerate(per_second):
        x, base = MARGIN + index * width, CHART_HEIGHT - 20
        for value, colour in ((second["accepted"], ACCEPTED), (second["refused"], REFUSED), (second["failed"], FAILED)):
            height = inner_h * value / top
            if height > 0:
                base -= height
                parts.append(
                    f"<rect x='{x:.1f}' y='{base:.1f}' width='{max(width - 1, 0.5):.1f}' height='{height:.1f}' "
                    f"fill='{colour}'/>"
                )
    y_limit = CHART_HEIGHT - 20 - inner_h * limit_per_second / top
    parts.append(
        f"<line x1='{MARGIN}' x2='{CHART_WIDTH - MARGIN}' y1='{y_limit:.1f}' y2='{y_limit:.1f}' stroke='{LIMIT}' "
        "stroke-dasharray='4 3'/>"
        f"<text x='{CHART_WIDTH - MARGIN + 2}' y='{y_limit + 4:.1f}' font-size='10' fill='{LIMIT}'>limit's pace</text>"
    )
    return _frame(parts, top, len(per_second), "messages a second", "accepted, refused, failed")


def window_chart(accepted_in_last_minute: list[int], limit: int) -> str:
    """Messages accepted in the minute up to each second, against the limit."""
    if not accepted_in_last_minute:
        return ""
    top = _scale(max(max(accepted_in_last_minute), limit) * 1.05)
    inner_w, inner_h = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * 20
    step = inner_w / max(len(accepted_in_last_minute) - 1, 1)
    points = " ".join(
        f"{MARGIN + i * step:.1f},{CHART_HEIGHT - 20 - inner_h * v / top:.1f}"
        for i, v in enumerate(accepted_in_last_minute)
    )
    y_limit = CHART_HEIGHT - 20 - inner_h * limit / top
    parts = [
        f"<polyline points='{points}' fill='none' stroke='{ACCEPTED}' stroke-width='2'/>",
        f"<line x1='{MARGIN}' x2='{CHART_WIDTH - MARGIN}' y1='{y_limit:.1f}' y2='{y_limit:.1f}' stroke='{LIMIT}' "
        "stroke-dasharray='4 3'/>",
        f"<text x='{CHART_WIDTH - MARGIN + 2}' y='{y_limit + 4:.1f}' font-size='10' fill='{LIMIT}'>limit</text>",
    ]
    return _frame(parts, top, len(accepted_in_last_minute), "accepted in the last minute", "")


def _frame(parts: list[str], top: float, seconds: int, y_label: str, legend: str) -> str:
    bottom = CHART_HEIGHT - 20
    axes = (
        f"<line x1='{MARGIN}' x2='{MARGIN}' y1='20' y2='{bottom}' stroke='#424a53'/>"
        f"<line x1='{MARGIN}' x2='{CHART_WIDTH - MARGIN}' y1='{bottom}' y2='{bottom}' stroke='#424a53'/>"
        f"<text x='{MARGIN - 4}' y='24' font-size='10' text-anchor='end'>{top:,.0f}</text>"
        f"<text x='{MARGIN - 4}' y='{bottom}' font-size='10' text-anchor='end'>0</text>"
        f"<text x='{MARGIN}' y='12' font-size='11'>{escape(y_label)}</text>"
        f"<text x='{CHART_WIDTH - MARGIN}' y='{CHART_HEIGHT - 4}' font-size='10' text-anchor='end'>{seconds} s</text>"
    )
    if legend:
        axes += (
            f"<text x='{MARGIN + 180}' y='12' font-size='11'><tspan fill='{ACCEPTED}'>■ accepted</tspan> "
            f"<tspan fill='{REFUSED}'>■ refused</tspan> <tspan fill='{FAILED}'>■ failed</tspan></text>"
        )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{CHART_WIDTH}' height='{CHART_HEIGHT}' role='img' "
        f"aria-label='{escape(y_label)}'>{axes}{''.join(parts)}</svg>"
    )


# --- the page ------------------------------------------------------------------------------------------------------


def page(doc: dict[str, Any], samples: dict[str, dict[str, Any]]) -> str:
    load = doc["load"]
    target = doc["target"]
    requests = load["requests"]
    latency = ", ".join(f"{name} {ms} ms" for name, ms in load["latency_ms"].items()) or "-"
    facts = [
        ("Verdict", _badge(doc["verdict"]) + "".join(f"<br>{escape(r)}" for r in doc["reasons"])),
        (
            "Target",
            escape(target["base_url"])
            + (" (embedded sandbox)" if target["embedded_reference"] else "")
            + "".join(f" <b>with faulty variant {escape(f)}</b>" for f in target["faulty_variants"]),
        ),
        (
            "Limit",
            f"{load['limit_per_minute']:,} messages a minute ({escape(load['limit_source'])}), "
            f"tolerance ±{load['tolerance']:,}",
        ),
        (
            "Rate",
            f"asked {escape(per_minute_text(load['asked_per_minute']))}, sent "
            f"{escape(per_minute_text(load['achieved_per_minute']))}"
            + ("" if load["generators_kept_up"] else " <b>(the generators did not keep up)</b>"),
        ),
        (
            "Sends",
            f"{escape(load['mode'])}, {load['recipients_per_request']:,} message(s) a request; "
            f"{load['workers']['expected']} generator(s), {load['users']} simulated user(s)",
        ),
        ("Counting that held", escape(load["counting"])),
        ("Stopped", escape(load["stopped"])),
        (
            "Started, duration",
            f"{escape(doc['started'])}, {doc['duration_seconds']} s ({load['sending_seconds']} s sending)",
        ),
        (
            "Requests",
            f"{requests['sent']:,} sent: {requests['accepted']:,} accepted ({load['messages_accepted']:,} messages), "
            f"{requests['refused']:,} refused ({requests['refused_with_retry_after']:,} with Retry-After), "
            f"{requests['server_errors']:,} 5xx, {requests['other_answers']:,} other, "
            f"{requests['unanswered']:,} unanswered, {requests['not_registered']:,} not registered",
        ),
        ("Statuses", escape(", ".join(f"{s}: {n:,}" for s, n in sorted(load["statuses"].items())) or "-")),
        ("Latency", escape(latency)),
    ]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    matrix = "".join(_matrix_row(r) for r in doc["requirements"])
    shown_samples = "".join(
        f"<h3>First {escape(kind)} answer</h3><pre>{escape(_sample_text(sample))}</pre>"
        for kind, sample in samples.items()
    )
    limit_per_second = load["limit_per_minute"] / 60
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(doc['title'])}: rate limit under load</title><style>{STYLE}</style></head><body>"
        f"<div class='conformance'><h1>{escape(doc['title'])}: the rate limit under load</h1>"
        f"<h2>Verdict</h2><table>{rows}</table>"
        "<h2>Rate and refusals over time</h2>"
        + rate_chart(load["per_second"], limit_per_second)
        + window_chart(load["accepted_in_last_minute"], load["limit_per_minute"])
        + "<h2>Requirements</h2>"
        "<table><tr><th>Id</th><th>Rule</th><th>Level</th><th>Status</th><th>Evidence</th><th>Findings</th></tr>"
        f"{matrix}</table>"
        + _findings_section(doc["requirements"])
        + (f"<h2>What the host answered</h2>{shown_samples}" if shown_samples else "")
        + "</div></body></html>"
    )


def _sample_text(sample: dict[str, Any]) -> str:
    status = sample.get("status")
    lines = [f"HTTP {status}" if status is not None else f"no answer ({sample.get('note') or 'unknown'})"]
    lines += [f"{name}: {value}" for name, value in (sample.get("headers") or {}).items()]
    lines += ["", str(sample.get("body") or "") + (" …(cut)" if sample.get("cut") else "")]
    return "\n".join(lines)
