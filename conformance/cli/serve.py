"""`conformance serve API`: run a reference service (a sandbox) on 127.0.0.1."""

from __future__ import annotations

import argparse
import time

from ..profiles import PROFILES, get_profile
from ..target import Credentials, validate_base_url
from .common import EXIT_PASS, UsageError


def add_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run a reference service (a sandbox) on 127.0.0.1")
    serve.add_argument("api", choices=sorted(PROFILES))
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its file is printed)")
    serve.add_argument("--fault", action="append", default=[], help="turn on a faulty variant (repeatable)")
    serve.add_argument("--list-faults", action="store_true", help="list the faulty variants and exit")
    serve.add_argument(
        "--callback-url",
        help="push only: the account's Push Callback URL, where delivery statuses are POSTed (credentials from "
        "CONFORMANCE_CALLBACK_USERNAME / CONFORMANCE_CALLBACK_PASSWORD)",
    )


def command(args: argparse.Namespace) -> int:
    from conformance.fixtures.server import serve

    profile = get_profile(args.api)
    if args.list_faults:
        for fault in profile.faults().values():
            print(f"{fault.name:28} breaks {fault.breaks}: {fault.summary}")
        return EXIT_PASS
    unknown = set(args.fault) - set(profile.faults())
    if unknown:
        raise UsageError(f"unknown fault(s) {', '.join(sorted(unknown))}; see --list-faults")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    credentials = Credentials.from_env(*profile.credential_env) or Credentials("koshelek", "sandbox")
    options = {}
    if args.callback_url:
        if profile.name != "push":
            raise UsageError("--callback-url applies to `serve push` only")
        callback = Credentials.from_env("CONFORMANCE_CALLBACK_USERNAME", "CONFORMANCE_CALLBACK_PASSWORD")
        options = {
            "callback_url": validate_base_url(args.callback_url),
            "callback_credentials": (callback or Credentials("koshelek", "sandbox")).as_tuple(),
        }
    app = profile.reference_app(credentials.as_tuple(), tuple(args.fault), **options)
    try:
        server = serve(app, port=args.port, tls=args.tls)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from None
    print(f"{profile.spec['info']['title']} reference service at {server.base_url}")
    print(
        f"  credentials: {credentials.username} / (the value of {profile.credential_env[1]}, or 'sandbox' when unset)"
    )
    if server.ca_bundle:
        print(f"  CA certificate: {server.ca_bundle}")
    if args.fault:
        print(f"  faulty variant: {', '.join(args.fault)}")
    if args.callback_url:
        print(f"  delivery statuses are POSTed to {options['callback_url']}/push/callback")
    print("  Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return EXIT_PASS
