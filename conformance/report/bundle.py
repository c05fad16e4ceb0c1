"""The evidence bundle: DIR/<api>-evidence.zip holds the reports (the certificate page among them), the exact spec
and target config of the run, and one or both seals:

- `attestation.intoto.json`: an in-toto Statement over the sha256 of every file, in a DSSE envelope signed with
  the Ed25519 key of whoever ran the suite (`--attest KEY`). Anyone holding the public key can check it, and
  nobody can forge it without the private key (`report.verification`).
- `manifest.json` and `manifest.sig`: the legacy seal, an HMAC-SHA256 of the manifest keyed with
  CONFORMANCE_BUNDLE_KEY (`--bundle`). Whoever can check it can also forge it: it proves nothing to a third party.

Either way a reviewer can tell, without rerunning anything, whether any byte was changed, and which file. An
archive that was unzipped and zipped again is read the same way: directory entries, the order of the members
and one common top folder make no difference.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__

if TYPE_CHECKING:
    from .keys import SigningKey

MANIFEST, SIGNATURE, ENVELOPE = "manifest.json", "manifest.sig", "attestation.intoto.json"
SEALS = (ENVELOPE, MANIFEST, SIGNATURE)  # files of the bundle that seal the others
KEY_ENV = "CONFORMANCE_BUNDLE_KEY"
MAX_MEMBERS = 10_000  # a bundle holds a handful of files
MAX_MEMBER = 512 * 1024 * 1024  # bytes of one member read (hashed as a stream, never held whole)
MAX_SEAL = 16 * 1024 * 1024  # a seal file is read whole: kilobytes in practice


class UnreadableBundle(Exception):
    """Not a zip archive that can be read at all (a usage error, not evidence of tampering)."""


def mask_target_config(text: str) -> str:
    """The target config as used, with the value of every *password* key replaced (they are credentials)."""
    return re.sub(r'(?m)^(\s*[\w-]*password[\w-]*\s*=\s*)(".*?"|\'.*?\')', r'\1"***"', text)


def sign(manifest: bytes, key: str) -> str:
    return hmac.new(key.encode(), manifest, hashlib.sha256).hexdigest()


def collect(report_dir: Path, api: str, spec_name: str, spec: bytes, target_config: str) -> dict[str, bytes]:
    """The bundle's files by name: the run's reports (DIR/<api>.*), its spec, its target config (masked)."""
    files: dict[str, bytes] = {
        f"reports/{path.name}": path.read_bytes() for path in sorted(report_dir.glob(f"{api}.*")) if path.is_file()
    }
    files[f"specs/{spec_name}"] = spec
    files["target/target.toml"] = mask_target_config(target_config).encode("utf-8")
    return files


def write_bundle(
    report_dir: Path,
    api: str,
    spec_name: str,
    spec: bytes,
    target_config: str,
    key: str | None = None,
    *,
    signer: SigningKey | None = None,
) -> Path:
    """Write DIR/<api>-evidence.zip, attested with `signer` (from the run's own verdict JSON) and/or sealed with
    the HMAC `key`. The verdict must be a test result for `signer` (see `attestation.result_of`)."""
    from . import attestation, dsse

    files = collect(report_dir, api, spec_name, spec, target_config)
    if signer is not None:
        verdict = json.loads(files[f"reports/{api}.json"])
        statement = attestation.run_statement(verdict, files)
        files[ENVELOPE] = dsse.sign(attestation.serialise(statement), signer).to_json()
    if key is not None:
        manifest = json.dumps(
            {
                "api": api,
                "suite_version": __version__,
                "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
            },
            indent=2,
            sort_keys=True,
        ).encode("utf-8")
        files[MANIFEST] = manifest
        files[SIGNATURE] = sign(manifest, key).encode("ascii")
    path = report_dir / f"{api}-evidence.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return path


@dataclass
class Members:
    """An archive's files as a bundle sees them: name -> sha256, the seal files' bytes, what could not be read."""

    digests: dict[str, str] = field(default_factory=dict)
    seals: dict[str, bytes] = field(default_factory=dict)
    archived_as: dict[str, str] = field(default_factory=dict)  # name -> the member's name in the archive
    problems: list[str] = field(default_factory=list)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _top_folder(names: list[str]) -> str:
    """The one folder every file sits in, when the seals are inside it (`zip -r x.zip folder/`), else ''."""
    if not names or any(name in SEALS for name in names):
        return ""
    first = names[0].split("/", 1)[0] + "/"
    if all(name.startswith(first) for name in names) and any(first + seal in names for seal in SEALS):
        return first
    return ""


def read_members(path: Path) -> Members:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise UnreadableBundle(f"{path} does not exist") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise UnreadableBundle(f"{path} is not a readable zip file ({exc})") from None
    members = Members()
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]  # a re-zip adds folder entries
        if len(infos) > MAX_MEMBERS:
            raise UnreadableBundle(f"{path} holds {len(infos)} files; an evidence bundle holds a handful")
        names = [_clean(info.filename) for info in infos]
        prefix = _top_folder(names)
        for info, cleaned in zip(infos, names, strict=True):
            name = cleaned[len(prefix) :]
            if name in members.digests:
                members.problems.append(f"{name} appears twice in the archive")
                continue
            members.archived_as[name] = info.filename
            if info.file_size > (MAX_SEAL if name in SEALS else MAX_MEMBER):
                members.digests[name] = ""
                members.problems.append(f"{name} is {info.file_size} bytes, larger than a bundle holds: not read")
                continue
            digest, kept = hashlib.sha256(), bytearray()
            try:
                with archive.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        digest.update(chunk)
                        if name in SEALS:
                            kept += chunk
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                members.digests[name] = ""
                members.problems.append(f"{name} cannot be read ({exc}): the archive was changed or damaged")
                continue
            members.digests[name] = digest.hexdigest()
            if name in SEALS:
                members.seals[name] = bytes(kept)
    return members


def verify_bundle(path: Path, key: str) -> list[str]:
    """The legacy HMAC seal: everything wrong with the bundle, in plain words; an empty list means it is intact."""
    members = read_members(path)
    if not {MANIFEST, SIGNATURE} <= members.seals.keys():
        return [f"{path} has no HMAC-sealed manifest"]
    manifest = members.seals[MANIFEST]
    if not hmac.compare_digest(sign(manifest, key), members.seals[SIGNATURE].decode("ascii", "replace").strip()):
        return [
            "the manifest's signature does not match: the manifest was changed, or the key is not the one "
            "that signed it"
        ]
    expected = json.loads(manifest)["files"]
    return [*members.problems, *compare(expected, members.digests, "the manifest")]


def compare(expected: dict[str, str], actual: dict[str, str], against: str) -> list[str]:
    """Every file changed, missing or added, by name (the seal files are no content)."""
    problems = []
    for name, digest in sorted(expected.items()):
        if name not in actual:
            problems.append(f"{name} is missing")
        elif actual[name] and actual[name] != digest:  # '' : unreadable, already said
            problems.append(f"{name} was changed (its sha256 no longer matches {against})")
    extra = sorted(set(actual) - set(expected) - set(SEALS))
    return problems + [f"{name} was added" for name in extra]
