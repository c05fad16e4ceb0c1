"""`conformance load push`: the documented sending limit of the Push API (R-RATE-01, R-RATE-02) checked at its scale.

An explicit opt-in, apart from a conformance run (which declares both rules out of its reach). Locust sends the
load from its worker processes (`conformance.load.engine`); this command plans it, starts and bounds it, reads what
the master collected, has the one judge decide R-RATE-01, R-RATE-02 and R-RATE-04 on it, and writes
DIR/push-load.json, .html and .log. Its exit code is the verdict's, as for `conformance run`.

Three ways to run it: everything on this machine (a master and `--workers N` local workers); `--master`, which
waits for workers started elsewhere with `conformance load push --worker --master-host H`; and `--worker` itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from ..profiles import get_profile
from ..report import leaks as leak_scan
from ..report.exchange import Replay
from ..report.exchange import record as exchange_record
from ..report.masking import Masker
from ..target import ConfigurationError, Credentials, TargetConfig, validate_base_url
from ..transport import DEFAULT_MAX_BODY, TransportFailure
from .common import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_SUITE_BUG, UsageError, printable
from .terminal import terminal_of

REPORTS = ("json", "html", "log")
DEFAULT_BATCH = 100  # numbers in a batch send when the target config does not say (`load_batch_size`)
MAX_BATCH = 10000  # the documents' batch size (R-BULK-04)
DEFAULT_PORT = 5557  # Locust's own master port
MAX_WORKERS = 64


def add_parser(commands: argparse._SubParsersAction) -> None:
    load = commands.add_parser(
        "load",
        help="check the documented sending limit at its scale: a Locust load at --rate, judged on R-RATE-01/02",
    )
    load.add_argument("api", choices=["push"], help="the API whose documented rate limit is checked")
    load.add_argument("--base-url", help="the Push API host (default: start the embedded sandbox)")
    load.add_argument("--target-config", help="TOML file: the registered number, bulk_path, rate_limit_per_minute")
    load.add_argument("--ca-bundle", help="PEM file of the CA that signed the host's certificate")
    load.add_argument("--rate", help="messages a minute across every generator, e.g. 1000000/min or 600/min")
    load.add_argument("--duration", type=float, default=60.0, help="seconds of sending (default 60)")
    load.add_argument("--mode", choices=["single", "batch"], default="single", help="single sends or batches")
    load.add_argument("--workers", type=int, help="Locust worker processes on this machine (default 2; --master: 0)")
    load.add_argument(
        "--max-requests", type=int, help="hard bound on requests sent (default: 1.5 x what the rate and duration ask)"
    )
    load.add_argument("--timeout", type=float, default=10.0, help="seconds for each answer (default 10)")
    load.add_argument("--report-dir", default="reports", help="where to write the reports (default: reports)")
    load.add_argument(
        "--fault", action="append", default=[], help="embedded sandbox only: turn on a faulty variant (repeatable)"
    )
    spread = load.add_argument_group("generators on other machines (Locust's distributed mode)")
    spread.add_argument("--master", action="store_true", help="wait for workers started on other machines")
    spread.add_argument(
        "--master-bind", default=f"0.0.0.0:{DEFAULT_PORT}", metavar="HOST:PORT", help="where --master listens"
    )
    spread.add_argument("--expect-workers", type=int, default=0, help="--master: workers to wait for from elsewhere")
    spread.add_argument(
        "--connect-wait", type=float, default=300.0, help="--master: seconds to wait for them to connect (300)"
    )
    spread.add_argument("--worker", action="store_true", help="run generators for a master elsewhere")
    spread.add_argument("--master-host", help="--worker: the machine running `conformance load push --master`")
    spread.add_argument("--master-port", type=int, default=DEFAULT_PORT, help=f"--worker: its port ({DEFAULT_PORT})")


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise UsageError(f"--master-bind {value!r} is not HOST:PORT, e.g. 0.0.0.0:5557")
    return host.strip("[]"), int(port)


def _check_common(args: argparse.Namespace) -> None:
    from ..load.engine import INSTALL_HINT, locust_installed

    if not locust_installed():
        raise UsageError(f"`conformance load` runs on Locust, which is not installed: {INSTALL_HINT}")
    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be between 0 and {MAX_WORKERS}")
    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if args.ca_bundle and not Path(args.ca_bundle).is_file():
        raise UsageError(f"--ca-bundle {args.ca_bundle} is not a file")


def command(args: argparse.Namespace) -> int:
    _check_common(args)
    if args.worker:
        return _worker(args)
    return _master(args)


# --- generators for a master elsewhere ------------------------------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    from ..load.engine import WorkerOptions, run_workers

    if args.master or args.fault:
        raise UsageError("--worker runs generators only: leave out --master and --fault")
    if not args.master_host:
        raise UsageError("--worker needs --master-host (the machine running `conformance load push --master`)")
    if not args.base_url:
        raise UsageError("--worker needs --base-url: its generators send to that host only, whatever the master asks")
    base_url = validate_base_url(args.base_url)
    profile = get_profile(args.api)
    credentials = Credentials.from_env(*profile.credential_env)
    if credentials is None:
        raise UsageError(profile.missing_credentials_message(base_url))
    count = 2 if args.workers is None else args.workers
    if count < 1:
        raise UsageError("--worker needs at least one --workers")
    options = WorkerOptions(
        args.master_host,
        args.master_port,
        base_url,
        str(Path(args.ca_bundle).resolve()) if args.ca_bundle else None,
        dict(zip(profile.credential_env, credentials.as_tuple(), strict=True)),
    )
    print(
        f"conformance: {count} generator(s) for the master at {printable(args.master_host)}:{args.master_port}, "
        f"sending only to {base_url} ...",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="conformance-load-"))
    try:
        finished, _ = run_workers(count, options, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("conformance: the generators stopped" + ("" if finished else " (interrupted)"))
    return EXIT_PASS if finished else 130


# --- the run: a master, and local workers ----------------------------------------------------------------------------


def _plan(args: argparse.Namespace, config: TargetConfig, base_url: str, workers: int) -> Any:
    from ..load.plan import MODES, LoadPlan, RateError, parse_rate, users_for

    if not args.rate:
        raise UsageError("give --rate, the messages a minute to send (e.g. --rate 1000000/min)")
    try:
        rate = parse_rate(args.rate)
    except RateError as exc:
        raise UsageError(f"--rate {exc}") from None
    if not math.isfinite(args.duration) or not 1 <= args.duration <= 86400:
        raise UsageError("--duration must be between 1 and 86400 seconds")
    registered = config.identity("registered")
    if not registered or not str(registered.get("msisdn", "")).isdigit():
        raise UsageError(
            f"target config {config.source} names no [identities.registered] msisdn: the load sends to it only"
        )
    batch = int(config.setting("load_batch_size", DEFAULT_BATCH)) if args.mode == "batch" else 1
    if not 1 <= batch <= MAX_BATCH:
        raise UsageError(f"load_batch_size in the target config must be between 1 and {MAX_BATCH}")
    assert args.mode in MODES
    path = str(config.setting("bulk_path", "/push/bulk/single")) if args.mode == "batch" else "/push/delivery"
    requests_per_second = rate / 60 / batch
    users = users_for(requests_per_second, workers)
    wanted = math.ceil(requests_per_second * args.duration)
    max_requests = args.max_requests if args.max_requests is not None else math.ceil(wanted * 1.5) + users
    if max_requests < 1:
        raise UsageError("--max-requests must be at least 1")
    return LoadPlan(
        base_url=base_url,
        rate_per_minute=rate,
        duration=float(args.duration),
        mode=args.mode,
        batch_size=batch,
        msisdn=int(registered["msisdn"]),
        path=path,
        users=users,
        workers=workers,
        max_requests=max_requests,
        timeout=float(args.timeout),
    )


def _master(args: argparse.Namespace) -> int:
    from ..load.engine import WorkerOptions, free_port, run_distributed
    from ..load.plan import DOCUMENTED_LIMIT, per_minute_text

    profile = get_profile(args.api)
    if args.master_host:
        raise UsageError("--master-host is for --worker")
    if args.fault and args.base_url:
        raise UsageError("--fault turns on a faulty variant of the embedded sandbox; leave out --base-url")
    unknown = set(args.fault) - set(profile.faults())
    if unknown:
        raise UsageError(f"unknown fault(s) {', '.join(sorted(unknown))}; see `conformance serve push --list-faults`")
    local = (0 if args.master else 2) if args.workers is None else args.workers
    remote = args.expect_workers if args.master else 0
    if args.expect_workers and not args.master:
        raise UsageError("--expect-workers is for --master (workers on other machines)")
    if args.master and remote < 1:
        raise UsageError("--master waits for workers from elsewhere: give --expect-workers N")
    if local + remote < 1:
        raise UsageError("a load needs at least one worker: --workers N")
    if not math.isfinite(args.connect_wait) or args.connect_wait <= 0:
        raise UsageError("--connect-wait must be a positive number of seconds")
    # A load sends only to the registered numbers: the identities a conformance run needs besides are not required.
    settings = dataclasses.replace(profile.config_settings, required_identities={})
    config = (
        TargetConfig.from_path(args.target_config, settings)
        if args.target_config
        else TargetConfig.parse(profile.default_target_config(), "default", settings)
    )
    stated = config.setting("rate_limit_per_minute")
    limit = int(stated) if stated is not None else DOCUMENTED_LIMIT
    if limit < 1:
        raise UsageError("rate_limit_per_minute in the target config must be at least 1")
    limit_source = "the target config's rate_limit_per_minute" if stated is not None else "the documented limit"
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write to --report-dir {args.report_dir}: {exc.strerror}") from None
    paths = {kind: report_dir / f"{profile.name}-load.{kind}" for kind in REPORTS}
    for path in paths.values():
        path.unlink(missing_ok=True)  # never leave a stale report that looks like this run's

    plan = _plan(args, config, args.base_url or "https://127.0.0.1", local + remote)  # every option checked first
    embedded = None
    if args.base_url:
        base_url = validate_base_url(args.base_url)
        credentials = Credentials.from_env(*profile.credential_env)
        if credentials is None:
            raise UsageError(profile.missing_credentials_message(base_url))
        ca_bundle = str(Path(args.ca_bundle).resolve()) if args.ca_bundle else None
    else:
        # The sandbox gets the partner's credentials if set, else a fresh random password (as `conformance run`).
        credentials = Credentials.from_env(*profile.credential_env) or Credentials(
            "koshelek", secrets.token_urlsafe(18)
        )
        embedded = _sandbox(profile, credentials, tuple(args.fault), limit)
        base_url, ca_bundle = embedded.base_url, embedded.ca_bundle
    plan = dataclasses.replace(plan, base_url=base_url)
    masker = Masker.for_credentials(credentials, basic=True)
    terminal_of(args).use(masker)  # what the command prints is masked too
    try:
        if args.base_url:
            try:
                _reach(args, profile, base_url)
            except TransportFailure as exc:  # the gate reads a verdict even when nothing could be sent
                from ..report import verdict_json

                spec = {"file": profile.spec_file, "version": profile.spec_version, "sha256": profile.spec_sha256}
                title = profile.spec["info"]["title"]
                verdict_json.write(
                    verdict_json.unreachable(profile.name, title, base_url, str(exc), spec), paths["json"]
                )
                raise
        bind = _host_port(args.master_bind) if args.master else ("127.0.0.1", free_port())
        where = args.base_url or "the embedded sandbox"
        print(
            f"conformance: load on {where}: {per_minute_text(plan.rate_per_minute)} for {plan.duration:g} s "
            f"({plan.mode}), limit {limit:,}/min; {local} local worker(s)"
            + (f", waiting for {remote} at {bind[0]}:{bind[1]}" if remote else "")
            + " ...",
            flush=True,
        )
        worker = WorkerOptions(
            bind[0] if bind[0] not in ("0.0.0.0", "::", "") else "127.0.0.1",
            bind[1],
            base_url,
            ca_bundle,
            dict(zip(profile.credential_env, credentials.as_tuple(), strict=True)),
        )
        started = time.time()
        scratch = Path(tempfile.mkdtemp(prefix="conformance-load-"))
        try:
            result = run_distributed(
                plan,
                local_workers=local,
                bind=bind,
                worker=worker,
                scratch=scratch,
                connect_wait=args.connect_wait if remote else 60.0,
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        ended = time.time()
    finally:
        if embedded is not None:
            embedded.stop()
    return _judge_and_report(
        args,
        profile,
        plan,
        limit,
        limit_source,
        config,
        credentials,
        masker,
        result,
        paths,
        base_url,
        ca_bundle,
        embedded is not None,
        started,
        ended,
    )


def _sandbox(profile: Any, credentials: Credentials, faults: tuple[str, ...], limit: int) -> Any:
    """The Push API sandbox on a free loopback port, with the target config's limit, telling Retry-After."""
    from conformance.fixtures.push import app as push_app
    from conformance.fixtures.server import serve

    from ..embedded import Embedded

    app = push_app.create_app(credentials.as_tuple(), faults, rate_limit_per_minute=limit, retry_after=True)
    server = serve(app, tls="plain-http" not in faults, threads=16)
    return Embedded(server.base_url, server.ca_bundle, [server])


