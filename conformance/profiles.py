"""One profile per API: its spec, credentials, default target config, reference service and checks.

Adding an API means adding a profile (and its spec, checks, suite and reference service); the CLI,
the pytest plugin and the report writer read everything they need from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources
from typing import Any

import yaml
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from .checks import common, imbee, loyalty, push
from .embedded import CallbackTarget, Embedded, start_push_sandbox, start_reference
from .requirements import CLIENT_RULES, Requirement, catalogue
from .target import ConfigurationError, Credentials, TargetSettings
from .transport import BasicAuth


@cache
def load_spec(spec_file: str) -> dict[str, Any]:
    """A spec, parsed once per process and shared by the profiles that read it (a service and its client);
    with libyaml's parser when PyYAML has it (the specs are large: several times faster than pure Python)."""
    data = resources.files("conformance.specs").joinpath(spec_file).read_bytes()
    return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class Profile:
    name: str
    spec_file: str
    suite: str  # the package holding the pytest suite
    credential_env: tuple[str, str]
    target_config_resource: str  # inside conformance.fixtures
    app_factory: str  # "module:function" building the reference WSGI app from (credentials, faults)
    checks: tuple[Callable[..., Any], ...]
    # Rule or check name -> the requirement ids it evidences. Schema failures are mapped by the spec itself.
    rule_requirements: Mapping[str, tuple[str, ...]]
    schemathesis_config: Mapping[str, Any] = field(default_factory=dict)
    probe_path: str = "/"  # one authenticated GET here tells whether the target is reachable at all
    # None: HTTP Basic with the two credential values. Else the two header names that carry them verbatim.
    auth_headers: tuple[str, str] | None = None
    # Starts the embedded default target (the reference service and whatever it needs around it).
    embedded_starter: Callable[..., Embedded] = start_reference
    # Spec paths a target may place elsewhere: spec path -> the target config key that moves it.
    path_settings: Mapping[str, str] = field(default_factory=dict)
    # Rules of another spec that this API's target must also meet: (spec file, ids).
    borrowed_requirements: tuple[tuple[str, tuple[str, ...]], ...] = ()
    operations_not_generated: tuple[str, ...] = ()  # operation ids the contract tests leave to dedicated tests
    # Members of response bodies that hand out secrets (e.g. a user's apikey): masked wherever they appear.
    response_secrets: tuple[str, ...] = ()
    # Members of response bodies that name what the target made (e.g. a messageId): kept to match callbacks.
    response_ids: tuple[str, ...] = ()
    # Mandatory rules this suite cannot reach on any target, and why: they never make a run inconclusive.
    out_of_reach: Mapping[str, str] = field(default_factory=dict)
    # What the target config may hold (a typo in a key is an error, not a silently ignored setting).
    target_settings: TargetSettings = field(default_factory=TargetSettings)
    # Whose credentials CONFORMANCE_* hold, in the API's own words (for the message when they are missing).
    credentials_description: str = "the credentials of"
    receives_callbacks: bool = False  # the API posts delivery statuses to a callback URL the suite can listen on
    # Why the suite must send one request at a time whatever --concurrency says ("" when it need not).
    sequential_because: str = ""
    # Rules a run cannot reach with this target config, and why (e.g. a rate limit no run can exhaust).
    reach: Callable[[Any], dict[str, str]] | None = None
    # For an API whose documents give no HTTP statuses: whether an answer keeps the documented form (Imbee's envelope
    # with a non-zero code), so that a 5xx of that form meets the form's rule and only the status policy judges it.
    keeps_form: Callable[[Any], bool] | None = None
    # Whose conformance the profile certifies: the service (`conformance run`) or a partner's client of it
    # (`conformance certify-client`, judged on the spec's x-client-requirements).
    party: str = "service"
    # Identity of the target config -> the rules only it lets the suite test (a run without it cannot test them).
    identity_rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Rules judged on the callbacks the target posts: a run without a callback listener cannot test them.
    callback_rules: tuple[str, ...] = ()

    def reach_of(self, config: Any) -> dict[str, str]:
        return self.reach(config) if self.reach is not None else {}

    @cached_property
    def spec_bytes(self) -> bytes:
        return resources.files("conformance.specs").joinpath(self.spec_file).read_bytes()

    @property
    def spec(self) -> dict[str, Any]:
        return load_spec(self.spec_file)

    @property
    def spec_sha256(self) -> str:
        return hashlib.sha256(self.spec_bytes).hexdigest()

    @property
    def spec_version(self) -> str:
        return str(self.spec["info"]["version"])

    @property
    def api_versions(self) -> list[str]:
        return list(self.spec["info"].get("x-api-versions", [self.spec_version]))

    @cached_property
    def requirements(self) -> dict[str, Requirement]:
        if self.party == "client":
            return catalogue(self.spec, CLIENT_RULES)
        requirements = catalogue(self.spec)
        for spec_file, ids in self.borrowed_requirements:
            other = catalogue(load_spec(spec_file))
            requirements.update({req_id: other[req_id] for req_id in ids})
        return requirements

    @cached_property
    def config_settings(self) -> TargetSettings:
        """What the target config may hold: the profile's settings and identities, and the declared options (the
        spec's `x-options` and the API version)."""
        from .options import spec_options

        options = {"api_version": tuple(self.api_versions)}
        options.update({name: tuple(option.values) for name, option in spec_options(self.spec).items()})
        return replace(self.target_settings, options=options)

    @property
    def decisions(self) -> list[dict[str, str]]:
        return list(self.spec.get("x-decisions", []))

    def default_target_config(self) -> str:
        return resources.files("conformance.fixtures").joinpath(self.target_config_resource).read_text("utf-8")

    @property
    def availability_requirement(self) -> str:
        """The rule an exchange without an answer fails (the spec's root `x-availability-rule`)."""
        return str(self.spec["x-availability-rule"])

    def auth_kwargs(self, credentials: Credentials) -> dict[str, Any]:
        """How a request carries the credentials: UTF-8 Basic auth, or the API's own headers."""
        if self.auth_headers is None:
            return {"auth": BasicAuth(*credentials.as_tuple())}
        return {"headers": dict(zip(self.auth_headers, credentials.as_tuple(), strict=True))}

    def missing_credentials_message(self, base_url: str) -> str:
        first, second = self.credential_env
        return f"set {first} and {second} to {self.credentials_description} {base_url}"

    def check_credentials(self, credentials: Credentials) -> None:
        """Credentials that cannot travel in an HTTP header are a usage error, not a crash mid-run."""
        if self.auth_headers is None:
            return
        for env, value in zip(self.credential_env, credentials.as_tuple(), strict=True):
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise ConfigurationError(f"{env} holds characters an HTTP header cannot carry") from None
            if any(not char.isprintable() for char in value):
                raise ConfigurationError(f"{env} holds control characters an HTTP header cannot carry")

    def check_rules(self) -> None:
        """Every rule a check names maps to ids of the catalogue: a suite bug is caught when the profile loads."""
        known = self.requirements
        problems = []
        extra_rules = [rule for rule in ("negative-data-preferred",) if rule in self.rule_requirements]
        for check in [*self.checks, *extra_rules]:
            for rule in getattr(check, "rules", (getattr(check, "__name__", check),)):
                ids = self.rule_requirements.get(rule)
                if not ids:
                    problems.append(f"check {getattr(check, '__name__', check)}: rule {rule!r} maps to no requirement")
                problems += [f"rule {rule!r} maps to {i}, not in the catalogue" for i in ids or () if i not in known]
        problems += [f"out_of_reach names {i}, not in the catalogue" for i in self.out_of_reach if i not in known]
        needed = [i for ids in self.identity_rules.values() for i in ids] + list(self.callback_rules)
        problems += [f"a needed identity or listener names {i}, not in the catalogue" for i in needed if i not in known]
        options = self.config_settings.options
        for req_id, requirement in known.items():
            for name, values in requirement.applies_when:
                if not set(values) <= set(options.get(name, ())):
                    problems.append(f"{req_id} applies when {name} is {values}: not a value of the spec's x-options")
        if self.party == "service" and self.spec.get("x-availability-rule") not in known:
            problems.append("the spec's x-availability-rule names no requirement of its catalogue")
        if problems:
            raise RuntimeError(f"profile {self.name} is inconsistent: " + "; ".join(problems))

    def start_embedded(
        self, credentials: Credentials, faults: tuple[str, ...] = (), callback: CallbackTarget | None = None
    ) -> Embedded:
        """The reference service on a free loopback port; `faults` turns on faulty variants of it."""
        known = self.faults()
        unknown = set(faults) - set(known)
        if unknown:
            raise ConfigurationError(f"unknown fault(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
        return self.embedded_starter(self, credentials, faults, callback)

    def faults(self) -> dict[str, Any]:
        """The faulty variants of the reference service, by name."""
        package = self.app_factory.partition(":")[0].rsplit(".", 1)[0]
        return __import__(f"{package}.faults", fromlist=["FAULTS"]).FAULTS

    def reference_app(self, credentials: tuple[str, str], faults: tuple[str, ...] = (), **options: Any) -> Any:
        module_name, _, function = self.app_factory.partition(":")
        module = __import__(module_name, fromlist=[function])
        return getattr(module, function)(credentials, faults=faults, **options)


# The built-in schemathesis checks every API's contract tests run (each profile maps them to its own ids).
SCHEMATHESIS_CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)
# The callers of these APIs only send the documented methods; probing TRACE or DELETE tests nothing documented.
ONLY_DOCUMENTED_METHODS = {"phases": {"coverage": {"unexpected-methods": []}}}

