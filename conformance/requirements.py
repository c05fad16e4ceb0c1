"""The requirement catalogue of an API, read from its spec's root `x-requirements`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEVELS = ("mandatory", "advisory", "optional")


@dataclass(frozen=True)
class Requirement:
    id: str
    rule: str
    level: str  # mandatory: quoted from the documents; advisory: the suite's reading, it only warns
    source: str = ""
    quote: str = ""  # the sentence of the documents a mandatory rule follows from
    versions: tuple[str, ...] = ()  # the API versions the rule binds (empty: every version)


def catalogue(spec: Mapping[str, Any]) -> dict[str, Requirement]:
    """Requirements by id, in the spec's order."""
    return {
        req_id: Requirement(
            req_id,
            str(entry["rule"]),
            str(entry["level"]),
            str(entry.get("source", "")),
            " ".join(str(entry.get("quote", "")).split()),
            tuple(str(version) for version in entry.get("versions", ())),
        )
        for req_id, entry in spec.get("x-requirements", {}).items()
    }
