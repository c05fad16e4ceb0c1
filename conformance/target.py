"""What is under test: its base URL, how to trust it, the credentials and the partner's test identities."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigurationError(Exception):
    """Bad options or a bad target config: the run cannot start (exit code 2)."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:  # never print the password, even by accident
        return f"Credentials(username={self.username!r}, password='***')"

    @classmethod
    def from_env(cls, username_var: str, password_var: str) -> Credentials | None:
        username, password = os.environ.get(username_var), os.environ.get(password_var)
        if username is None and password is None:
            return None
        if not username or password is None:
            raise ConfigurationError(f"set both {username_var} and {password_var}, or neither")
        return cls(username, password)

    def as_tuple(self) -> tuple[str, str]:
        return (self.username, self.password)


@dataclass(frozen=True)
class TargetConfig:
    """The partner's test data, from a TOML file (`--target-config`)."""

    identities: dict[str, dict[str, str]]
    optional_methods: tuple[str, ...]
    source: str
    text: str
    settings: dict[str, Any] = field(default_factory=dict)  # the other top-level keys (paths, limits)

    @classmethod
    def parse(cls, text: str, source: str) -> TargetConfig:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"target config {source} is not valid TOML: {exc}") from None
        identities = data.get("identities", {})
        if not isinstance(identities, dict) or not all(isinstance(v, dict) for v in identities.values()):
            raise ConfigurationError(f"target config {source}: [identities.<name>] tables expected")
        return cls(
            identities={name: {k: str(v) for k, v in ident.items()} for name, ident in identities.items()},
            optional_methods=tuple(data.get("optional_methods", ())),
            source=source,
            text=text,
            settings={k: v for k, v in data.items() if k not in ("identities", "optional_methods")},
        )

    @classmethod
    def from_path(cls, path: str | Path) -> TargetConfig:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read target config {path}: {exc.strerror}") from None
        return cls.parse(text, str(path))

    def identity(self, name: str) -> dict[str, str] | None:
        return self.identities.get(name)

    def secrets(self) -> list[str]:
        """Passwords the target config holds (e.g. of an account on its initial password): masked like credentials."""
        return [value for ident in self.identities.values() for key, value in ident.items() if "password" in key]

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "identities": sorted(self.identities),
            "optional_methods": list(self.optional_methods),
        }


def validate_base_url(url: str) -> str:
    """Reject what cannot be a base URL before any request is sent (a usage error, not a transport one)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"--base-url {url!r} is not an http(s) URL such as https://partner.example:8443")
    if parts.username or parts.password:
        raise ConfigurationError(
            "--base-url must not carry credentials; use CONFORMANCE_USERNAME / CONFORMANCE_PASSWORD"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"--base-url {url!r} must not have a query or fragment")
    return url.rstrip("/")


@dataclass(frozen=True)
class Target:
    base_url: str
    credentials: Credentials
    config: TargetConfig
    api_version: str
    verify: bool | str = True  # True, or the path of a CA bundle
    embedded: bool = False
    timeout: float = 10.0
    faults: tuple[str, ...] = ()  # faulty variants turned on in the embedded reference service