LOYALTY = Profile(
    name="loyalty",
    spec_file="loyalty-online-api.yaml",
    suite="conformance.suites.loyalty",
    probe_path="/v1/card",
    credential_env=("CONFORMANCE_USERNAME", "CONFORMANCE_PASSWORD"),
    target_config_resource="loyalty/target.toml",
    app_factory="conformance.fixtures.loyalty.app:create_app",
    checks=(
        *SCHEMATHESIS_CHECKS,
        common.json_content_type,
        common.utf8_charset_declared,
        common.utf8_body,
        common.scalars_are_strings,
        loyalty.loyalty_error_object,
        loyalty.at_most_one_card,
        loyalty.barcode_consistent_with_type,
    ),
    rule_requirements={
        "not_a_server_error": ("R-LOY-07",),
        "status_code_conformance": ("R-LOY-07",),
        "content_type_conformance": ("R-LOY-04",),
        "response_schema_conformance": ("R-LOY-15",),
        "negative_data_rejection": ("R-LOY-38",),
        "positive_data_acceptance": ("R-LOY-02",),
        "content-type-json": ("R-LOY-04",),
        "charset-utf8": ("R-LOY-04",),
        "utf8-body": ("R-LOY-05",),
        "string-scalars": ("R-LOY-10",),
        "string-nulls": ("R-LOY-37",),
        "error-is-json": ("R-LOY-32",),
        "error-object": ("R-LOY-08",),
        "error-code-string": ("R-LOY-09",),
        "single-card": ("R-LOY-19",),
        "barcode-consistency": ("R-LOY-22",),
    },
    credentials_description="the credentials Koshelek uses at",
    target_settings=TargetSettings(
        identities={
            "with_card": {"msisdn": str, "email": str, "birth_date": str, "card_number": str},
            "cyrillic": {"email": str, "card_number": str},
            "without_card": {"msisdn": str, "email": str, "birth_date": str},
            "blocked": {"msisdn": str, "email": str, "birth_date": str},
        },
        required_keys={
            "with_card": ("msisdn", "email", "birth_date", "card_number"),
            "cyrillic": ("email", "card_number"),
            "without_card": ("msisdn|email|birth_date",),
            "blocked": ("msisdn|email|birth_date",),
        },
    ),
    identity_rules={
        "with_card": ("R-LOY-11", "R-LOY-12", "R-LOY-13", "R-LOY-14", "R-LOY-21", "R-LOY-23", "R-LOY-25"),
        "without_card": ("R-LOY-18", "R-LOY-39"),
        "cyrillic": ("R-LOY-06",),
        "blocked": ("R-LOY-20",),
    },
    schemathesis_config={
        # Only 200 and 422 exist (R-LOY-07); the suite prefers 422 for a schema-violating request (R-LOY-38).
        "checks": {
            "negative_data_rejection": {"expected-statuses": ["422"]},
            "positive_data_acceptance": {"expected-statuses": ["200", "422"]},
        },
        **ONLY_DOCUMENTED_METHODS,
    },
)

