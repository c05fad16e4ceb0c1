"""The evidence bundle: DIR/<api>-evidence.zip holds the reports, the exact spec and target config of the run,
a manifest with the sha256 of every file, and an HMAC-SHA256 of the manifest, so that a reviewer holding the
key can tell, without rerunning anything, whether any byte was changed, and which file."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zipfile
from pathlib import Path

from .. import __version__

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
KEY_ENV = "CONFORMANCE_BUNDLE_KEY"


def mask_target_config(text: str) -> str:
    """The target config as used, with the value of every *password* key replaced (they are credentials)."""
    return re.sub(r'(?m)^(\s*[\w-]*password[\w-]*\s*=\s*)(".*?"|\'.*?\')', r'\1"***"', text)


def sign(manifest: bytes, key: str) -> str:
    return hmac.new(key.encode(), manifest, hashlib.sha256).hexdigest()


def write_bundle(report_dir: Path, api: str, spec_name: str, spec: bytes, target_config: str, key: str) -> Path:
    files: dict[str, bytes] = {
        f"reports/{path.name}": path.read_bytes() for path in sorted(report_dir.glob(f"{api}.*")) if path.is_file()
    }
    files[f"specs/{spec_name}"] = spec
    files["target/target.toml"] = mask_target_config(target_config).encode("utf-8")
    manifest = json.dumps(
        {
            "api": api,
            "suite_version": __version__,
            "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
        },
        indent=2,
        sort_keys=True,
    ).encode("utf-8")
    path = report_dir / f"{api}-evidence.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
        bundle.writestr(MANIFEST, manifest)
        bundle.writestr(SIGNATURE, sign(manifest, key))
    return path


def verify_bundle(path: Path, key: str) -> list[str]:
    """Everything wrong with the bundle, in plain words; an empty list means it is intact."""
    try:
        bundle = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path} is not a readable zip file ({exc})"]
    with bundle:
        names = set(bundle.namelist())
        if not {MANIFEST, SIGNATURE} <= names:
            return [f"{path} has no signed manifest: it is not an evidence bundle"]
        manifest = bundle.read(MANIFEST)
        if not hmac.compare_digest(sign(manifest, key), bundle.read(SIGNATURE).decode("ascii", "replace").strip()):
            return [
                "the manifest's signature does not match: the manifest was changed, or the key is not the one "
                "that signed it"
            ]
        expected = json.loads(manifest)["files"]
        problems = []
        for name, digest in sorted(expected.items()):
            if name not in names:
                problems.append(f"{name} is missing")
            elif hashlib.sha256(bundle.read(name)).hexdigest() != digest:
                problems.append(f"{name} was changed (its sha256 no longer matches the manifest)")
        problems += [f"{name} was added" for name in sorted(names - set(expected) - {MANIFEST, SIGNATURE})]
        return problems
