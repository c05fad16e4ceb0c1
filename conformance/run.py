"""One conformance run: what is tested (profile, target, schema), under which limits, and what it saw.

The pytest plugin builds a `Run` in `pytest_configure` and keeps it in `config.stash`; tests reach it
through the `run` fixture and `run_of(config)`. Nothing here is a module global, so two runs can live in
one process.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.schemas import BaseSchema

from .callbacks import CallbackListener
from .embedded import CallbackTarget, Embedded
from .options import Plan, claimed_version, plan
from .profiles import Profile, get_profile
from .recorder import Recorder
from .report.masking import Masker
from .target import ConfigurationError, Credentials, Target, TargetConfig, validate_base_url
from .transport import DEFAULT_MAX_BODY, BoundedSession, Breakers, Limits

DEFAULT_DEADLINE = 1800.0  # seconds for a whole run: a hostile or stalled target cannot hold CI for longer


@dataclass(frozen=True)
class Attachment:
    """A worker's share of a run its controller started (pytest-xdist): the target is up, the seed drawn."""

    base_url: str
    verify: bool | str
    username: str
    password: str
    embedded: bool
    seed: int
    seconds_left: float  # of the run's deadline, when the controller handed the run over
    back_off_file: str | None = None  # the controller's: a 429 one worker receives holds back every worker

    @classmethod
    def of(cls, run: Run) -> Attachment:
        return cls(
            run.target.base_url,
            run.target.verify,
            *run.target.credentials.as_tuple(),
            run.target.embedded,
            run.seed,
            max(0.0, (run.limits.deadline or time.monotonic()) - time.monotonic()),
            str(run.breakers.back_off_file) if run.breakers.back_off_file else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunOptions:
    api: str
    base_url: str | None = None
    target_config: str | None = None
    reference_data: bool = False  # a --base-url run with the reference service's sample data, on purpose
    api_version: str | None = None
    max_examples: int = 25
    seed: int | None = None
    concurrency: int = 1  # requests in flight at once, from as many threads (plugin.threads)
    ca_bundle: str | None = None
    timeout: float = 10.0
    deadline: float = DEFAULT_DEADLINE
    max_body: int = DEFAULT_MAX_BODY
    faults: tuple[str, ...] = ()
    # The suite's callback listener against a host that posts callbacks: "HOST:PORT", optional TLS, public URL.
    callback_listen: str | None = None
    callback_tls_cert: str | None = None
    callback_tls_key: str | None = None
    callback_public_url: str | None = None
    artefacts: str | None = None  # where whole bodies go when a report shows them cut
    attach: Attachment | None = None  # a worker process of a run: use the controller's target, do not start one
    client: Any = None  # a client certification (conformance.client.session): its journal is what is judged
    baseline: str | None = None  # a previous verdict or a curated baseline: findings are marked known or new


@dataclass
class Run:
    profile: Profile
    target: Target
    options: RunOptions
    seed: int
    schema: BaseSchema  # every operation of the claimed version
    contract_schema: BaseSchema  # what schemathesis generates cases for
    masker: Masker
    limits: Limits
    breakers: Breakers
    recorder: Recorder
    embedded: Embedded | None = None  # the reference service(s), when no --base-url was given
    plan: Plan | None = None  # the declared options and what they decide (rules not applicable, not testable)
    callbacks: CallbackListener | None = None  # where the host posts delivery statuses, when it does
    out_of_reach: dict[str, str] = field(default_factory=dict)  # rules no run of this target can reach, and why
    client: Any = None  # the client certification whose journal this run judges (no request is sent)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    interrupted: str | None = None  # why the run stopped before its end, when its user stopped it (Ctrl-C)
    _scratch: Path | None = None  # this run's temporary files, removed when it stops

    @property
    def max_examples(self) -> int:
        return self.options.max_examples

    @property
    def concurrency(self) -> int:
        return self.options.concurrency

    @property
    def not_applicable(self) -> dict[str, str]:
        """Rules that do not bind this target, and why (another version, a method not agreed, a declared option)."""
        return dict(self.plan.not_applicable) if self.plan is not None else {}

    @property
    def scratch(self) -> Path:
        """This run's own temporary directory (removed when it stops)."""
        assert self._scratch is not None, "the run has stopped"
        return self._scratch

    @property
    def duration(self) -> float:
        """Seconds from the run's start to its end (or to now): the one figure the reports and the terminal show."""
        return round((self.ended or time.time()) - self.started, 1)

    def session(self, *, credentials: bool = True) -> BoundedSession:
        """A session through the run's HTTP layer: its limits, its trust, its recorder; with the credentials."""
        session = BoundedSession(
            self.limits,
            self.breakers,
            verify=self.target.verify,
            observer=self.recorder.observe,
            current_test=lambda: self.recorder.current_test,
            connections=self.concurrency,
        )
        if credentials:
            auth = self.profile.auth_kwargs(self.target.credentials)
            session.auth = auth.get("auth")
            session.headers.update(auth.get("headers", {}))
        return session

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
        if self.callbacks is not None:
            self.callbacks.stop()
            self.callbacks = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def start(options: RunOptions) -> Run:
    """Resolve the options into a Run (starting the embedded reference service when no URL is given)."""
    if options.client is not None:
        return options.client.run_for_suite(options)
    profile = get_profile(options.api)
    if profile.party == "client":
        command = f"conformance certify-client {profile.name.removesuffix('-client')}"
        raise ConfigurationError(f"the {profile.name} suite judges what a client sent: run `{command}`")
    if options.base_url is not None and options.attach is None and not options.target_config:
        if not options.reference_data:
            raise ConfigurationError(no_target_config_message(profile))
    config = load_target_config(profile, options.target_config)
    version = claimed_version(profile, config, options.api_version)
    credentials = Credentials.from_env(*profile.credential_env)
    attach = options.attach
    if attach is not None:  # the controller checked the options and started what the run needs
        credentials = Credentials(attach.username, attach.password)
    elif options.base_url is None:
        # The embedded reference gets the partner's credentials if set, else a fresh random password.
        credentials = credentials or Credentials(
            "koshelek" if profile.auth_headers is None else secrets.token_urlsafe(12), secrets.token_urlsafe(18)
        )
    else:
        if options.faults:
            raise ConfigurationError("--fault applies to the embedded reference service; leave out --base-url")
        if credentials is None:
            raise ConfigurationError(profile.missing_credentials_message(validate_base_url(options.base_url)))
        if options.callback_listen and not profile.receives_callbacks:
            raise ConfigurationError(f"--callback-listen applies to an API that posts callbacks, not {profile.name}")
    profile.check_credentials(credentials)
    scratch = Path(tempfile.mkdtemp(prefix="conformance-run-"))  # removed when the run stops, whatever happens
    embedded: Embedded | None = None
    callbacks: CallbackListener | None = None
    try:
        if attach is not None:
            base_url, verify = attach.base_url, attach.verify
        elif options.base_url is None:
            target_of_callbacks = None
            if profile.receives_callbacks:  # the sandbox posts to the suite's own listener, over verified HTTPS
                callbacks, target_of_callbacks = _embedded_listener(scratch)
            embedded = profile.start_embedded(credentials, options.faults, target_of_callbacks)
            base_url, verify = embedded.base_url, embedded.ca_bundle or True
        else:
            base_url, verify = validate_base_url(options.base_url), options.ca_bundle or True
            if options.callback_listen:
                callbacks = _listener(options)
    except BaseException:
        for started in (embedded, callbacks):
            if started is not None:
                started.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    target = Target(
        base_url,
        credentials,
        config,
        version,
        verify,
        embedded=embedded is not None or (attach is not None and attach.embedded),
        timeout=options.timeout,
        faults=options.faults,
    )
    seed = attach.seed if attach else options.seed if options.seed is not None else random.randrange(2**31)
    masker = Masker.for_credentials(credentials, basic=profile.auth_headers is None)
    for secret in config.secrets():
        masker.add(secret)
    if callbacks is not None:
        callbacks.masker = masker
        if callbacks.credentials is not None:
            masker.add(callbacks.credentials.password)
    limits = Limits(
        timeout=options.timeout,
        max_body=options.max_body,
        deadline=time.monotonic() + (attach.seconds_left if attach else options.deadline),
    )
    listener = callbacks is not None or embedded is not None or (attach is not None and attach.embedded)
    run_plan = plan(profile, config, version, listener=listener)
    schema = _load_schema(profile, target, seed, options.max_examples, run_plan.left_out)
    contract_schema = schema
    if profile.operations_not_generated:
        not_generated = set(profile.operations_not_generated)
        contract_schema = schema.exclude(
            func=lambda ctx: ctx.operation.definition.raw.get("operationId") in not_generated
        )
    recorder = Recorder(profile, masker, target, Path(options.artefacts) if options.artefacts else None)
    operation_of = _operation_matcher(schema, target.base_url)
    recorder.operation_of = operation_of  # answers to documented paths: how many were 404 (a wrong base URL)
    # Every process of the run (pytest-xdist's workers) honours a 429 any of them received: through this file.
    back_off_file = Path(attach.back_off_file) if attach and attach.back_off_file else scratch / "back-off"
    return Run(
        profile,
        target,
        options,
        seed,
        schema,
        contract_schema,
        masker,
        limits,
        Breakers(limits, operation_of, concurrency=options.concurrency, back_off_file=back_off_file),
        recorder,
        embedded,
        run_plan,
        callbacks,
        {**profile.out_of_reach, **profile.reach_of(config)},
        _scratch=scratch,
    )


def _embedded_listener(scratch: Path) -> tuple[CallbackListener, CallbackTarget]:
    from conformance.fixtures.server import make_certificates

    cert, key, ca = make_certificates(scratch)
    credentials = Credentials("koshelek-callbacks", secrets.token_urlsafe(18))
    listener = CallbackListener("127.0.0.1", 0, credentials=credentials, tls=(cert, key))
    return listener, CallbackTarget(listener.url, credentials.as_tuple(), ca)


def _listener(options: RunOptions) -> CallbackListener:
    host, _, port = (options.callback_listen or "").rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigurationError(f"--callback-listen {options.callback_listen!r} is not HOST:PORT, e.g. 0.0.0.0:8443")
    if bool(options.callback_tls_cert) != bool(options.callback_tls_key):
        raise ConfigurationError("--callback-tls-cert and --callback-tls-key go together")
    tls = (options.callback_tls_cert, options.callback_tls_key) if options.callback_tls_cert else None
    public_url = validate_base_url(options.callback_public_url) if options.callback_public_url else None
    credentials = Credentials.from_env("CONFORMANCE_CALLBACK_USERNAME", "CONFORMANCE_CALLBACK_PASSWORD")
    return CallbackListener(host.strip("[]"), int(port), credentials=credentials, tls=tls, public_url=public_url)


def _operation_matcher(schema: BaseSchema, base_url: str) -> Callable[[str, str], str]:
    """(method, URL path) -> the label of the documented operation it calls ("" for none): the breakers count
    unanswered requests per operation, so one slow operation costs a few timeouts, not one per test."""
    prefix = urlsplit(base_url).path.rstrip("/")
    patterns = []
    for result in schema.get_all_operations():
        op = result.ok()
        regex = re.escape(op.path)
        regex = re.sub(r"\\\{[^}]*\\\}", "[^/]+", regex)
        patterns.append((op.method.upper(), re.compile(f"^{re.escape(prefix)}{regex}$"), op.label))

    def operation_of(method: str, path: str) -> str:
        return next((label for verb, pattern, label in patterns if verb == method and pattern.match(path)), "")

    return operation_of


def _spec_for_target(profile: Profile, target: Target) -> dict[str, Any]:
    """The spec with the paths the target config moves (e.g. the batch send's prefix) moved."""
    spec = copy.deepcopy(profile.spec)
    for path, key in profile.path_settings.items():
        moved = target.config.setting(key)
        if moved and moved != path:
            spec["paths"] = {str(moved) if p == path else p: item for p, item in spec["paths"].items()}
    return spec


def _load_schema(
    profile: Profile, target: Target, seed: int, max_examples: int, left_out: dict[str, str]
) -> BaseSchema:
    spec = _spec_for_target(profile, target)
    operations = [
        *profile.schemathesis_config.get("operations", []),
        *(
            {"include-operation-id": op["operationId"], "generation": {"mode": "positive"}}
            for op in _operations(profile.spec)
            if op.get("x-positive-only")
        ),
    ]
    config = schemathesis.Config.from_dict(
        {
            **profile.schemathesis_config,
            "seed": seed,
            # Authentication is probed by the suite's own tests (the documents leave its status open), so
            # generated cases never drop or mangle the credentials. No example database: nothing is written.
            # No shrinking: a contract failure is what the service does, not the size of the input, and every
            # shrink step is one more request to a service that may be far away (or answer nothing but errors).
            "generation": {
                "max-examples": max_examples,
                "database": "none",
                "with-security-parameters": False,
                "no-shrink": True,
            },
            "operations": operations,
        }
    )
    schema = schemathesis.openapi.from_dict(spec, config=config)
    # Credentials, trust, limits and redirects come with the run's session (`session=` on every call).
    schema.config.update(base_url=target.base_url, tls_verify=target.verify, request_timeout=target.timeout)
    if left_out:  # another API version, an optional method not agreed (options.plan says which and why)
        schema = schema.exclude(operation_id=sorted(left_out))
    return schema


def no_target_config_message(profile: Profile) -> str:
    template = f"fixtures/{profile.target_config_resource}"
    return (
        f"--base-url needs --target-config FILE: your test identities and declared options. Write the template "
        f"with `conformance init {profile.name} FILE` (or copy {template}), put in your own values, and pass it; "
        "--reference-data runs with the reference service's sample data instead, on purpose"
    )


def load_target_config(profile: Profile, path: str | None) -> TargetConfig:
    """The partner's target config, or the reference service's (the shipped template) when no file is given."""
    if path:
        return TargetConfig.from_path(path, profile.config_settings)
    source = f"default ({profile.target_config_resource})"
    return TargetConfig.parse(profile.default_target_config(), source, profile.config_settings)


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return [op for item in spec["paths"].values() for method, op in item.items() if method in methods]
