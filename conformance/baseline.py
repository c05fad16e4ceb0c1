"""A baseline: the findings a run already knows about (`conformance run|certify-client --baseline FILE`).

Two kinds of file:
- a previous verdict JSON (say, the last release's): each of its findings (fail, error, warn) is known, with no
  owner and no expiry, until the baseline file is replaced;
- a curated baseline, TOML or JSON: `[[known]]` entries, each naming a finding key, an owner, a reason and an
  expiry date (inclusive). From the day after, the entry no longer makes its finding known.

A run given a baseline marks each finding of its verdict `known`, `expired` or `new`, and says which entries it
did not find again, and why (gone, or not seen). The judge's verdict and the exit code stay what they are: a
known defect is still a defect. The release gate decides what blocks (`block = "new"` blocks only findings that
are not known, and expired entries block again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diff import COMPARED, NotComparable, compare, examination, indexed, seen_again
from .target import ConfigurationError

MAX_BASELINE_BYTES = 64 * 1024 * 1024
KEY_PATTERN = re.compile(r"^[0-9a-f]{12}$")
ENTRY_FIELDS = {"key", "owner", "reason", "expires", "requirement", "operation", "check", "test", "signature", "title"}
CURATED_FIELDS = {"api", "known"}


@dataclass(frozen=True)
class Entry:
    key: str
    owner: str = ""
    reason: str = ""
    expires: dt.date | None = None  # None: a previous verdict's finding, known while that verdict is the baseline
    parts: dict[str, str] = field(default_factory=dict)  # requirement, operation, check, test, signature if known
    title: str = ""
    status: str = ""  # its status in the previous verdict

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Baseline:
    source: str
    kind: str  # "verdict" or "curated"
    sha256: str
    api: str | None
    entries: dict[str, Entry]
    previous: dict[str, Any] | None = None  # the previous verdict, when the baseline is one

    @classmethod
    def load(cls, path: str, api: str | None = None) -> Baseline:
        """Read and check a baseline file; `api`: the run it is for (a baseline of another API is an error)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read baseline {path}: {exc.strerror}") from None
        if len(data) > MAX_BASELINE_BYTES:
            raise ConfigurationError(f"baseline {path} is larger than {MAX_BASELINE_BYTES // 2**20} MiB")
        sha = hashlib.sha256(data).hexdigest()
        document = _parse(data, path)
        if "verdict" in document and "requirements" in document:
            baseline = cls._of_verdict(document, path, sha)
        elif "known" in document:
            baseline = cls._curated(document, path, sha)
        else:
            raise ConfigurationError(f"baseline {path} is neither a verdict JSON nor a curated baseline ([[known]])")
        if api is not None and baseline.api is not None and baseline.api != api:
            raise ConfigurationError(f"baseline {path} is for {baseline.api}, not {api}")
        return baseline

    @classmethod
    def _of_verdict(cls, document: dict[str, Any], path: str, sha: str) -> Baseline:
        try:
            found = indexed(document)
            examination(document)
        except NotComparable as exc:
            raise ConfigurationError(f"baseline {path}: {exc}") from None
        entries = {
            key: Entry(
                key,
                reason=f"found by the run of {document.get('started', 'an earlier date')}",
                parts={name: str(entry.get(name, "")) for name in ("requirement", "operation", "check", "test")},
                title=str(entry.get("title", "")),
                status=str(entry["status"]),
            )
            for key, entry in found.items()
        }
        return cls(path, "verdict", sha, str(document.get("api")), entries, document)

    @classmethod
    def _curated(cls, document: dict[str, Any], path: str, sha: str) -> Baseline:
        unknown = set(document) - CURATED_FIELDS
        if unknown:
            raise ConfigurationError(f"baseline {path}: unknown key(s) {', '.join(sorted(unknown))}")
        known = document["known"]
        if not isinstance(known, list):
            raise ConfigurationError(f"baseline {path}: known must be a list of entries")
        entries: dict[str, Entry] = {}
        for number, item in enumerate(known, start=1):
            entry = _entry(item, f"baseline {path}: entry {number}")
            if entry.key in entries:
                raise ConfigurationError(f"baseline {path}: entry {number} repeats key {entry.key}")
            entries[entry.key] = entry
        api = document.get("api")
        if api is not None and not isinstance(api, str):
            raise ConfigurationError(f"baseline {path}: api must be a string")
        return cls(path, "curated", sha, api, entries)

    def mark(self, finding: dict[str, Any], today: dt.date) -> dict[str, Any]:
        """What the baseline says of one finding: known (with its owner, reason, expiry), expired, or new."""
        entry = self.entries.get(str(finding.get("key")))
        if entry is None:
            return {"state": "new"}
        mark: dict[str, Any] = {
            "state": "expired" if entry.expired(today) else "known",
            "owner": entry.owner,
            "reason": entry.reason,
            "expires": entry.expires.isoformat() if entry.expires else None,
        }
        if entry.status:
            mark["was"] = entry.status
        return mark

    def apply(self, document: dict[str, Any], today: dt.date) -> None:
        """Mark every compared finding of a verdict document, and add the baseline's own section to it."""
        counts = {"new": 0, "known": 0, "expired": 0}
        seen: set[str] = set()
        for requirement in document.get("requirements", []):
            for finding in requirement.get("findings", []):
                if finding.get("status") not in COMPARED:
                    continue
                finding["baseline"] = self.mark(finding, today)
                counts[finding["baseline"]["state"]] += 1
                seen.add(finding["key"])
        examined = examination(document)
        not_found = []
        for key, entry in self.entries.items():
            if key in seen:
                continue
            if entry.parts.get("requirement") and entry.parts.get("check"):
                state = "gone" if seen_again({"key": key, **entry.parts}, examined) else "not seen"
            else:
                state = "not found"  # a curated entry that does not say which rule it is of
            not_found.append({"key": key, **entry.parts, "title": entry.title, "state": state})
        section: dict[str, Any] = {
            "file": self.source,
            "kind": self.kind,
            "sha256": self.sha256,
            "counts": counts,
            "not_found": not_found,
        }
        if self.previous is not None:
            section["diff"] = compare(self.previous, document)
        document["baseline"] = section


def _parse(data: bytes, path: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(f"baseline {path} is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ConfigurationError(f"baseline {path} is not valid JSON: {exc}") from None
    else:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"baseline {path} is neither JSON nor valid TOML: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"baseline {path} is not a JSON object")
    return document


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, dict):
        raise ConfigurationError(f"{where} is not a table")
    unknown = set(item) - ENTRY_FIELDS
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = {"key", "owner", "reason", "expires"} - item.keys()
    if missing:
        raise ConfigurationError(f"{where} lacks {', '.join(sorted(missing))}")
    key = item["key"]
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ConfigurationError(f"{where}: key must be a finding key of 12 hex digits (from a verdict's findings)")
    for name in ("owner", "reason"):
        if not isinstance(item[name], str) or not item[name].strip():
            raise ConfigurationError(f"{where} needs a {name}")
    expires = item["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            expires = None
    if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
        raise ConfigurationError(f"{where}: expires must be a date (2027-01-31)")
    parts = {name: str(item[name]) for name in ("requirement", "operation", "check", "test") if name in item}
    return Entry(key, item["owner"].strip(), item["reason"].strip(), expires, parts, str(item.get("title", "")))
