"""`conformance init API [FILE]`: write the commented target config template of an API, to fill in.

The template is the reference service's own target config, shipped in the package: it passes against the
reference as it stands, and its comments say which options to declare and which identities a full certification
needs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..profiles import PROFILES, get_profile
from .common import EXIT_PASS, UsageError


def add_parser(commands: argparse._SubParsersAction) -> None:
    init = commands.add_parser("init", help="write the commented target config template of an API, to fill in")
    init.add_argument("api", choices=sorted(PROFILES), help="the API whose template to write")
    init.add_argument("file", nargs="?", help="where to write it (default: API-target.toml)")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def command(args: argparse.Namespace) -> int:
    profile = get_profile(args.api)
    path = Path(args.file or f"{profile.name}-target.toml")
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; give another FILE or --force to overwrite it")
    try:
        with path.open("w" if args.force else "x", encoding="utf-8") as file:
            file.write(profile.default_target_config())
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    print(f"conformance: wrote {path}: declare your options and put in your test identities, then")
    print(f"  conformance run {profile.name} --base-url https://... --target-config {path}")
    return EXIT_PASS