def _reach(args: argparse.Namespace, profile: Any, base_url: str) -> None:
    """One authenticated request through the suite's own HTTP layer before any load: exit 3 if it fails."""
    from .run import reach

    probe_args = argparse.Namespace(
        base_url=base_url, timeout=args.timeout, max_body=DEFAULT_MAX_BODY, ca_bundle=args.ca_bundle
    )
    try:
        reach(probe_args, profile)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _exchanges(
    samples: dict[str, dict[str, Any]],
    plan: Any,
    masker: Masker,
    profile: Any,
    ca_bundle: str | None,
    serve: str | None,
) -> dict[str, dict[str, Any]]:
    """The first answer of each kind as the reports show an exchange: masked, with a curl line that sends one
    message of the load."""
    prepared = requests.Request(
        "POST", plan.base_url + plan.path, headers={"Content-Type": "application/json"}, data=plan.body()
    ).prepare()
    replay = Replay(env=profile.credential_env, ca_bundle=ca_bundle, serve=serve, base_url=plan.base_url)
    shown = {}
    for kind, sample in samples.items():
        body = str(sample.get("body") or "").encode("utf-8")
        note = f"the first {kind} answer of the load" + (" (its body cut)" if sample.get("cut") else "")
        if sample.get("status") is None:
            note += f": no answer ({sample.get('note') or 'unknown'})"
        shown[kind] = exchange_record(
            prepared, sample.get("status"), dict(sample.get("headers") or {}), body, masker, replay, note=note
        )
    return shown


