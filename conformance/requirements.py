"""The requirement catalogue of an API, read from its spec's root `x-requirements` (what the service must do) or
`x-client-requirements` (what a partner's client of it must do)."""

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
    check: str = ""  # client rules: "request" (judged on each request) or "behaviour" (over a step's requests)
    # The declared options the rule binds (`applies-when`: option -> the values under which it applies); empty: any.
    applies_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Client rules about an optional member "when sent" (`applies-when-sent: date_limit`): a client that never sends
    # the member follows the documents, so the rule is not applicable to it, never untested.
    applies_when_sent: str = ""


SERVICE_RULES, CLIENT_RULES = "x-requirements", "x-client-requirements"


def catalogue(spec: Mapping[str, Any], key: str = SERVICE_RULES) -> dict[str, Requirement]:
    """Requirements by id, in the spec's order."""
    return {
        req_id: Requirement(
            req_id,
            str(entry["rule"]),
            str(entry["level"]),
            str(entry.get("source", "")),
            " ".join(str(entry.get("quote", "")).split()),
            tuple(str(version) for version in entry.get("versions", ())),
            str(entry.get("check", "")),
            tuple((str(name), tuple(str(v) for v in values)) for name, values in entry.get("applies-when", {}).items()),
            str(entry.get("applies-when-sent", "")),
        )
        for req_id, entry in spec.get(key, {}).items()
    }
