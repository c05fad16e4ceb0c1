"""`conformance serve API`: run a reference service (a sandbox) on 127.0.0.1."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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
        "--rate-limit",
        metavar="N/min",
        help="push only: the sending limit per account and rolling minute (default 600/min), answered 429 beyond it",
    )
    serve.add_argument(
        "--rate-counts",
        choices=["recipients", "requests"],
        default="recipients",
        help="push only: what counts against the limit: each registered number of a send (default), or each send",
    )
    serve.add_argument(
        "--retry-after", action="store_true", help="push only: a refusal by the limit says when to retry (Retry-After)"
    )
    serve.add_argument(
        "--callback-url",
        help="push only: the account's Push Callback URL, where delivery statuses are POSTed (credentials from "
        "CONFORMANCE_CALLBACK_USERNAME / CONFORMANCE_CALLBACK_PASSWORD)",
    )
    serve.add_argument(
        "--delivered-only",
        action="store_true",
        help="push only: messages are reported DELIVERED and never OPENED, as when nobody reads the test numbers",
    )
    serve.add_argument(
        "--callback-ca",
        metavar="FILE",
        help="push only: the CA (PEM) that signed the callback URL's certificate, when it is not a public one",
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
    options = _rate_options(args, profile.name)
    if args.callback_url:
        if profile.name != "push":
            raise UsageError("--callback-url applies to `serve push` only")
        callback = Credentials.from_env("CONFORMANCE_CALLBACK_USERNAME", "CONFORMANCE_CALLBACK_PASSWORD")
        if args.callback_ca and not Path(args.callback_ca).is_file():
            raise UsageError(f"--callback-ca {args.callback_ca} is not a file")
        options |= {
            "callback_verify": args.callback_ca or True,
            "report_opened": not args.delivered_only,
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
    if "rate_limit_per_minute" in options:
        print(
            f"  rate limit: {options['rate_limit_per_minute']} messages a minute per account, counting "
            f"{options['rate_counts']}" + (", refusals with Retry-After" if options["retry_after"] else "")
        )
    if args.callback_url:
        print(f"  delivery statuses are POSTed to {options['callback_url']}/push/callback")
    print("  Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return EXIT_PASS


def _rate_options(args: argparse.Namespace, api: str) -> dict[str, object]:
    """The Push sandbox's rate limit: --rate-limit N/min (a whole number a minute), what counts, Retry-After."""
    if api != "push":
        if args.rate_limit or args.retry_after or args.rate_counts != "recipients":
            raise UsageError("--rate-limit, --rate-counts and --retry-after apply to `serve push` only")
        return {}
    from ..load.plan import RateError, parse_rate

    limit = 600
    if args.rate_limit:
        try:
            per_minute = parse_rate(args.rate_limit)
        except RateError as exc:
            raise UsageError(f"--rate-limit {exc}") from None
        if per_minute != int(per_minute) or per_minute < 1:
            raise UsageError("--rate-limit must be a whole number of messages a minute, e.g. 600/min")
        limit = int(per_minute)
    return {"rate_limit_per_minute": limit, "rate_counts": args.rate_counts, "retry_after": args.retry_after}
