"""The state of one conformance run: profile, target, loaded schema, ledger. Built once by the pytest plugin.

Suite modules read it at import time (`runtime.current()`), because schemathesis parametrizes tests
when their module is imported, before any fixture exists.
"""

from __future__ import annotations

import base64
import copy
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from schemathesis.schemas import BaseSchema

from .embedded import Embedded
from .profiles import Profile, get_profile
from .report.masking import Masker
from .requirements import Ledger
from .target import ConfigurationError, Credentials, Target, TargetConfig, validate_base_url
from .traceability import ids_within

_CURRENT: Run | None = None


class TargetSession(requests.Session):
    """A session whose `verify` wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment.

    Plain requests lets those variables replace a session's CA bundle, which would make the embedded
    reference (or a partner's `--ca-bundle`) fail TLS verification on machines that set them.
    """

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        return super().merge_environment_settings(url, proxies, stream, self.verify if verify is None else verify, cert)


@dataclass
class Run:
    profile: Profile
    target: Target
    seed: int
    max_examples: int
    schema: BaseSchema  # every operation of the claimed version
    ledger: Ledger
    masker: Masker
    embedded: Embedded | None = None  # the reference service(s), when no --base-url was given
    started: float = field(default_factory=time.time)
    cases: int = 0
    transport_errors: list[str] = field(default_factory=list)
    # What answered requests that carried the configured credentials: status -> count, operation -> 2xx count.
    credentialed_statuses: Counter[int] = field(default_factory=Counter)
    operation_successes: Counter[str] = field(default_factory=Counter)
    unattributed_failures: list[str] = field(default_factory=list)  # failed tests naming no requirement
    auth_statuses: dict[str, int] = field(default_factory=dict)  # probe -> status the target used
    skips: dict[str, str] = field(default_factory=dict)  # test id -> why it did not run
    skip_reasons: dict[str, str] = field(default_factory=dict)  # requirement id -> why its test did not run
    not_applicable: set[str] = field(default_factory=set)  # rules of operations outside the claimed version
    current_test: str | None = None
    deferred_check_failures: list[str] = field(default_factory=list)  # of the running hand-written test
    last_exchange: dict[str, Any] | None = None
    finished: dict[str, Any] | None = None  # the verdict, once the session ends
    contract_schema: BaseSchema | None = None  # what schemathesis generates cases for (default: schema)

    def __post_init__(self) -> None:
        if self.contract_schema is None:
            self.contract_schema = self.schema

    def session(self) -> requests.Session:
        """A requests session for hand-written tests: verification, timeout and recording set up."""
        session = TargetSession()
        session.verify = self.target.verify
        session.hooks["response"].append(self._on_response)
        return session

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.note_exchange(response.request, response.status_code, dict(response.headers), response.content)

    def note_exchange(self, request: Any, status: int, headers: dict[str, str], content: bytes) -> None:
        from .report.exchange import record

        self.cases += 1
        if self.profile.response_secrets:
            self._learn_secrets(content)
        self.last_exchange = record(
            request,
            status,
            headers,
            content,
            self.masker,
            ca_bundle=self.target.verify if isinstance(self.target.verify, str) else None,
            env=self.profile.credential_env,
            auth_headers=self.profile.auth_headers,
        )

    def note_outcome(self, operation: str, request: Any, status: int) -> None:
        """Count an answer to a request made with the configured credentials (auth probes do not count)."""
        expected = self.profile.auth_kwargs(self.target.credentials)
        headers = getattr(request, "headers", {}) or {}
        if "auth" in expected:
            user, password = expected["auth"]
            token = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            credentialed = headers.get("Authorization") == token
        else:  # the account's own token; the second header may be a user's key (Imbee's chat creation)
            name, value = next(iter(expected["headers"].items()))
            credentialed = headers.get(name) == value
        if not credentialed:
            return
        self.credentialed_statuses[status] += 1
        if 200 <= status < 300:
            self.operation_successes[operation] += 1

    def _learn_secrets(self, content: bytes) -> None:
        """Add the secrets an answer hands out (a user's apikey, pass) to the masker before anything records it."""
        import json

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    if key in self.profile.response_secrets and isinstance(item, str):
                        self.masker.add(item)
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        try:
            walk(json.loads(content))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def current() -> Run:
    if _CURRENT is None:
        raise RuntimeError(
            "no conformance run is active: run the suite through `conformance run` "
            "or pytest with `-p conformance.plugin --conformance-api NAME`"
        )
    return _CURRENT


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def start(
    api: str,
    *,
    base_url: str | None = None,
    target_config: str | None = None,
    api_version: str | None = None,
    max_examples: int = 25,
    seed: int | None = None,
    ca_bundle: str | None = None,
    timeout: float = 10.0,
    faults: tuple[str, ...] = (),
) -> Run:
    """Resolve the options into a Run (starting the embedded reference service when no URL is given)."""
    global _CURRENT
    profile = get_profile(api)
    config = (
        TargetConfig.from_path(target_config)
        if target_config
        else TargetConfig.parse(profile.default_target_config(), f"default ({profile.target_config_resource})")
    )
    version = api_version or profile.spec_version
    if version not in profile.api_versions:
        raise ConfigurationError(f"--api-version {version} is not one of {', '.join(profile.api_versions)}")
    credentials = Credentials.from_env(*profile.credential_env)
    embedded = None
    if base_url is None:
        # The embedded reference gets the partner's credentials if set, else a fresh random password.
        credentials = credentials or Credentials(
            "koshelek" if profile.auth_headers is None else secrets.token_urlsafe(12), secrets.token_urlsafe(18)
        )
        embedded = profile.start_embedded(credentials, faults)
        base_url, verify = embedded.base_url, embedded.ca_bundle or True
    else:
        if faults:
            raise ConfigurationError("--fault applies to the embedded reference service; leave out --base-url")
        base_url = validate_base_url(base_url)
        if credentials is None:
            raise ConfigurationError(
                f"set {profile.credential_env[0]} and {profile.credential_env[1]} to the credentials of {base_url}"
            )
        verify = ca_bundle or True
    target = Target(
        base_url, credentials, config, version, verify, embedded=embedded is not None, timeout=timeout, faults=faults
    )
    seed = seed if seed is not None else random.randrange(2**31)
    masker = Masker()
    if profile.auth_headers is None:
        masker.add_basic(credentials.username, credentials.password)
    else:
        masker.add(credentials.username)
        masker.add(credentials.password)
    for secret in config.secrets():
        masker.add(secret)
    schema = _load_schema(profile, target, seed, max_examples)
    _CURRENT = Run(profile, target, seed, max_examples, schema, Ledger(profile.requirements), masker, embedded)
    _CURRENT.not_applicable = _not_applicable(profile, schema)
    if profile.operations_not_generated:
        not_generated = set(profile.operations_not_generated)
        _CURRENT.contract_schema = schema.exclude(
            func=lambda ctx: ctx.operation.definition.raw.get("operationId") in not_generated
        )
    return _CURRENT


