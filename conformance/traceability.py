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


def _with_members(spec: Mapping[str, Any], node: Any) -> list[Mapping[str, Any]]:
    """`node` and the members of its allOf / anyOf / oneOf, resolved: the places its properties can be."""
    node = resolve(spec, node)
    if not isinstance(node, Mapping):
        return []
    found = [node]
    for key in ("allOf", "anyOf", "oneOf"):
        for member in node.get(key, []):
            found.extend(_with_members(spec, member))
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
    nodes = _with_members(spec, next(iter(content.values()), {}).get("schema")) if content else []
    found = _ids(nodes) or found
    for step in instance_path:
        children = [
            node.get("items") if isinstance(step, int) else node.get("properties", {}).get(step) for node in nodes
        ]
        nodes = [member for child in children if child is not None for member in _with_members(spec, child)]
        if not nodes:
            break
        found = _ids(nodes) or found
    return found
