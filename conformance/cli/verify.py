"""`conformance verify BUNDLE`: is the evidence bundle intact, and if not, which file changed."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..report.bundle import KEY_ENV, verify_bundle
from .common import EXIT_FAIL, EXIT_PASS, UsageError


def add_parser(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser("verify", help="check an evidence bundle: says which file was changed")
    verify.add_argument("bundle", help="an API-evidence.zip written by `conformance run --bundle`")


def command(args: argparse.Namespace) -> int:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise UsageError(f"set {KEY_ENV} to the key the bundle was signed with")
    problems = verify_bundle(Path(args.bundle), key)
    if not problems:
        print(f"{args.bundle}: intact: every file matches the signed manifest")
        return EXIT_PASS
    print(f"{args.bundle}: NOT intact")
    for problem in problems:
        print(f"  {problem}")
    return EXIT_FAIL