def _spec_for_target(profile: Profile, target: Target) -> dict[str, Any]:
    """The spec with the paths the target config moves (e.g. the batch send's prefix) moved."""
    spec = copy.deepcopy(profile.spec)
    for path, key in profile.path_settings.items():
        moved = target.config.setting(key)
        if moved and moved != path:
            if not str(moved).startswith("/"):
                raise ConfigurationError(f"target config {key} = {moved!r} must start with '/'")
            spec["paths"] = {str(moved) if p == path else p: item for p, item in spec["paths"].items()}
    return spec


def _load_schema(profile: Profile, target: Target, seed: int, max_examples: int) -> BaseSchema:
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
            # Authentication is probed by the suite's own tests (A-4 accepts 401 or 422 there), so generated
            # cases never drop or mangle the Authorization header.
            "generation": {"max-examples": max_examples, "database": "none", "with-security-parameters": False},
            "operations": operations,
        }
    )
    schema = schemathesis.openapi.from_dict(spec, config=config)
    auth = profile.auth_kwargs(target.credentials)
    schema.config.update(
        base_url=target.base_url,
        basic_auth=auth.get("auth"),
        headers=auth.get("headers"),
        tls_verify=target.verify,
        request_timeout=target.timeout,
    )
    skipped = {
        op["operationId"]
        for op in _operations(profile.spec)
        if ("x-since" in op and _version_key(op["x-since"]) > _version_key(target.api_version))
        or (op.get("x-optional") and op["operationId"] not in target.config.optional_methods)
    }
    if skipped:
        schema = schema.exclude(operation_id=sorted(skipped))
    return schema


def _not_applicable(profile: Profile, schema: BaseSchema) -> set[str]:
    """Ids that only operations left out of this run (another version, a method not agreed) are subject to."""
    included = {result.ok().definition.raw.get("operationId") for result in schema.get_all_operations()}
    left_out = [op for op in _operations(profile.spec) if op.get("operationId") not in included]
    kept = [op for op in _operations(profile.spec) if op.get("operationId") in included]
    return set().union(*(ids_within(op) for op in left_out)) - set().union(*(ids_within(op) for op in kept))


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return [op for item in spec["paths"].values() for method, op in item.items() if method in methods]


def finish() -> None:
    global _CURRENT
    if _CURRENT is not None:
        _CURRENT.stop()
        _CURRENT = None
