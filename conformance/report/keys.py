"""Ed25519 signing keys. The party that runs the suite (or decides a release) holds the private key; whoever checks
its evidence needs only the public key, which cannot sign anything.

A key id is the sha256 of the public key in DER (SubjectPublicKeyInfo), in hex: anyone can recompute it with
`openssl pkey -pubin -in KEY.pub -outform DER | sha256sum`. The private key never leaves its file: it is read to
sign and is never printed or written anywhere else; nor is its passphrase.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..target import ConfigurationError

PASSPHRASE_ENV = "CONFORMANCE_SIGNING_PASSPHRASE"
MAX_KEY_FILE = 64 * 1024  # a PEM key is a few hundred bytes; anything far larger is not one


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey
    source: str  # where it came from (a file name), for messages

    @property
    def der(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def keyid(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    def pem(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def verifies(self, signature: bytes, data: bytes) -> bool:
        try:
            self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey = field(repr=False)
    source: str

    def __repr__(self) -> str:  # never show the key, even by accident
        return f"SigningKey(source={self.source!r})"

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.private.public_key(), self.source)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def generate(path: Path) -> tuple[Path, Path, PublicKey, bool]:
    """A new key pair: PATH (private, mode 0600, encrypted when the passphrase variable is set) and PATH.pub.
    Existing files are never overwritten. Returns both paths, the public key and whether it is encrypted."""
    public_path = path.with_name(path.name + ".pub")
    for existing in (path, public_path):
        if existing.exists():
            raise ConfigurationError(f"{existing} exists; keys are never overwritten: remove it or choose another name")
    private = Ed25519PrivateKey.generate()
    passphrase = _passphrase()
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    try:
        # Created 0600 from the start: the key is never readable by others, not even for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        os.chmod(path, 0o600)  # whatever the umask
        public = PublicKey(private.public_key(), str(public_path))
        public_path.write_bytes(public.pem())
    except OSError as exc:
        raise ConfigurationError(f"cannot write the key pair at {path}: {exc.strerror}") from None
    return path, public_path, public, passphrase is not None


def _read(path: str | Path, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE:
        raise ConfigurationError(f"{path} is not a {what} (far too large)")
    return data


def load_private(path: str | Path) -> SigningKey:
    """The signing key in PATH (PEM, PKCS#8), decrypted with the passphrase variable when it is encrypted."""
    data = _read(path, "private key")
    if b"PUBLIC KEY-----" in data:
        raise ConfigurationError(f"{path} is a public key; signing takes the private key (`conformance keygen`)")
    passphrase = _passphrase()
    try:
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            if passphrase is None:  # the key is encrypted and no passphrase was given
                raise ConfigurationError(f"{path} is encrypted: set {PASSPHRASE_ENV} to its passphrase") from None
            key = serialization.load_pem_private_key(data, password=None)  # the variable is set, the key is plain
    except (ValueError, UnsupportedAlgorithm):
        wrong = f", or the passphrase in {PASSPHRASE_ENV} is wrong" if passphrase else ""
        raise ConfigurationError(f"{path} is not a PEM private key{wrong}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 key; make one with `conformance keygen`")
    return SigningKey(key, str(path))


def load_public(path: str | Path) -> PublicKey:
    data = _read(path, "public key")
    if b"PRIVATE KEY-----" in data:
        raise ConfigurationError(f"{path} is a private key; checking takes the public key (the .pub file)")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigurationError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} is not an Ed25519 public key")
    return PublicKey(key, str(path))


def readable_by_others(path: str | Path) -> bool:
    """Whether a private key file lets other users read it (POSIX modes only)."""
    if os.name != "posix":
        return False
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False
