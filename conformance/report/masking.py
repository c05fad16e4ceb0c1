"""Masking of credentials: every text that leaves the suite passes through a Masker first."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "x-woos-key", "cookie", "set-cookie"})


class Masker:
    """Replaces known secret values (and their Basic-auth and percent-encoded forms) with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if len(secret) < 3:  # a one- or two-character "secret" would mask half the report
            return
        self._secrets.add(secret)

    def add_basic(self, username: str, password: str) -> None:
        self.add(password)
        self.add(base64.b64encode(f"{username}:{password}".encode()).decode())

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        from urllib.parse import quote

        for secret in sorted(self._secrets, key=len, reverse=True):
            value = value.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: MASK if name.lower() in SENSITIVE_HEADERS else self.text(str(value))
            for name, value in headers.items()
        }