PUSH = Profile(
    name="push",
    spec_file="push-api.yaml",
    suite="conformance.suites.push",
    probe_path="/push/delivery",
    credential_env=("CONFORMANCE_USERNAME", "CONFORMANCE_PASSWORD"),
    target_config_resource="push/target.toml",
    app_factory="conformance.fixtures.push.app:create_app",
    embedded_starter=start_push_sandbox,
    path_settings={"/push/bulk/single": "bulk_path"},
    # What Koshelek's sender must do towards the partner's callback URL is tested from this side.
    borrowed_requirements=(
        ("push-callback-api.yaml", ("R-CB-01", "R-CB-02", "R-CB-04", "R-CB-05", "R-CB-06", "R-CB-13")),
    ),
    out_of_reach={
        "R-RATE-01": "the documented limit is 1,000,000 messages per minute; a conformance run cannot exhaust it "
        "(`conformance load push` checks it at that rate)",
    },
    receives_callbacks=True,
    sequential_because="the callback round listens in one process, and the rate-limit test must follow every send",
    response_ids=("messageId",),
    reach=lambda config: (
        {}
        if config.setting("rate_limit_per_minute") is not None
        else {
            "R-RATE-02": "out of reach (1,000,000/min): the target config states no rate_limit_per_minute a run "
            "can exceed"
        }
    ),
    operations_not_generated=("resetPassword",),  # it would change the suite's own password mid-run
    checks=(
        *SCHEMATHESIS_CHECKS,
        common.json_content_type,
        common.utf8_body,
        push.push_error_body,
    ),
    rule_requirements={
        "not_a_server_error": ("R-PUSH-10",),
        "status_code_conformance": ("R-PUSH-10",),
        "content_type_conformance": ("R-PUSH-19",),
        "response_schema_conformance": ("R-PUSH-09",),
        "negative_data_rejection": ("R-PUSH-18",),
        # An invalid request that breaks only a generation hint of the suite (msisdn's int64 format).
        "negative-data-preferred": ("R-PUSH-22",),
        "positive_data_acceptance": ("R-PUSH-21",),
        "content-type-json": ("R-PUSH-19",),
        "utf8-body": ("R-PUSH-04",),
        "push-error-json": ("R-PUSH-10",),
        "push-error-shape": ("R-PUSH-20",),
    },
    credentials_description="the credentials of your Push API account at",
    target_settings=TargetSettings(
        settings={
            "bulk_path": str,
            "rate_limit_per_minute": int,
            "callback_wait_s": (int, float),
            "load_batch_size": int,  # numbers in each batch of `conformance load push --mode batch`
        },
        identities={
            "registered": {"msisdn": (int, str)},
            "unregistered": {"msisdn": (int, str)},
            "initial_account": {"login": str, "password": str, "new_password": str},
        },
        required_keys={
            "registered": ("msisdn",),
            "unregistered": ("msisdn",),
            "initial_account": ("login", "password", "new_password"),
        },
        # Every validation probe is a send to it: without it, a host that accepted one would message someone.
        required_identities={"unregistered": "a number with no Koshelek user, where the validation probes go"},
    ),
    identity_rules={
        # The callback round and the rate-limit test send to it too.
        "registered": (
            *("R-PUSH-16", "R-BULK-02", "R-RATE-02", "R-RATE-04", "R-PUSH-17", "R-STATE-02"),
            *("R-CB-01", "R-CB-02", "R-CB-04", "R-CB-05", "R-CB-06", "R-CB-13"),
        ),
        "initial_account": ("R-PUSH-05", "R-PUSH-06", "R-PUSH-07"),
    },
    callback_rules=("R-CB-01", "R-CB-02", "R-CB-04", "R-CB-05", "R-CB-06", "R-CB-13", "R-PUSH-17", "R-STATE-02"),
    schemathesis_config={
        "checks": {
            "negative_data_rejection": {"expected-statuses": ["400"]},
            # 429 is the sandbox's over-limit answer: a valid send may meet it.
            "positive_data_acceptance": {"expected-statuses": ["200", "429"]},
        },
        **ONLY_DOCUMENTED_METHODS,
        # The batch body beyond pushType and msisdn is not documented (M-2): a refusal of a generated body with
        # no usable payload is a reasonable answer, so it is no evidence against the host.
        "operations": [
            {
                "include-operation-id": "sendPushBulkSingle",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["200", "400", "429"]}},
            }
        ],
    },
)