def _judge_and_report(
    args: argparse.Namespace,
    profile: Any,
    plan: Any,
    limit: int,
    limit_source: str,
    config: TargetConfig,
    credentials: Credentials,
    masker: Masker,
    result: Any,
    paths: dict[str, Path],
    base_url: str,
    ca_bundle: str | None,
    embedded: bool,
    started: float,
    ended: float,
) -> int:
    from ..load import judging
    from ..load import report as load_report
    from ..load.measurement import Measurement
    from ..report import verdict_json

    if result.results is None and not result.interrupted:
        tail = [line for line in masker.text(result.logs.get("master", "")).splitlines() if line.strip()][-3:]
        _write_log(paths["log"], result.logs, masker)
        print(
            f"conformance: the Locust master ended without results (exit {result.master_exit}); see {paths['log']}"
            + "".join(f"\n  {printable(line)}" for line in tail),
            file=sys.stderr,
        )
        return EXIT_INCONCLUSIVE
    measurement = Measurement.of(plan, limit, limit_source, result.results)
    stop = judging.stop_of(measurement, result.interrupted)
    serve = None
    if embedded:
        serve = " ".join(
            [
                "conformance",
                "serve",
                "push",
                "--port",
                "8080",
                "--rate-limit",
                f"{limit}/min",
                "--retry-after",
                *(f"--fault {f}" for f in args.fault),
            ]
        )
    samples = {kind: sample for kind, sample in measurement.samples.items() if isinstance(sample, dict)}
    exchanges = _exchanges(samples, plan, masker, profile, ca_bundle if not embedded else None, serve)
    verdict, records, facts = judging.verdict(
        measurement, stop, profile.requirements, profile.credential_env, exchanges
    )
    masked_samples = {
        kind: {
            **sample,
            "body": masker.text(str(sample.get("body") or "")),
            "headers": masker.headers(dict(sample.get("headers") or {})),
        }
        for kind, sample in samples.items()
    }
    document = load_report.document(
        verdict=verdict,
        measurement=measurement,
        stop=stop,
        profile=profile,
        base_url=base_url,
        embedded=embedded,
        faults=tuple(args.fault),
        target_config=config.summary(),
        started=started,
        duration=ended - started,
        out_of_reach=dict(facts.out_of_reach),
    )
    verdict_json.write(document, paths["json"])
    paths["html"].write_text(load_report.page(document, masked_samples), encoding="utf-8")
    _write_log(paths["log"], result.logs, masker)
    finder = leak_scan.finder([*masker.secrets, *config.secrets()], [credentials.as_tuple()])
    terminal = terminal_of(args)
    found = leak_scan.scan(list(paths.values()), finder, texts=[("the terminal output", terminal.transcript())])
    if found:
        for path in paths.values():
            path.unlink(missing_ok=True)
        verdict_json.write(
            {
                **document,
                "verdict": "error",
                "exit_code": EXIT_SUITE_BUG,
                "leaks": found,
                "requirements": [],
                "load": None,
            },
            paths["json"],
        )
        print(
            f"conformance: BUG: a credential appears in {', '.join(found)}; the reports were withheld.", file=sys.stderr
        )
        return EXIT_SUITE_BUG
    _print_summary(document, verdict, records, paths)
    return 130 if result.interrupted and verdict.exit_code == 0 else verdict.exit_code


