"""The robustness pass: every field of every operation, with the inputs real services most often break on.

Derived from the spec, not listed by hand: each string field and parameter gets a 10,000-character value,
Cyrillic and emoji text, control characters and (in JSON bodies, the one place the transport carries it) a
lone surrogate; each enum an invalid value in Cyrillic; each integer the int64 bounds and one past them; each
array one item past `maxItems` and the empty array. Schemathesis' coverage phase already sends the boundary
values of documented limits (`maxLength` + 1, `maxItems` + 1, ASCII enum misses): they are not repeated here.

What is checked is what the documents state of any answer: it is one of the documented answers - never a
server error or no answer at all (the API's availability rule) - and the checks of the profile judge its form
(JSON, UTF-8, the error body), so a service that echoes a rejected Cyrillic value in a garbled error fails
there. The request each probe starts from is a valid one the suite knows (`base_request` of each suite).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from ..plugin import run_params
from ..run import Run
from ..traceability import resolve, with_members
from .support import operation, send

LONG = ("Длинная строка 🚀 " * 600)[:10_000]  # 10,000 characters, Cyrillic and emoji among them
# In a URL, 2,000 characters (about 8 KB once percent-encoded): beyond that, web servers refuse the request line
# themselves (414) before the API sees it, which says nothing about the API.
LONG_IN_URL = LONG[:2000]
CYRILLIC = "Проверка кириллицы и эмодзи 🚀✨ «ёЁ»"
CONTROL = "a\u0000b\u0007c\u001b[31md\u007fe\u2028f"
INVALID_ENUM = "НЕДОПУСТИМОЕ-ЗНАЧЕНИЕ"
LONE_SURROGATE = "\ud800"  # valid JSON text ("\ud800"), invalid Unicode: only a JSON body carries it
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


@dataclass(frozen=True)
class BaseRequest:
    """A request to one operation that the target answers as a valid one."""

    path_parameters: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


# base_request(run, operation_id, http) -> BaseRequest: called when a probe runs (it may create what it needs,
# e.g. a user whose apikey the request carries); results are kept for the run.
BaseRequests = Callable[[Run, str, requests.Session], BaseRequest]
BASES = pytest.StashKey[dict[str, BaseRequest]]()


@dataclass(frozen=True)
class Probe:
    operation_id: str
    location: str  # "query", "path" or "body"
    name: tuple[str | int, ...]  # the parameter's name, or the JSON path in the body
    kind: str
    value: Any

    @property
    def where(self) -> str:
        return f"{self.location} {'/'.join(map(str, self.name))}"

    @property
    def id(self) -> str:
        return f"{self.operation_id}-{self.location}:{'/'.join(map(str, self.name))}-{self.kind}"


def _fields(spec: Mapping[str, Any], schema: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, dict]]:
    """(JSON path, merged schema) of every property below `schema`, objects descended."""
    properties: dict[str, list[Any]] = {}
    for member in with_members(spec, schema):
        for name, child in member.get("properties", {}).items():
            properties.setdefault(name, []).append(child)
    for name, children in properties.items():
        merged: dict[str, Any] = {}
        for child in children:
            for part in with_members(spec, child):
                merged.update({k: v for k, v in part.items() if k not in ("allOf", "anyOf", "oneOf")})
        yield (*path, name), merged
        if merged.get("type") == "object" or "properties" in merged:
            yield from _fields(spec, merged, (*path, name))


def _values(schema: Mapping[str, Any], *, in_json: bool) -> Iterator[tuple[str, Any]]:
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if "enum" in schema and any(isinstance(value, str) for value in schema["enum"]):
        yield "cyrillic-invalid-enum", INVALID_ENUM
    elif "string" in kinds or (not kinds - {None} and not in_json):
        yield "long", LONG if in_json else LONG_IN_URL
        yield "cyrillic-and-emoji", CYRILLIC
        yield "control-characters", CONTROL
        if in_json:
            yield "lone-surrogate", LONE_SURROGATE
    if "integer" in kinds and in_json:
        yield "int64-max", INT64_MAX
        yield "int64-min", INT64_MIN
        yield "int64-max-plus-one", INT64_MAX + 1
        yield "int64-min-minus-one", INT64_MIN - 1
    if "array" in kinds and in_json:
        yield "empty-array", []
        if isinstance(schema.get("maxItems"), int) and schema["maxItems"] < 10_000:
            item = schema.get("items", {})
            yield "one-past-max-items", ["1" if item.get("type") == "string" else 1] * (schema["maxItems"] + 1)


def _set(body: Any, path: tuple, value: Any) -> Any:
    changed = copy.deepcopy(body) if body is not None else {}
    node = changed
    for step in path[:-1]:
        if not isinstance(node, dict):
            return None
        node = node.setdefault(step, {})
    if not isinstance(node, dict):
        return None
    node[path[-1]] = value
    return changed


def probes_for(run: Run, skip: frozenset[str] = frozenset()) -> list[Probe]:
    spec = run.profile.spec
    found: list[Probe] = []
    for result in run.schema.get_all_operations():
        raw = result.ok().definition.raw
        operation_id = raw.get("operationId")
        if operation_id in skip:
            continue
        for parameter in raw.get("parameters", []):
            parameter = resolve(spec, parameter)
            location, name = parameter.get("in"), parameter.get("name")
            if location in ("query", "path"):
                for kind, value in _values(resolve(spec, parameter.get("schema", {})), in_json=False):
                    found.append(Probe(operation_id, location, (name,), kind, value))
        content = (raw.get("requestBody") or {}).get("content", {}).get("application/json")
        if content:
            for path, schema in _fields(spec, content.get("schema", {})):
                for kind, value in _values(schema, in_json=True):
                    found.append(Probe(operation_id, "body", path, kind, value))
    return found


def robustness_test(base_request: BaseRequests, *, skip: frozenset[str] = frozenset()) -> Callable[..., None]:
    """The test function of a suite's robustness pass, parametrized with every probe of its operations.
    `skip` names operations no probe may touch (a password reset would lock the suite out if it accepted one)."""

    def build(run: Run) -> list[Any]:
        mark = pytest.mark.requirement(run.profile.availability_requirement)
        return [pytest.param(probe, id=probe.id, marks=mark) for probe in probes_for(run, skip)]

    @run_params("probe", build)
    def test_every_field_survives_hostile_input(
        probe: Probe, run: Run, http: requests.Session, request: pytest.FixtureRequest
    ) -> None:
        bases = request.config.stash.setdefault(BASES, {})
        if probe.operation_id not in bases:
            bases[probe.operation_id] = base_request(run, probe.operation_id, http)
        base = bases[probe.operation_id]
        path_parameters, query, body, raw_body = dict(base.path_parameters), dict(base.query), base.body, None
        if probe.location == "path":
            path_parameters[probe.name[0]] = probe.value
        elif probe.location == "query":
            query[probe.name[0]] = probe.value
        else:
            body = _set(base.body, probe.name, probe.value)
            if probe.kind == "lone-surrogate":  # UTF-8 cannot carry it; a JSON \ud800 escape can
                raw_body, body = json.dumps(body, ensure_ascii=True).encode("ascii"), None
        response = send(
            run,
            http,
            probe.operation_id,
            path_parameters=path_parameters,
            query=query or None,
            body=body,
            raw_body=raw_body,
            headers=dict(base.headers),
        )
        keeps_form = run.profile.keeps_form is not None and run.profile.keeps_form(response)
        assert response.status_code < 500 or keeps_form, (  # a documented refusal, whatever its status, is answered
            f"{operation(run, probe.operation_id).label} with {probe.kind.replace('-', ' ')} in {probe.where} "
            f"answered {response.status_code}: a server error is no documented answer"
        )

    return test_every_field_survives_hostile_input
