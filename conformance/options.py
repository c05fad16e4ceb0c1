"""The partner's declared options, and what a target config lets a run test: all known before any request.

A target config declares the partner's choices where the documents allow several (the spec's `x-options`, the API
version, the optional methods agreed, a path the documents leave open) and names the test identities. From these
alone a `Plan` says:
- which operations the run leaves out (another API version, an optional method not agreed);
- which rules do not bind this target, and why (another version, only left-out operations are subject to them, a
  declared option they do not bind): they are `not-applicable`, never untested and never passed;
- which rules this run cannot test, and why (an identity or an option the target config lacks, no callback
  listener): the run says so at its start, and they keep it from passing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .requirements import Requirement
from .target import ConfigurationError, TargetConfig
from .traceability import ids_within

if TYPE_CHECKING:
    from .profiles import Profile

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Option:
    """One of the spec's `x-options`: a choice the documents leave to the partner, and what each value means."""

    name: str
    about: str
    values: dict[str, str]  # value -> what it means


def spec_options(spec: Mapping[str, Any]) -> dict[str, Option]:
    return {
        name: Option(
            name, " ".join(str(entry.get("about", "")).split()), {str(k): str(v) for k, v in entry["values"].items()}
        )
        for name, entry in spec.get("x-options", {}).items()
    }


def claimed_version(profile: Profile, config: TargetConfig, flag: str | None) -> str:
    """The API version the run claims: --api-version, else the target config's api_version, else the spec's."""
    declared = config.option("api_version")
    if flag and declared and flag != declared:
        raise ConfigurationError(
            f"--api-version {flag} contradicts api_version = {declared!r} in target config {config.source}"
        )
    version = flag or declared or profile.spec_version
    if version not in profile.api_versions:
        raise ConfigurationError(f"--api-version {version} is not one of {', '.join(profile.api_versions)}")
    return version


@dataclass(frozen=True)
class Plan:
    options: dict[str, Any]  # what the verdict holds for: each option and its value (None: not declared)
    left_out: dict[str, str]  # operationId -> why the run does not call it
    not_applicable: dict[str, str]  # rule -> why it does not bind this target
    unmet: dict[str, str]  # rule -> what this run lacks to test it
    notes: list[str] = field(default_factory=list)  # what the target config holds that the run will not use

    def shortfalls(self, requirements: Mapping[str, Requirement]) -> list[str]:
        """One line per thing the run lacks, with the rules it costs (mandatory ones first)."""
        by_cause: dict[str, list[str]] = {}
        for req_id, cause in self.unmet.items():
            by_cause.setdefault(cause, []).append(req_id)
        lines = []
        for cause, ids in by_cause.items():
            levels = [requirements[i].level if i in requirements else "" for i in ids]
            costs = ", ".join(f"{i} ({level})" for i, level in zip(ids, levels, strict=True))
            verdict = ", so the run cannot pass" if "mandatory" in levels else ""
            lines.append(f"{cause}: the tests of {costs} will not run{verdict}")
        return lines


def operations(spec: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every operation of the spec, with its label ("GET /v1/card")."""
    return [
        (f"{method.upper()} {path}", op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def plan(profile: Profile, config: TargetConfig, version: str, *, listener: bool) -> Plan:
    """What this target config and claimed version make of the profile's rules (`listener`: callbacks reach the run)."""
    spec, requirements = profile.spec, profile.requirements
    declared = spec_options(spec)

    left_out: dict[str, str] = {}
    kept_ids: set[str] = set()
    left_ids: dict[str, str] = {}
    for label, op in operations(spec):
        why = None
        if "x-since" in op and _version_key(str(op["x-since"])) > _version_key(version):
            why = f"{label} is new in {op['x-since']} and the run claims {version}"
        elif op.get("x-optional") and op["operationId"] not in config.optional_methods:
            why = f"{label} is an optional method that optional_methods does not list (not agreed)"
        if why is None:
            kept_ids |= ids_within(op)
            continue
        left_out[op["operationId"]] = why
        for req_id in ids_within(op):
            left_ids.setdefault(req_id, why)

    not_applicable: dict[str, str] = {}
    unmet: dict[str, str] = {}
    for req_id, requirement in requirements.items():
        if requirement.versions and version not in requirement.versions:
            not_applicable[req_id] = f"it binds API version {', '.join(requirement.versions)}; the run claims {version}"
            continue
        if req_id in left_ids and req_id not in kept_ids and not requirement.versions:
            not_applicable[req_id] = f"only operations this run leaves out are subject to it: {left_ids[req_id]}"
            continue
        for name, values in requirement.applies_when:
            value = config.option(name)
            wanted = " or ".join(f'"{v}"' for v in values)
            if value is None:
                choices = " or ".join(f'"{v}"' for v in declared[name].values) if name in declared else wanted
                unmet.setdefault(req_id, f"the target config does not declare {name} ({choices})")
            elif value not in values:
                not_applicable[req_id] = (
                    f'the target config declares {name} = "{value}"; the rule binds {name} = {wanted}'
                )
                break

    for req_id in not_applicable:
        unmet.pop(req_id, None)
    beyond_any_run = {**profile.out_of_reach, **profile.reach_of(config)}  # said apart, with their own reason
    notes = []
    for name, ids in profile.identity_rules.items():
        binding = [req_id for req_id in ids if req_id not in not_applicable and req_id not in beyond_any_run]
        if config.identity(name) is None:
            for req_id in binding:
                unmet.setdefault(req_id, f"the target config has no [identities.{name}]")
        elif ids and not binding and all(req_id in not_applicable for req_id in ids):
            notes.append(
                f"[identities.{name}] is not needed: {', '.join(ids)} not applicable ({not_applicable[ids[0]]})"
            )
    if not listener:
        for req_id in profile.callback_rules:
            if req_id not in not_applicable and req_id not in beyond_any_run:
                unmet.setdefault(
                    req_id, "no callback listener (--callback-listen HOST:PORT, the account's callback URL set to it)"
                )

    options: dict[str, Any] = {"api_version": version}
    if any(op.get("x-optional") for _, op in operations(spec)):
        options["optional_methods"] = list(config.optional_methods)
    options.update({name: config.option(name) for name in declared})
    options.update({key: config.setting(key) or path for path, key in profile.path_settings.items()})
    return Plan(options, left_out, not_applicable, unmet, notes)


def describe_options(options: Mapping[str, Any]) -> str:
    """The options as one line: `api_version 1.1.0, blocked_card refused, ...`."""
    shown = []
    for name, value in options.items():
        if isinstance(value, list):
            value = ", ".join(value) or "none"
        shown.append(f"{name} {'(not declared)' if value is None else value}")
    return "; ".join(shown)