def _write_log(path: Path, logs: dict[str, str], masker: Masker) -> None:
    text = "".join(f"=== {name} (last part of its output) ===\n{output}\n" for name, output in logs.items())
    path.write_text(printable(masker.text(text)), encoding="utf-8")


def _print_summary(document: dict[str, Any], verdict: Any, records: list[Any], paths: dict[str, Path]) -> None:
    from ..load.plan import per_minute_text

    load = document["load"]
    requests_ = load["requests"]
    print(
        f"conformance: verdict {verdict.verdict.upper()} for the rate limit of {document['title']} at "
        f"{document['target']['base_url']}"
    )
    for reason in verdict.reasons if verdict.verdict != "pass" else []:
        print(f"  {verdict.verdict.upper()}: {printable(reason)}")
    print(
        f"  sent {per_minute_text(load['achieved_per_minute'])} of {per_minute_text(load['asked_per_minute'])} asked "
        f"for {load['sending_seconds']} s: {requests_['sent']:,} requests, {requests_['accepted']:,} accepted, "
        f"{requests_['refused']:,} refused, {requests_['server_errors']:,} 5xx; limit {load['limit_per_minute']:,}/min"
    )
    print(f"  counting: {load['counting']}; {load['stopped']}")
    for req_id, result in verdict.requirements.items():
        said = [record for record in records if req_id in record.requirements and record.status != "skip"]
        detail = result.findings[0].reason if result.findings else (said[0].reason if said else "")
        if result.status == "not-tested":
            detail = result.why_untested or ""
        print(f"  {result.status.upper()} {req_id}" + (f": {printable(detail)}" if detail else ""))
    shown = [str(paths[kind]) for kind in ("html", "json") if paths[kind].exists()]
    print(f"  reports: {', '.join(shown)} (log: {paths['log']})")
