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


def response_definition(spec: Mapping[str, Any], operation: Mapping[str, Any], status: int) -> Mapping[str, Any]:
    responses = operation.get("responses", {})
    definition = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default") or {}
    return resolve(spec, definition)


def response_requirements(spec: Mapping[str, Any], operation: Mapping[str, Any], status: int) -> tuple[str, ...]:
    """The ids the documented response for `status` encodes in its schema."""
    return tuple(response_definition(spec, operation, status).get("x-requirements", ()))


def schema_failure_requirements(
    spec: Mapping[str, Any], operation: Mapping[str, Any], status: int, instance_path: Sequence[str | int]
) -> tuple[str, ...]:
    """The ids of the deepest schema node on the failing path (falling back to the response's own ids)."""
    definition = response_definition(spec, operation, status)
    found = tuple(definition.get("x-requirements", ()))
    content = definition.get("content", {})
    node = resolve(spec, next(iter(content.values()), {}).get("schema")) if content else None
    found = tuple(node.get("x-requirements", found)) if isinstance(node, Mapping) else found
    for step in instance_path:
        if not isinstance(node, Mapping):
            break
        if isinstance(step, int):
            node = resolve(spec, node.get("items"))
        else:
            node = resolve(spec, node.get("properties", {}).get(step))
        if isinstance(node, Mapping) and node.get("x-requirements"):
            found = tuple(node["x-requirements"])
    return found
