"""A finding's stable key: the same defect keeps its key across runs, seeds and suite versions that keep the rule.

A key is built from four readable parts, and a short hash of them that baselines, waivers and diffs name:

- `requirement`: the requirement id;
- `operation`: the documented operation of the exchange the finding cites, as the spec writes it
  (`GET /v1/card`, `PUT /v1/card/{cardNumber}/communication`), never the concrete URL; "" when none;
- `check`: the check that found it (`response_schema_conformance`, `loyalty_error_object`, `availability`),
  or `test` / `setup` / `teardown` for a test's own assertion, with `test` then naming the test's node id
  (its parameters come from the suite and the target config, never from generation);
- `signature`: the rule broken and where. The code that made the record may state it (a schema failure: the
  generic JSON pointer; a custom check: its rule and title); otherwise it is the record's title with what a run
  varies taken out: quoted values, numbers, UUIDs, and for a test's own words anything after the first ": ".

No generated value, seed, count, timestamp or masked secret reaches a key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .outcomes import Record

KEY_LENGTH = 12  # hex digits of sha256: 48 bits, ample for the few hundred findings a run can hold
SIGNATURE_LIMIT = 160
TEST_CHECKS = frozenset({"test", "setup", "teardown"})  # a test's own outcome, not a check's

_QUOTED = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`[^`\n]*`""")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# A number on its own (a status, a count, a length), not one inside a name like UTF-8, EAN_13, int64 or R-LOY-16.
_NUMBER = re.compile(r"(?<![\w-])\d+(?:\.\d+)?(?![\w])")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class FindingKey:
    requirement: str
    operation: str
    check: str
    test: str
    signature: str

    @property
    def id(self) -> str:
        text = "\x1f".join((self.requirement, self.operation, self.check, self.test, self.signature))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_LENGTH]

    def parts(self) -> dict[str, str]:
        return {
            "requirement": self.requirement,
            "operation": self.operation,
            "check": self.check,
            "test": self.test,
            "signature": self.signature,
        }


def normalise(text: str, *, own_words: bool = False) -> str:
    """A title with what varies from run to run taken out. `own_words`: a test's assertion message, whose details
    (values, bodies) follow its first ": "."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    if own_words:
        line = line.split(": ", 1)[0]
    line = _QUOTED.sub("…", line)
    line = _UUID.sub("<uuid>", line)
    line = _NUMBER.sub("#", line)
    return _SPACES.sub(" ", line).strip()[:SIGNATURE_LIMIT]


class Operations:
    """(method, URL) of an exchange -> the documented operation it called, as the spec writes its path.

    Literal paths win over templates (`/v1/card/getAllUsers` over `/v1/card/{cardNumber}`), and a path the target
    config moved (say, the batch send's prefix) is named by its documented path.
    """

    def __init__(self, paths: Mapping[str, Any], base_url: str, moved: Mapping[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.prefix = urlsplit(self.base_url).path.rstrip("/")
        methods = {"get", "put", "post", "delete", "patch", "head", "options"}
        patterns = []
        for documented, item in paths.items():
            served = (moved or {}).get(documented, documented)
            params = served.count("{")
            regex = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(served))
            for method in item if isinstance(item, Mapping) else ():
                if method in methods:
                    patterns.append((params, -len(served), method.upper(), re.compile(f"^{regex}/?$"), documented))
        self._patterns = sorted(patterns, key=lambda p: (p[0], p[1]))

    def of(self, exchange: Mapping[str, Any] | None) -> str:
        if not exchange or not isinstance(exchange.get("request"), Mapping):
            return ""
        request = exchange["request"]
        method, url = str(request.get("method") or "").upper(), str(request.get("url") or "")
        path = urlsplit(url).path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix) :]
        for _, _, verb, pattern, documented in self._patterns:
            if verb == method and pattern.match(path):
                return f"{method} {documented}"
        return ""


def key_of(requirement: str, record: Record, operations: Operations | None) -> FindingKey:
    own = record.check in TEST_CHECKS
    signature = (
        normalise(record.signature) if record.signature else normalise(record.title or record.reason, own_words=own)
    )
    return FindingKey(
        requirement=requirement,
        operation=operations.of(record.exchange) if operations is not None else "",
        check=record.check,
        test=record.test if own else "",
        signature=signature,
    )


def examined_by(records: Iterable[Record]) -> list[str]:
    """What examined a requirement in a run, in a key's terms: each check, and each test by its own assertions.
    A finding of another run is only *gone* when the same check or test examined the rule again."""
    seen: dict[str, None] = {}
    for record in records:
        if record.status in ("pass", "fail", "warn"):
            seen[record.test if record.check in TEST_CHECKS else record.check] = None
    return sorted(seen)


def examiner(parts: Mapping[str, str]) -> str:
    """The `examined_by` entry that stands for a key's check or test."""
    if parts.get("check") in TEST_CHECKS:
        return parts.get("test", "")
    return parts.get("check", "")
