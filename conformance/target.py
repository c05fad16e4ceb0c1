"""What is under test: its base URL, how to trust it, the credentials and the partner's test identities."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
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
class TargetSettings:
    """What a target config of one API may hold: top-level settings and identities, each key with its type."""

    settings: Mapping[str, type | tuple[type, ...]] = field(default_factory=dict)
    identities: Mapping[str, Mapping[str, type | tuple[type, ...]]] = field(default_factory=dict)
    # Declared options (the partner's choices where the documents allow several): name -> the values it may take.
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Keys an identity must have when it is given ("a|b": at least one of them), and why the suite needs them.
    required_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Identities without which no run is honest (the suite would send made-up data): a missing one is an error.
    required_identities: Mapping[str, str] = field(default_factory=dict)  # name -> what it is for


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", list: "a list of strings", bool: "true or false"}


def _type_name(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(_TYPE_NAMES.get(kind, kind.__name__) for kind in kinds)


def _fits(value: Any, expected: type | tuple[type, ...]) -> bool:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # TOML's true is not the integer 1
    if list in kinds and isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return isinstance(value, kinds)


@dataclass(frozen=True)
class TargetConfig:
    """The partner's test data, from a TOML file (`--target-config`), checked against the API's settings."""

    identities: dict[str, dict[str, str]]
    optional_methods: tuple[str, ...]
    source: str
    text: str
    settings: dict[str, Any] = field(default_factory=dict)  # the other top-level keys (paths, limits)

    @classmethod
    def parse(cls, text: str, source: str, allowed: TargetSettings | None = None) -> TargetConfig:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"target config {source} is not valid TOML: {exc}") from None
        allowed = allowed or TargetSettings()
        settings_types = {"optional_methods": list, **allowed.settings, **{name: str for name in allowed.options}}
        for key, value in data.items():
            if key == "identities":
                continue
            if key not in settings_types:
                known = ", ".join(sorted(settings_types)) or "none"
                raise ConfigurationError(f"target config {source}: unknown key {key!r} (known keys: {known})")
            if key in allowed.options and value not in allowed.options[key]:
                values = " or ".join(f'"{v}"' for v in allowed.options[key])
                raise ConfigurationError(f"target config {source}: {key} must be {values}, not {value!r}")
            if not _fits(value, settings_types[key]):
                raise ConfigurationError(
                    f"target config {source}: {key} must be {_type_name(settings_types[key])}, not {value!r}"
                )
        identities = data.get("identities", {})
        if not isinstance(identities, dict) or not all(isinstance(v, dict) for v in identities.values()):
            raise ConfigurationError(f"target config {source}: [identities.<name>] tables expected")
        for name, identity in identities.items():
            if name not in allowed.identities:
                known = ", ".join(sorted(allowed.identities)) or "none"
                raise ConfigurationError(f"target config {source}: unknown identity [identities.{name}] ({known})")
            for key, value in identity.items():
                expected = allowed.identities[name].get(key)
                if expected is None:
                    known = ", ".join(sorted(allowed.identities[name]))
                    raise ConfigurationError(
                        f"target config {source}: unknown key {key!r} in [identities.{name}] (known keys: {known})"
                    )
                if not _fits(value, expected):
                    raise ConfigurationError(
                        f"target config {source}: identities.{name}.{key} must be {_type_name(expected)}, not {value!r}"
                    )
        for name, keys in allowed.required_keys.items():
            identity = identities.get(name)
            for key in keys if identity is not None else ():
                if not any(choice in identity for choice in key.split("|")):
                    wanted = " or ".join(key.split("|"))
                    raise ConfigurationError(f"target config {source}: [identities.{name}] needs {wanted}")
        for name, purpose in allowed.required_identities.items():
            if name not in identities:
                raise ConfigurationError(f"target config {source}: [identities.{name}] is required ({purpose})")
        for key, value in data.items():
            if isinstance(value, str) and key.endswith("_path") and not value.startswith("/"):
                raise ConfigurationError(f"target config {source}: {key} = {value!r} must start with '/'")
        return cls(
            identities={name: {k: str(v) for k, v in ident.items()} for name, ident in identities.items()},
            optional_methods=tuple(data.get("optional_methods", ())),
            source=source,
            text=text,
            settings={k: v for k, v in data.items() if k not in ("identities", "optional_methods")},
        )

    @classmethod
    def from_path(cls, path: str | Path, allowed: TargetSettings | None = None) -> TargetConfig:
        try:
            text = Path(path).read_bytes().decode("utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read target config {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"target config {path} is not UTF-8 text") from None
        return cls.parse(text, str(path), allowed)

    def identity(self, name: str) -> dict[str, str] | None:
        return self.identities.get(name)

    def secrets(self) -> list[str]:
        """Passwords the target config holds (e.g. of an account on its initial password): masked like credentials."""
        return [value for ident in self.identities.values() for key, value in ident.items() if "password" in key]

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def option(self, name: str) -> str | None:
        """A declared option's value, or None when the target config does not declare it."""
        value = self.settings.get(name)
        return None if value is None else str(value)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "identities": sorted(self.identities),
            "optional_methods": list(self.optional_methods),
        }


def _shown(url: str) -> str:
    """The URL as an error message may show it: never its user-info (it may hold a password), printable only."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        shown = parts._replace(netloc=host).geturl() if parts.netloc else url
    except ValueError:
        shown = url.rpartition("@")[2]
    return repr("".join(c if c.isprintable() else "?" for c in shown)[:200])


def validate_base_url(url: str) -> str:
    """Reject what cannot be a base URL before any request is sent (a usage error, not a transport one)."""
    try:
        parts = urlsplit(url)
        hostname, _ = parts.hostname, parts.port
    except ValueError:
        raise ConfigurationError(f"--base-url {_shown(url)} is not a valid URL") from None
    if "@" in parts.netloc:
        raise ConfigurationError(
            "--base-url must not carry credentials; give them in the environment (see `conformance run --help`)"
        )
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigurationError(f"--base-url {_shown(url)} is not an http(s) URL such as https://partner.example:8443")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"--base-url {_shown(url)} must not have a query or fragment")
    return url.rstrip("/")


def base_url_advice(base_url: str, spec_paths: list[str]) -> str:
    """What to check in a base URL whose requests all missed: the spec's paths are appended to it."""
    base_path = urlsplit(base_url).path.rstrip("/")
    example = next((path for path in spec_paths if "{" not in path), spec_paths[0] if spec_paths else "/")
    last = base_path.rpartition("/")[2]
    if last and all(path.startswith(f"/{last}/") for path in spec_paths):
        shorter = base_url.rstrip("/").removesuffix(f"/{last}")
        return (
            f"it ends in /{last} and the spec adds /{last} (requests went to {base_path}{example}); "
            f"try --base-url {shorter}"
        )
    return f"the spec's paths are added to it (e.g. {base_url.rstrip('/')}{example}): give the URL they hang from"


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
