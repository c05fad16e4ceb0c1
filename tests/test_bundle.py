"""The evidence bundle verifies when intact, and says exactly which file was changed when it is not."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conformance.report.bundle import mask_target_config, verify_bundle, write_bundle

KEY = "bundle-signing-key"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "loyalty.json").write_text(json.dumps({"verdict": "pass"}), encoding="utf-8")
    (tmp_path / "loyalty.html").write_text("<html>отчёт</html>", encoding="utf-8")
    config = '[identities.initial]\npassword = "initial-Pa55"\nmsisdn = "7"\n'
    return write_bundle(tmp_path, "loyalty", "loyalty-online-api.yaml", b"openapi: 3.1.0\n", config, KEY)


def rewrite(path: Path, name: str, content: bytes | None, extra: dict[str, bytes] | None = None) -> None:
    """Rebuild the zip with one member replaced (or dropped when content is None) and extra members added."""
    with zipfile.ZipFile(path) as original:
        members = {n: original.read(n) for n in original.namelist()}
    if content is None:
        members.pop(name)
    else:
        members[name] = content
    members.update(extra or {})
    with zipfile.ZipFile(path, "w") as changed:
        for member, data in members.items():
            changed.writestr(member, data)


def test_an_intact_bundle_verifies(bundle: Path) -> None:
    assert verify_bundle(bundle, KEY) == []
    with zipfile.ZipFile(bundle) as archive:
        assert set(archive.namelist()) == {
            "reports/loyalty.json",
            "reports/loyalty.html",
            "specs/loyalty-online-api.yaml",
            "target/target.toml",
            "manifest.json",
            "manifest.sig",
        }
        assert b"initial-Pa55" not in archive.read("target/target.toml")


def test_one_changed_byte_is_found_and_named(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        verdict = archive.read("reports/loyalty.json")
    rewrite(bundle, "reports/loyalty.json", verdict.replace(b"pass", b"pasS"))
    assert verify_bundle(bundle, KEY) == [
        "reports/loyalty.json was changed (its sha256 no longer matches the manifest)"
    ]


def test_a_missing_or_added_file_is_named(bundle: Path) -> None:
    rewrite(bundle, "specs/loyalty-online-api.yaml", None, extra={"reports/extra.txt": b"x"})
    assert verify_bundle(bundle, KEY) == ["specs/loyalty-online-api.yaml is missing", "reports/extra.txt was added"]


def test_a_changed_manifest_or_another_key_breaks_the_signature(bundle: Path) -> None:
    assert "signature does not match" in verify_bundle(bundle, "another-key")[0]
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["files"]["reports/loyalty.json"] = "0" * 64
    rewrite(bundle, "manifest.json", json.dumps(manifest).encode())
    assert "signature does not match" in verify_bundle(bundle, KEY)[0]


def test_passwords_in_the_target_config_are_masked() -> None:
    text = "password = \"a\"\nnew_password = 'b'\nmsisdn = 79216668899\n"
    assert mask_target_config(text) == 'password = "***"\nnew_password = "***"\nmsisdn = 79216668899\n'


def test_verify_command_exit_codes(bundle: Path, tmp_path: Path) -> None:
    env = {"CONFORMANCE_BUNDLE_KEY": KEY, "PATH": ""}
    verify = [sys.executable, "-m", "conformance", "verify"]
    assert subprocess.run([*verify, str(bundle)], env=env, capture_output=True).returncode == 0
    rewrite(bundle, "reports/loyalty.html", b"<html>forged</html>")
    changed = subprocess.run([*verify, str(bundle)], env=env, capture_output=True, text=True)
    assert changed.returncode == 1 and "reports/loyalty.html was changed" in changed.stdout
    no_key = subprocess.run([*verify, str(bundle)], env={"PATH": ""}, capture_output=True, text=True)
    assert no_key.returncode == 2 and "CONFORMANCE_BUNDLE_KEY" in no_key.stderr
