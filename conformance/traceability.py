"""From the spec to requirement ids: which rules a response's schema encodes, and which one a schema failure breaks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def resolve(spec: Mapping[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (`#/components/...`) until a plain node."""
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def ids_within(node: Any) -> set[str]:
    """Every requirement id written anywhere inside `node` (references are not followed)."""
    if isinstance(node, Mapping):
        own = set(node.get("x-requirements", ())) if isinstance(node.get("x-requirements"), list) else set()
        return own.union(*(ids_within(value) for key, value in node.items() if key != "x-requirements"))
    if isinstance(node, list):
        return set().union(*(ids_within(value) for value in node))
    return set()


def response_definition(spec: Mapping[str, Any], operation: Mapping[str, Any], status: int) -> Mapping[str, Any]:
    responses = operation.get("responses", {})
    definition = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default") or {}
    return resolve(spec, definition)


def response_requirements(spec: Mapping[str, Any], operation: Mapping[str, Any], status: int) -> tuple[str, ...]:
    """The ids the documented response for `status` encodes in its schema."""
    return tuple(response_definition(spec, operation, status).get("x-requirements", ()))


def with_members(spec: Mapping[str, Any], node: Any) -> list[Mapping[str, Any]]:
    """`node` and the members of its allOf / anyOf / oneOf, resolved: the places its properties can be."""
    node = resolve(spec, node)
    if not isinstance(node, Mapping):
        return []
    found = [node]
    for key in ("allOf", "anyOf", "oneOf"):
        for member in node.get(key, []):
            found.extend(with_members(spec, member))
    return found


def _ids(nodes: list[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(req for node in nodes for req in node.get("x-requirements", ())))


def schema_failure_requirements(
    spec: Mapping[str, Any], operation: Mapping[str, Any], status: int, instance_path: Sequence[str | int]
) -> tuple[str, ...]:
    """The ids of the deepest schema nodes on the failing path (falling back to the response's own ids)."""
    definition = response_definition(spec, operation, status)
    found = tuple(definition.get("x-requirements", ()))
    content = definition.get("content", {})
    nodes = with_members(spec, next(iter(content.values()), {}).get("schema")) if content else []
    found = _ids(nodes) or found
    for step in instance_path:
        children = [
            node.get("items") if isinstance(step, int) else node.get("properties", {}).get(step) for node in nodes
        ]
        nodes = [member for child in children if child is not None for member in with_members(spec, child)]
        if not nodes:
            break
        found = _ids(nodes) or found
    return found


def schema_pass_requirements(
    spec: Mapping[str, Any], operation: Mapping[str, Any], status: int, instance: Any
) -> tuple[str, ...]:
    """The ids a body that passed its schema gives evidence for: the response's own, and those of every schema
    node the body actually reached (an optional member the body lacks examined nothing)."""
    definition = response_definition(spec, operation, status)
    found: list[str] = list(definition.get("x-requirements", ()))
    content = definition.get("content", {})
    if not content:
        return tuple(dict.fromkeys(found))

    def walk(nodes: list[Mapping[str, Any]], value: Any, depth: int) -> None:
        found.extend(_ids(nodes))
        if depth > 20:
            return
        if isinstance(value, dict):
            for key, item in list(value.items())[:200]:
                children = [node.get("properties", {}).get(key) for node in nodes]
                walk([m for child in children if child is not None for m in with_members(spec, child)], item, depth + 1)
        elif isinstance(value, list):
            children = [node.get("items") for node in nodes]
            members = [m for child in children if child is not None for m in with_members(spec, child)]
            for item in value[:50]:
                walk(members, item, depth + 1)

    walk(with_members(spec, next(iter(content.values()), {}).get("schema")), instance, 0)
    return tuple(dict.fromkeys(found))


def response_schema(spec: Mapping[str, Any], operation: Mapping[str, Any], status: int) -> dict[str, Any] | None:
    """The documented body schema of the answer with `status`, as a standalone JSON Schema document."""
    content = response_definition(spec, operation, status).get("content", {})
    schema = next(iter(content.values()), {}).get("schema") if content else None
    if not isinstance(schema, Mapping):
        return None
    return {**schema, "components": spec.get("components", {})}  # local $refs resolve against the document root


def schema_evaluation(
    spec: Mapping[str, Any], operation: Mapping[str, Any], status: int, body: Any, validator: Any
) -> tuple[list[tuple[tuple[str, ...], str, list[str | int]]], tuple[str, ...]]:
    """Every schema error of a body with the ids it breaks, and the ids the rest of the body gives evidence for.

    Schemathesis stops at the first error of a body; a body with two defects must show both. A node whose own
    path holds no error passed its constraints, whatever failed below it.
    """
    errors = list(validator.iter_errors(body))
    failures = []
    failing_paths = set()
    for error in errors[:50]:
        path = list(error.instance_path)
        failing_paths.add(tuple(path))
        failures.append((schema_failure_requirements(spec, operation, status, path), str(error.message), path))
    definition = response_definition(spec, operation, status)
    passed: list[str] = [] if () in failing_paths else list(definition.get("x-requirements", ()))
    content = definition.get("content", {})

    def walk(nodes: list[Mapping[str, Any]], value: Any, path: tuple[Any, ...], depth: int) -> None:
        if path not in failing_paths:
            passed.extend(_ids(nodes))
        if depth > 20:
            return
        if isinstance(value, dict):
            for key, item in list(value.items())[:200]:
                children = [node.get("properties", {}).get(key) for node in nodes]
                members = [m for child in children if child is not None for m in with_members(spec, child)]
                walk(members, item, (*path, key), depth + 1)
        elif isinstance(value, list):
            members = [m for node in nodes if node.get("items") is not None for m in with_members(spec, node["items"])]
            for index, item in enumerate(value[:50]):
                walk(members, item, (*path, index), depth + 1)

    if content:
        walk(with_members(spec, next(iter(content.values()), {}).get("schema")), body, (), 0)
    failed_ids = {i for ids, _, _ in failures for i in ids}
    return failures, tuple(i for i in dict.fromkeys(passed) if i not in failed_ids)
