"""Checking a signed attestation with public keys alone, and adding a signature to it.

The attestation is either inside an evidence bundle (`attestation.intoto.json`; the statement's subject names the
bundle's files) or a file of its own, such as the release gate's (the subject names files relative to the
envelope's folder). Checked in this order: the envelope parses; each given key verifies some signature (a keyid
is a hint, never trusted); the payload is an in-toto Statement; every file it names is there with its sha256, and
a bundle holds no file it does not name.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import attestation, dsse
from .bundle import ENVELOPE, SEALS, UnreadableBundle, compare, read_members
from .keys import PublicKey, SigningKey

AGAINST = "the signed statement"


@dataclass
class Checked:
    path: Path
    signed_by: list[PublicKey] = field(default_factory=list)
    not_signed_by: list[PublicKey] = field(default_factory=list)
    other_keyids: list[str] = field(default_factory=list)  # signatures no given key verifies (keyid hints)
    problems: list[str] = field(default_factory=list)  # the envelope, the statement, the files
    statement: dict[str, Any] | None = None
    envelope: dsse.Envelope | None = None
    in_bundle: bool = True
    envelope_member: str = ENVELOPE  # its name in the archive (a re-zip may have put it in a folder)

    @property
    def intact(self) -> bool:
        return bool(self.signed_by) and not self.not_signed_by and not self.problems


def _read_loose(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(dsse.MAX_ENVELOPE + 1)
    except FileNotFoundError:
        raise UnreadableBundle(f"{path} does not exist") from None
    except OSError as exc:
        raise UnreadableBundle(f"cannot read {path}: {exc.strerror}") from None
    return data


def _file_digest(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(1024 * 1024):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _expected_files(statement: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The files the statement names, and any descriptor that is no file whose digest does not fit its facts."""
    files, problems = {}, []
    for entry in statement["subject"]:
        name, digest = entry.get("name", ""), entry["digest"]["sha256"]
        if "uri" in entry:  # the target: a URL and declared options, digested as `attestation.described` does
            facts = {"annotations": entry.get("annotations"), "uri": entry["uri"]}
            recomputed = attestation.sha256(attestation.canonical(facts))
            if recomputed != digest:
                problems.append(f"the subject {name or entry['uri']} does not match its digest")
        elif name:
            files[name] = digest
    return files, problems


def check(path: Path, keys: list[PublicKey]) -> Checked:
    """Everything `conformance verify` reports. Raises UnreadableBundle when there is nothing to check."""
    in_bundle = zipfile.is_zipfile(path)
    checked = Checked(path, in_bundle=in_bundle)
    if in_bundle:
        members = read_members(path)
        raw = members.seals.get(ENVELOPE)
        checked.envelope_member = members.archived_as.get(ENVELOPE, ENVELOPE)
        if raw is None:
            legacy = "manifest.json" in members.seals
            checked.problems.append(
                f"{path} holds no signed attestation ({ENVELOPE})"
                + (": it is sealed only with the shared HMAC key (CONFORMANCE_BUNDLE_KEY)" if legacy else "")
            )
            checked.not_signed_by = list(keys)
            return checked
    else:
        raw = _read_loose(path)
        if not raw.lstrip().startswith(b"{"):
            raise UnreadableBundle(f"{path} is neither an evidence bundle (zip) nor an attestation (JSON)")
    try:
        envelope = dsse.parse(raw)
    except dsse.EnvelopeError as exc:
        checked.problems.append(f"the attestation is not a readable DSSE envelope: {exc}")
        checked.not_signed_by = list(keys)
        return checked
    checked.envelope = envelope
    for key in keys:
        (checked.signed_by if envelope.signed_by(key) else checked.not_signed_by).append(key)
    message = dsse.pae(envelope.payload_type, envelope.payload)
    checked.other_keyids = [
        keyid or "(no keyid)"
        for keyid, signature in envelope.signatures
        if not any(key.verifies(signature, message) for key in keys)
    ]
    if envelope.payload_type != dsse.IN_TOTO:
        checked.problems.append(f"the envelope's payloadType is {envelope.payload_type!r}, not {dsse.IN_TOTO}")
        return checked
    try:
        statement = attestation.read_statement(envelope.payload)
    except attestation.StatementError as exc:
        checked.problems.append(str(exc))
        return checked
    checked.statement = statement
    expected, problems = _expected_files(statement)
    checked.problems += problems
    if in_bundle:
        checked.problems += members.problems
        checked.problems += compare(expected, members.digests, AGAINST)
    else:
        folder = path.parent
        actual = {name: _file_digest(folder / name) for name in expected}
        checked.problems += compare(expected, {n: d for n, d in actual.items() if d is not None}, AGAINST)
    return checked


def countersign(checked: Checked, key: SigningKey) -> Path:
    """Add `key`'s signature to the envelope that `check` read (it must have found the files intact), in place."""
    assert checked.envelope is not None
    envelope = checked.envelope.with_signature(key).to_json()
    path = checked.path
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(descriptor)
    try:
        if checked.in_bundle:
            _rewrite_bundle(path, Path(temporary), checked.envelope_member, envelope)
        else:
            Path(temporary).write_bytes(envelope)
        os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))  # as readable as it was
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def _rewrite_bundle(source: Path, target: Path, member: str, envelope: bytes) -> None:
    """The same members, streamed across as they are, with the envelope replaced."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.is_dir():
                continue
            if info.filename == member:
                new.writestr(member, envelope)
                continue
            with old.open(info) as reader, new.open(info.filename, "w") as writer:
                while chunk := reader.read(1024 * 1024):
                    writer.write(chunk)


__all__ = ["SEALS", "Checked", "UnreadableBundle", "check", "countersign"]
