"""`conformance gate REPORTS... [--policy FILE]`: does each verdict meet the release policy."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from ..gate import Policy, decide
from .common import EXIT_FAIL, EXIT_PASS, UsageError, printable


def add_parser(commands: argparse._SubParsersAction) -> None:
    gate = commands.add_parser("gate", help="decide whether verdicts meet a release policy (exit 0 if all do)")
    gate.add_argument("reports", nargs="+", help="verdict JSON files written by `conformance run`")
    gate.add_argument("--policy", help="policy TOML: allow_warnings, allow_inconclusive, [[waivers]], ...")


def read_verdict(path: str) -> dict:
    try:
        verdict = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        verdict = None
    if not isinstance(verdict, dict) or not {"api", "verdict", "requirements"} <= verdict.keys():
        raise UsageError(f"{path} is not a verdict written by `conformance run`")
    return verdict


def command(args: argparse.Namespace) -> int:
    policy = Policy.load(args.policy)
    decisions = [decide(read_verdict(report), policy, dt.date.today()) for report in args.reports]
    for decision in decisions:
        print(f"{decision.api}: {'meets the policy' if decision.passes else 'BLOCKED'} ({policy.source})")
        for line in decision.blocking:  # findings' titles and reasons quote what a target sent
            print(printable(f"  blocks: {line}"))
        for line in decision.notes:
            print(printable(f"  note: {line}"))
    return EXIT_PASS if all(decision.passes for decision in decisions) else EXIT_FAIL