PUSH_CALLBACK = Profile(
    name="push-callback",
    spec_file="push-callback-api.yaml",
    suite="conformance.suites.push_callback",
    probe_path="/push/callback",
    credential_env=("CONFORMANCE_USERNAME", "CONFORMANCE_PASSWORD"),
    target_config_resource="push_callback/target.toml",
    app_factory="conformance.fixtures.push_callback.app:create_app",
    path_settings={"/push/callback": "callback_path"},
    # The sender's rules bind Koshelek's Push API host, which this suite plays itself: `conformance run push`
    # with a callback listener tests them against a host.
    out_of_reach={
        req_id: "a rule for Koshelek's sender, which this suite plays; `conformance run push` tests it"
        for req_id in ("R-CB-01", "R-CB-02", "R-CB-04", "R-CB-05")
    },
    checks=(
        not_a_server_error,
        status_code_conformance,
        response_schema_conformance,
        positive_data_acceptance,
        common.utf8_body,
    ),
    rule_requirements={
        "not_a_server_error": ("R-CB-12",),
        "status_code_conformance": ("R-CB-10",),
        "response_schema_conformance": ("R-CB-03",),
        "positive_data_acceptance": ("R-CB-10",),
        "utf8-body": ("R-CB-11",),
    },
    credentials_description="the credentials Koshelek uses to call your callback receiver at",
    target_settings=TargetSettings(settings={"callback_path": str}),
    schemathesis_config={
        "checks": {"positive_data_acceptance": {"expected-statuses": ["200"]}},
        **ONLY_DOCUMENTED_METHODS,
    },
)

