"""Masking of secrets. What a target (or a certified client) sends is masked once, at ingestion
(`conformance.ingest`), before any check, test, record, message or report reads it; cutting, `repr()` and escaping
happen only after that.

A secret is found through the views of a text (`report.views`: as written, JSON/JS escapes of every kind,
percent- and form-encoding, HTML entities, base64 and hex runs, nested a few levels deep), in any charset and
ASCII letter case, and masked where it stands in the original text, escapes and all.

How much of a secret can be told from ordinary words decides where it is masked:
- a *distinct* secret (8 characters or more, not all digits, and found nowhere in the suite's own text: specs,
  source, report templates) is masked wherever any view shows it, inside other words included;
- a *weak* one (shorter, all digits, or a word the suite itself uses, such as `test` or `card`) is masked only
  where it stands as a whole value: a whole header value, a whole JSON string that is not a member's name, a
  query or form value. Masking it inside running text would rewrite a target's answers (a member named `card`)
  and the suite's own words.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import ahocorasick

from .views import View, charset_forms, fold, views

if TYPE_CHECKING:
    from ..target import Credentials

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "x-woos-key", "cookie", "set-cookie"})
MIN_SECRET_LENGTH = 3  # a one- or two-character "secret" would mask half the report
DISTINCT_LENGTH = 8
_VALUE_ENDS = frozenset({"", "&", ";", ",", " ", "\t", "\r", "\n", '"', "'"})


@lru_cache(maxsize=1)
def suite_text() -> str:
    """Everything the suite itself writes whatever the target (specs, source, pytest-html's page), folded."""
    parts: list[str] = []
    roots = [resources.files("conformance"), resources.files("conformance.specs")]  # apart in a checkout
    try:
        roots.append(resources.files("pytest_html"))
    except ModuleNotFoundError:  # pragma: no cover - pytest-html is a dependency
        pass
    for root in roots:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.is_dir():
                if node.name in ("fixtures", "__pycache__"):  # reference services answer like targets do
                    continue
                stack.extend(node.iterdir())
            elif node.name.endswith((".py", ".yaml", ".toml", ".css", ".js", ".html", ".ini", ".jinja2")):
                parts.append(node.read_text("utf-8", errors="replace"))
    return fold("\n".join(parts)).lower()


def is_distinct(secret: str) -> bool:
    """Whether a secret can be told from ordinary words wherever it occurs (see the module's docstring)."""
    return len(secret) >= DISTINCT_LENGTH and not secret.isdigit() and secret.lower() not in suite_text()


def forms(secret: str) -> set[str]:
    """The secret in every charset and in its upper and lower case, folded: the words views are searched for."""
    found: set[str] = set()
    for variant in {secret, secret.upper(), secret.lower()}:
        found |= {fold(form) for form in charset_forms(variant)}
    return found


def basic_tokens(username: str, password: str) -> set[str]:
    """The base64 tokens an `Authorization: Basic` header carries for the pair, UTF-8 and Latin-1."""
    import base64

    pair = f"{username}:{password}"
    tokens = {base64.b64encode(pair.encode("utf-8")).decode("ascii")}
    try:
        tokens.add(base64.b64encode(pair.encode("latin-1")).decode("ascii"))
    except UnicodeEncodeError:
        pass
    return tokens


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole value: the whole text, a quoted string that is no member name, or what
    follows `=` up to the end of the value."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if not before and not after:
        return True
    if before in ("'", '"') and after == before:
        return not text[end + 1 : end + 40].lstrip().startswith(":")
    return before == "=" and after in _VALUE_ENDS


def replace(value: str, spans: list[tuple[int, int]]) -> str:
    """`value` with each of the (merged, ordered) spans replaced by the mask."""
    if not spans:
        return value
    out: list[str] = []
    position = 0
    for start, end in spans:
        out += [value[position:start], MASK]
        position = end
    out.append(value[position:])
    return "".join(out)


class Masker:
    """Knows the run's secrets; masks them in any text, and tells where a text shows one (for the leak scan)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: dict[str, bool] = {}  # secret -> distinct
        self._automaton: ahocorasick.Automaton | None = None
        # Threads of one run learn secrets and mask at once: each one masks with an automaton of every secret added
        # before it asked (built whole, then swapped in under the lock).
        self._lock = threading.RLock()
        for secret in secrets:
            self.add(secret)

    @classmethod
    def for_credentials(cls, credentials: Credentials, *, basic: bool) -> Masker:
        masker = cls()
        if basic:
            masker.add_basic(credentials.username, credentials.password)
        else:  # both values are secrets when they ride in headers of their own
            masker.add(credentials.username)
            masker.add(credentials.password)
        return masker

    def add(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
            return
        distinct = is_distinct(secret)
        with self._lock:
            self._secrets[secret] = distinct
            self._automaton = None  # rebuilt on next use

    def add_basic(self, username: str, password: str) -> None:
        self.add(password)
        for token in basic_tokens(username, password):
            self.add(token)

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def distinct(self) -> list[str]:
        with self._lock:
            return [secret for secret, distinct in self._secrets.items() if distinct]

    # --- finding -------------------------------------------------------------------------------------

    def _finder(self) -> ahocorasick.Automaton | None:
        with self._lock:
            automaton = self._automaton
            if automaton is None and self._secrets:
                automaton = ahocorasick.Automaton()
                words: dict[str, bool] = {}
                for secret, distinct in self._secrets.items():
                    for form in forms(secret):
                        if len(form) >= MIN_SECRET_LENGTH:
                            words[form] = words.get(form, False) or distinct
                for word, distinct in words.items():
                    automaton.add_word(word, (len(word), distinct))
                automaton.make_automaton()
                self._automaton = automaton
            return automaton

    def occurrences(self, text: str, *, weak: bool = True) -> Iterator[tuple[int, int, View]]:
        """Each place a secret shows in a view of `text`: (start, end) in `text` itself, and the view. Weak secrets
        count only where they stand as a whole value; `weak=False` leaves them out altogether."""
        finder = self._finder()
        if finder is None or not text:
            return
        for view in views(text):
            for last, (length, distinct) in finder.iter(fold(view.text)):
                start, end = last - length + 1, last + 1
                if distinct or (weak and _stands_alone(view.text, start, end)):
                    yield (*view.origin(start, end), view)

    # --- masking -------------------------------------------------------------------------------------

    def spans(self, value: str) -> list[tuple[int, int]]:
        """The places of `value` that show a secret, merged, in order."""
        merged: list[tuple[int, int]] = []
        for start, end in sorted((start, end) for start, end, _ in self.occurrences(value)):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def text(self, value: str) -> str:
        """`value` with every secret it shows, in any view, replaced by *** where it stands."""
        if not self._secrets or not value:
            return value
        return replace(value, self.spans(value))

    def data(self, value: bytes) -> bytes:
        """Bytes masked as they are (read one character per byte, so any charset's form of a secret is found)."""
        if not self._secrets or not value:
            return value
        return self.text(value.decode("latin-1")).encode("latin-1")

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Header values masked; names too (a target may echo a secret as a header name)."""
        return {
            self.text(str(name)): MASK if str(name).lower() in SENSITIVE_HEADERS else self.text(str(value))
            for name, value in headers.items()
        }
