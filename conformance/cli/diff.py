"""`conformance diff OLD.json NEW.json [--json]`: what changed between two verdicts of one API.

Exit 0 when NEW has no new failure, 1 when it has (a finding failing or erroring that OLD did not have, or had
only as a warning), 2 for a file that is not a verdict or two verdicts that cannot be compared.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..diff import NotComparable, compare
from .common import EXIT_FAIL, EXIT_PASS, UsageError, printable
from .gate import read_verdict

COLUMNS = (("status", 6), ("requirement", 12), ("operation", 34), ("check or test", 44), ("signature", 44))
STATES = (
    ("new_findings", "new"),
    ("still_present", "still present"),
    ("gone", "gone"),
    ("not_seen", "not seen"),
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff", help="compare two verdicts of one API: findings new, still present, gone, not seen (exit 1: new)"
    )
    diff.add_argument("old", help="the earlier verdict JSON (e.g. the last release's)")
    diff.add_argument("new", help="the later verdict JSON")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")


def command(args: argparse.Namespace) -> int:
    old, new = read_verdict(args.old), read_verdict(args.new)
    try:
        changes = compare(old, new)
    except NotComparable as exc:
        raise UsageError(f"cannot compare {args.old} and {args.new}: {exc}") from None
    if args.json:
        print(json.dumps(changes, ensure_ascii=True, indent=2))  # ASCII: no target text can reach a terminal raw
    else:
        for line in render(changes, args.old, args.new):
            print(printable(line))
    return EXIT_FAIL if changes["new_failures"] else EXIT_PASS


def _cell(text: Any, width: int) -> str:
    text = " ".join(str(text or "-").split())
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


def finding_row(state: str, entry: dict[str, Any]) -> str:
    status = (
        entry["status"]
        if "old_status" not in entry or entry["old_status"] == entry["status"]
        else (f"{entry['old_status']}>{entry['status']}")
    )
    values = {
        "status": status,
        "requirement": entry.get("requirement"),
        "operation": entry.get("operation"),
        "check or test": entry.get("test") or entry.get("check"),
        "signature": entry.get("signature") or entry.get("title"),
    }
    cells = [_cell(state, 13), *(_cell(values[name], width) for name, width in COLUMNS)]
    return "  " + " ".join(cells) + " " + str(entry.get("key"))


def render(changes: dict[str, Any], old_path: str, new_path: str) -> list[str]:
    old, new = changes["old"], changes["new"]
    lines = [f"conformance diff: {changes['api']}"]
    for name, path, facts in (("OLD", old_path, old), ("NEW", new_path, new)):
        lines.append(
            f"  {name} {path}: {facts['verdict']}, started {facts['started']}, seed {facts['seed']}, "
            f"suite {facts['suite_version']}"
        )
    for reason in changes["partial"]:
        lines.append(f"  partial: {reason}")
    rows = [finding_row(label, entry) for state, label in STATES for entry in changes[state]]
    if rows:
        header = [_cell("", 13), *(_cell(name, width) for name, width in COLUMNS)]
        lines += ["", "  " + " ".join(header) + " key", *rows]
    if changes["requirements"]:
        lines.append("")
        lines += [f"  {r['id']}: {r['old'] or 'absent'} -> {r['new'] or 'absent'}" for r in changes["requirements"]]
    counts = ", ".join(f"{len(changes[state])} {label}" for state, label in STATES)
    failures = changes["new_failures"]
    lines += ["", f"  {counts}; {failures} new failure{'s' if failures != 1 else ''}"]
    return lines