IMBEE = Profile(
    name="imbee",
    spec_file="imbee-api.yaml",
    suite="conformance.suites.imbee",
    probe_path="/token/new",
    credential_env=("CONFORMANCE_IMBEE_AUTH", "CONFORMANCE_IMBEE_KEY"),
    auth_headers=("Authorization", "X-WOOS-KEY"),
    response_secrets=("apikey", "pass"),
    keeps_form=imbee.is_refusal_envelope,
    target_config_resource="imbee/target.toml",
    app_factory="conformance.fixtures.imbee.app:create_app",
    checks=(
        *SCHEMATHESIS_CHECKS,
        common.json_content_type,
        common.utf8_body,
        imbee.imbee_envelope,
        imbee.imbee_error_code,
    ),
    rule_requirements={
        # A 5xx that keeps the documented envelope meets R-IMB-30 (the envelope check judges the form, whatever the
        # status); the status is the suite's advisory policy. No answer at all is R-IMB-30 (x-availability-rule).
        "not_a_server_error": ("R-IMB-45",),
        "status_code_conformance": ("R-IMB-45",),
        "content_type_conformance": ("R-IMB-32",),
        "response_schema_conformance": ("R-IMB-30",),
        "negative_data_rejection": ("R-IMB-45",),
        "positive_data_acceptance": ("R-IMB-45",),
        "content-type-json": ("R-IMB-32",),
        "utf8-body": ("R-IMB-32",),
        "envelope": ("R-IMB-30",),
        "envelope-time": ("R-IMB-03",),
        "error-code-zero": ("R-IMB-45",),
        "error-message": ("R-IMB-46",),
    },
    credentials_description="the account's auth token (Authorization) and corporate token (X-WOOS-KEY) for",
    target_settings=TargetSettings(
        settings={"user_id_prefix": str, "default_max_retries": int, "default_date_limit": str},
        identities={"bot": {"bot_idsha": str}, "recipient": {"mail": str, "celullar": str}},
        required_keys={"bot": ("bot_idsha",), "recipient": ("mail|celullar",)},
        # The token tests send to them: without them the suite would make up a bot and an inbox.
        required_identities={
            "bot": "a bot of the account, for whom /token/new makes tokens",
            "recipient": "an inbox or phone of your test environment, where /token/new sends the tokens",
        },
    ),
    schemathesis_config={
        "checks": {
            # The suite's status policy (R-IMB-45, advisory): 400 for bad input, 415 without a JSON Content-Type.
            "negative_data_rejection": {"expected-statuses": ["400", "415"]},
            # The documents leave which members a request needs open: a refusal of a generated body that
            # lacks one (bot_idsha, a contact that does not exist) is a reasonable answer too.
            "positive_data_acceptance": {"expected-statuses": ["200", "400"]},
        },
        **ONLY_DOCUMENTED_METHODS,
    },
)

PROFILES: dict[str, Profile] = {profile.name: profile for profile in (LOYALTY, PUSH, PUSH_CALLBACK, IMBEE)}


def _client_of(service: Profile) -> Profile:
    """The profile that certifies a partner's client of `service`: same spec and credentials, the client rules,
    a suite that judges the journal of what the client sent (nothing is sent to anyone)."""
    return replace(
        service,
        name=f"{service.name}-client",
        suite=f"conformance.suites.{service.name}_client",
        party="client",
        checks=(),
        rule_requirements={},
        borrowed_requirements=(),
        out_of_reach={},
        reach=None,
        sequential_because="",
        identity_rules={},
        callback_rules=(),
    )


# The APIs whose clients partners write (they host none of these): `conformance certify-client API`.
CLIENT_PROFILES: dict[str, Profile] = {service.name: _client_of(service) for service in (PUSH, IMBEE)}


def get_profile(name: str) -> Profile:
    try:
        profile = PROFILES.get(name) or next(p for p in CLIENT_PROFILES.values() if p.name == name)
    except StopIteration:
        raise ConfigurationError(f"unknown API {name!r}; known: {', '.join(PROFILES)}") from None
    profile.check_rules()
    return profile
