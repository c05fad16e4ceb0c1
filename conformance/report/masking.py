"""Masking of secrets: every text that leaves the suite passes through a Masker first.

A secret is masked in every form the suite itself produces or a target can echo back: as it is and in any
letter case, in HTTP Basic tokens (UTF-8 and Latin-1), JSON `\\u` escapes, percent-encoding (either hex
case, `+` or `%20` for spaces), HTML entities (named, decimal, hex), hex and base64 of its bytes, Python's
bytes and unicode-escape reprs. The leak scan (`report.leaks`) searches the artefacts for the same forms.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

import ahocorasick

if TYPE_CHECKING:
    from ..target import Credentials

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "x-woos-key", "cookie", "set-cookie"})
MIN_SECRET_LENGTH = 3  # a one- or two-character "secret" would mask half the report


def encodings(secret: str) -> set[str]:
    """Every form of `secret` a report or a target could carry (matched case-insensitively; the upper- and
    lower-cased secret get forms of their own, since `\\u00c4` is no case of `\\u00e4`)."""
    forms: set[str] = set()
    for variant in {secret, secret.upper(), secret.lower()}:
        forms |= _encodings(variant)
    return forms


def _encodings(secret: str) -> set[str]:
    forms = {secret}
    utf8 = secret.encode("utf-8")
    raw_forms = [utf8]
    try:
        raw_forms.append(secret.encode("latin-1"))
    except UnicodeEncodeError:
        pass
    forms.add(json.dumps(secret)[1:-1])  # \uXXXX escapes
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(secret.encode("unicode_escape").decode("ascii"))
    for data in raw_forms:
        forms.add(repr(data)[2:-1])  # b'P\xc3\xa4ss' as Python prints it
        forms.add(data.hex())
        encoded = base64.b64encode(data).decode("ascii")
        forms.update({encoded, encoded.rstrip("="), base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")})
        forms.add(quote_plus(data, safe=""))
        forms.add(quote(data, safe=""))
    forms.add(html.escape(secret))
    forms.add(html.escape(secret, quote=False))
    forms.add("".join(f"&#{ord(char)};" for char in secret))
    forms.add("".join(f"&#x{ord(char):x};" for char in secret))
    # Escaped again each time the text that holds them is quoted (JSON in JSON, a repr of such a body, ...).
    escaped = {form for form in forms if "\\" in form}
    for _ in range(3):
        escaped = {form.replace("\\", "\\\\") for form in escaped}
        forms |= escaped
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Needles:
    """Every place any of many words occurs in a text, overlaps included, in one pass (Aho-Corasick): the cost
    grows with the text, not with the number of words (hundreds of handed-out keys, each in dozens of forms)."""

    def __init__(self, words: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word in words:
            if word:
                self._automaton.add_word(word, len(word))
        self.empty = len(self._automaton) == 0
        if not self.empty:
            self._automaton.make_automaton()

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.empty or not text:
            return []
        return [(end - length + 1, end + 1) for end, length in self._automaton.iter(text)]


def basic_tokens(username: str, password: str) -> set[str]:
    """The base64 tokens an `Authorization: Basic` header carries for the pair, UTF-8 and Latin-1."""
    pair = f"{username}:{password}"
    tokens = {base64.b64encode(pair.encode("utf-8")).decode("ascii")}
    try:
        tokens.add(base64.b64encode(pair.encode("latin-1")).decode("ascii"))
    except UnicodeEncodeError:
        pass
    return tokens


class Masker:
    """Replaces known secret values, in all their forms, with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._forms: list[str] = []  # lower-cased, longest first
        self._needles: Needles | None = None
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
        self._secrets.add(secret)
        forms = set(self._forms) | {form.lower() for form in encodings(secret)}
        self._forms = sorted(forms, key=len, reverse=True)
        self._needles = None  # rebuilt on next use

    def add_basic(self, username: str, password: str) -> None:
        self.add(password)
        for token in basic_tokens(username, password):
            self.add(token)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(self._forms)

    def text(self, value: str) -> str:
        if not self._forms or not value:
            return value
        if self._needles is None:
            self._needles = Needles(self._forms)
        lowered = value.lower()
        if len(lowered) != len(value):  # a few characters change length when lower-cased: match with re instead
            pattern = "|".join(re.escape(form) for form in self._forms)
            return re.sub(pattern, MASK, value, flags=re.IGNORECASE)
        spans = self._needles.spans(lowered)
        if not spans:
            return value
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out, position = [], 0
        for start, end in merged:
            out += [value[position:start], MASK]
            position = end
        out.append(value[position:])
        return "".join(out)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Header values masked; names too (a target may echo a secret as a header name)."""
        return {
            self.text(str(name)): MASK if str(name).lower() in SENSITIVE_HEADERS else self.text(str(value))
            for name, value in headers.items()
        }
