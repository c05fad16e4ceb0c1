"""Signed attestations: an evidence bundle signed with one Ed25519 key verifies with its public key alone (read here
by a DSSE reader written from the spec, not the suite's own), fails with another key, names the file a one-byte
change altered, stays intact when unzipped and zipped again; the gate's attestation lists the verdicts it decided
on; the private key and its passphrase go nowhere but the key file."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import run_here
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_public_key

from conformance import __version__
from conformance.cli import main
from conformance.profiles import get_profile
from conformance.report import attestation, certificate, dsse, leaks
from conformance.report.bundle import ENVELOPE, verify_bundle, write_bundle
from conformance.report.keys import PASSPHRASE_ENV, generate, load_private
from conformance.report.verification import check

PASSPHRASE = "correct-horse-battery-staple-23"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"


# --- an independent reader, written from the DSSE and in-toto specs (not the suite's code) ----------------------


def dsse_read(envelope_json: bytes, public_pem: bytes) -> dict:
    """DSSE v1: verify one signature over PAE(payloadType, payload) with the public key alone; return the payload
    parsed as the in-toto Statement it must be."""
    envelope = json.loads(envelope_json)
    kind = envelope["payloadType"].encode("utf-8")

    def b64(text: str) -> bytes:  # standard or URL-safe, padded or not: readers must accept each
        text = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4))

    body = b64(envelope["payload"])
    message = b"DSSEv1 " + str(len(kind)).encode() + b" " + kind + b" " + str(len(body)).encode() + b" " + body
    key = load_pem_public_key(public_pem)
    for signature in envelope["signatures"]:
        try:
            key.verify(b64(signature["sig"]), message)
            break
        except InvalidSignature:
            continue
    else:
        raise AssertionError("no signature verifies with this public key")
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(body)
    assert statement["_type"] == STATEMENT_V1
    return statement


def der_keyid(public_pem: bytes) -> str:
    """The key id as `openssl pkey -pubin -outform DER | sha256sum` gives it, from the PEM text alone."""
    body = b"".join(line for line in public_pem.splitlines() if not line.startswith(b"-----"))
    return hashlib.sha256(base64.b64decode(body)).hexdigest()


# --- fixtures: small fake reports, no run ------------------------------------------------------------------------


def verdict_doc(outcome: str = "pass", *statuses: tuple[str, str], **extra: object) -> dict:
    statuses = statuses or (("R-LOY-01", "pass"), ("R-LOY-02", "pass"), ("R-LOY-03", "not-applicable"))
    return {
        "verdict": outcome,
        "api": "loyalty",
        "party": "service",
        "title": "Koshelek Loyalty Online API",
        "target": {
            "base_url": "https://loyalty.partner.example:8443",
            "embedded_reference": False,
            "faulty_variants": [],
        },
        "api_version": "1.1.0",
        "spec": {"file": "loyalty-online-api.yaml", "version": "1.1.0", "sha256": "ab" * 32},
        "target_config": {"source": "my.toml", "identities": ["with_card"], "optional_methods": ["getAllUsers"]},
        "suite_version": "0.1.0",
        "seed": 7,
        "max_examples": 2,
        "started": "2026-11-23T10:00:00Z",
        "counts": {"pass": 2, "not-applicable": 1},
        "requirements": [{"id": i, "status": s, "level": "mandatory"} for i, s in statuses],
        **extra,
    }


@pytest.fixture
def partner(tmp_path: Path):
    return generate(tmp_path / "partner.key")[0]


@pytest.fixture
def other(tmp_path: Path):
    return generate(tmp_path / "other.key")[0]


def make_bundle(folder: Path, key_path: Path, document: dict | None = None, hmac_key: str | None = None) -> Path:
    folder.mkdir(exist_ok=True)
    document = document or verdict_doc()
    (folder / "loyalty.json").write_text(json.dumps(document), encoding="utf-8")
    (folder / "loyalty.html").write_text("<html>отчёт</html>", encoding="utf-8")
    signer = load_private(key_path)
    certificate.write(folder, document, [signer.public])
    config = '[identities.initial]\npassword = "initial-Pa55"\n'
    return write_bundle(
        folder, "loyalty", "loyalty-online-api.yaml", b"openapi: 3.1.0\n", config, hmac_key, signer=signer
    )


def rezip(source: Path, target: Path, *, folder: str = "") -> None:
    """What a person does by hand: unzip, zip again (folder entries added, another order, maybe a top folder)."""
    with zipfile.ZipFile(source) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for directory in sorted({folder + name.rsplit("/", 1)[0] + "/" for name, _ in members if "/" in name}):
            archive.writestr(directory, b"")
        for name, content in reversed(members):
            archive.writestr(folder + name, content)


def replace_member(path: Path, name: str, content: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[name] = content
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- the envelope and the statement ------------------------------------------------------------------------------


def test_pae_is_the_dsse_specs_own_example() -> None:
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert dsse.pae("t", "ж".encode()) == b"DSSEv1 1 t 2 " + "ж".encode()  # lengths in bytes, not characters


def test_a_signed_bundle_reads_with_an_independent_dsse_reader_and_the_public_key_alone(
    partner: Path, tmp_path: Path
) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    public_pem = Path(f"{partner}.pub").read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        statement = dsse_read(archive.read(ENVELOPE), public_pem)
        members = {name: archive.read(name) for name in archive.namelist() if name != ENVELOPE}
        keyid = json.loads(archive.read(ENVELOPE))["signatures"][0]["keyid"]
    assert keyid == der_keyid(public_pem)
    files = {s["name"]: s["digest"]["sha256"] for s in statement["subject"] if "uri" not in s}
    assert files == {name: hashlib.sha256(content).hexdigest() for name, content in members.items()}
    assert "reports/loyalty.certificate.html" in files and "specs/loyalty-online-api.yaml" in files
    target = next(s for s in statement["subject"] if s.get("uri"))
    assert target["uri"] == "https://loyalty.partner.example:8443"
    assert target["annotations"]["apiVersion"] == "1.1.0" and target["annotations"]["optionalMethods"] == [
        "getAllUsers"
    ]
    assert statement["predicateType"] == TEST_RESULT
    predicate = statement["predicate"]
    assert predicate["result"] == "PASSED"
    assert predicate["passedTests"] == ["R-LOY-01", "R-LOY-02"] and predicate["failedTests"] == []
    names = {d["name"]: d for d in predicate["configuration"]}
    assert names["specs/loyalty-online-api.yaml"]["digest"]["sha256"] == "ab" * 32
    assert names["target/target.toml"]["digest"]["sha256"] == files["target/target.toml"]  # the masked config
    assert b"initial-Pa55" not in members["target/target.toml"]
    assert names["suite"]["annotations"]["version"] == __version__
    assert names["options"]["annotations"]["seed"] == 7
    third = generate(tmp_path / "third.key")[2]
    with zipfile.ZipFile(bundle) as archive, pytest.raises(AssertionError, match="no signature verifies"):
        dsse_read(archive.read(ENVELOPE), third.pem())


@pytest.mark.parametrize(
    "outcome, statuses, result",
    [
        ("pass", [("R-1", "pass"), ("R-2", "not-applicable")], "PASSED"),
        ("pass", [("R-1", "pass"), ("R-2", "warn")], "WARNED"),
        ("fail", [("R-1", "fail"), ("R-2", "warn"), ("R-3", "pass")], "FAILED"),
        ("inconclusive", [("R-1", "pass"), ("R-2", "error")], None),
        ("error", [], None),
    ],
)
def test_the_result_follows_the_verdict_and_inconclusive_runs_are_no_test_result(
    outcome: str, statuses: list, result: str | None
) -> None:
    document = verdict_doc(outcome, *statuses)
    assert attestation.result_of(document) == result
    if result is None:
        with pytest.raises(ValueError, match="not attested"):
            attestation.run_statement(document, {})
        return
    predicate = attestation.run_statement(document, {"reports/loyalty.json": b"{}"})["predicate"]
    assert predicate["result"] == result
    for key, status in (("passedTests", "pass"), ("warnedTests", "warn"), ("failedTests", "fail")):
        assert predicate[key] == [i for i, s in statuses if s == status]


def test_an_inconclusive_run_with_attest_says_nothing_was_signed(
    partner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.cli.run import say_attestation
    from conformance.judge import Verdict

    say_attestation(load_private(partner), Verdict("inconclusive", ["deadline"], 4, {}), {})
    assert (
        "not attested: a run that ends inconclusive is no test result, so nothing was signed" in capsys.readouterr().out
    )


# --- verify: the public key, the files, a re-zip ------------------------------------------------------------------


def test_verify_with_the_signers_key_then_another_key_then_a_one_byte_change(
    partner: Path, other: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    code, out = cli(capsys, "verify", str(bundle), "--public-key", f"{partner}.pub")
    assert code == 0 and "intact and signed by every key given" in out and "test-result PASSED" in out
    code, out = cli(capsys, "verify", str(bundle), "--public-key", f"{other}.pub")
    assert code == 1 and f"not signed by {other}.pub" in out
    code, out = cli(capsys, "verify", str(bundle), "--public-key", f"{partner}.pub", "--public-key", f"{other}.pub")
    assert code == 1, "every key given must have signed"
    with zipfile.ZipFile(bundle) as archive:
        report = archive.read("reports/loyalty.html")
    changed = report.replace(b"<html>", b"<htmL>")  # one byte
    assert sum(a != b for a, b in zip(report, changed, strict=True)) == 1
    replace_member(bundle, "reports/loyalty.html", changed)
    checked = check(bundle, [load_private(partner).public])
    assert checked.problems == ["reports/loyalty.html was changed (its sha256 no longer matches the signed statement)"]
    code, out = cli(capsys, "verify", str(bundle), "--public-key", f"{partner}.pub")
    assert code == 1 and "NOT intact" in out and "reports/loyalty.html was changed" in out


def test_a_changed_statement_breaks_the_signature(partner: Path, tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    with zipfile.ZipFile(bundle) as archive:
        envelope = json.loads(archive.read(ENVELOPE))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["result"] = "PASSED"
    statement["predicate"]["failedTests"] = []
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    replace_member(bundle, ENVELOPE, json.dumps(envelope).encode())
    checked = check(bundle, [load_private(partner).public])
    assert not checked.intact and checked.signed_by == []


def test_a_missing_an_added_and_a_damaged_file_are_named(partner: Path, tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    del members["specs/loyalty-online-api.yaml"]
    members["reports/extra.txt"] = b"x"
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    raw = bytearray(bundle.read_bytes())
    at = bytes(raw).index("отчёт".encode())  # a stored member: flip one byte of it in the archive itself
    raw[at] ^= 0x01
    bundle.write_bytes(bytes(raw))
    problems = check(bundle, [load_private(partner).public]).problems
    assert any(p.startswith("reports/loyalty.html cannot be read (Bad CRC-32") for p in problems), problems
    assert "specs/loyalty-online-api.yaml is missing" in problems and "reports/extra.txt was added" in problems


@pytest.mark.parametrize("folder", ["", "loyalty-evidence/"], ids=["in-place", "in-a-top-folder"])
def test_an_untouched_bundle_unzipped_and_zipped_again_stays_intact(partner: Path, tmp_path: Path, folder: str) -> None:
    bundle = make_bundle(tmp_path / "reports", partner, hmac_key="shared-hmac-key")
    again = tmp_path / "again.zip"
    rezip(bundle, again, folder=folder)
    checked = check(again, [load_private(partner).public])
    assert checked.intact and checked.problems == []
    assert verify_bundle(again, "shared-hmac-key") == []  # the HMAC seal reads a re-zip the same way
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(unpacked)
    made = Path(shutil.make_archive(str(tmp_path / "made"), "zip", root_dir=unpacked))
    assert check(made, [load_private(partner).public]).intact


def test_envelopes_in_url_safe_unpadded_base64_are_read(partner: Path, tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    with zipfile.ZipFile(bundle) as archive:
        envelope = json.loads(archive.read(ENVELOPE))
    urlsafe = lambda text: base64.urlsafe_b64encode(base64.b64decode(text)).decode().rstrip("=")  # noqa: E731
    envelope["payload"] = urlsafe(envelope["payload"])
    envelope["signatures"][0]["sig"] = urlsafe(envelope["signatures"][0]["sig"])
    replace_member(bundle, ENVELOPE, json.dumps(envelope).encode())
    assert check(bundle, [load_private(partner).public]).intact


def test_verify_exit_codes_and_the_legacy_hmac_mode(
    partner: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "verify", str(bundle), "--public-key", f"{partner}.pub"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    code, out = cli(capsys, "verify", str(bundle), "--public-key", str(tmp_path / "missing.pub"))
    assert code == 2 and "cannot read the public key" in out
    code, out = cli(capsys, "verify", str(bundle), "--public-key", str(partner))
    assert code == 2 and "is a private key" in out
    (tmp_path / "not.zip").write_bytes(b"PK\x03\x04 garbage")
    code, out = cli(capsys, "verify", str(tmp_path / "not.zip"), "--public-key", f"{partner}.pub")
    assert code == 2 and "Traceback" not in out
    code, out = cli(capsys, "verify", str(bundle))
    assert code == 2 and "--public-key" in out
    hmac_only = tmp_path / "hmac"
    hmac_only.mkdir()
    (hmac_only / "loyalty.json").write_text("{}", encoding="utf-8")
    legacy = write_bundle(hmac_only, "loyalty", "s.yaml", b"x", "", "shared")
    code, out = cli(capsys, "verify", str(legacy), "--public-key", f"{partner}.pub")
    assert code == 1 and "sealed only with the shared HMAC key" in out
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CONFORMANCE_BUNDLE_KEY", "shared")
        code, out = cli(capsys, "verify", str(legacy))
    assert code == 0 and "proves nothing to a third party" in out


# --- several signers ---------------------------------------------------------------------------------------------


def test_a_reviewer_countersigns_and_both_keys_verify(
    partner: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle(tmp_path / "reports", partner)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PASSPHRASE_ENV, PASSPHRASE)
        reviewer = generate(tmp_path / "reviewer.key")[0]
        code, out = cli(capsys, "countersign", str(bundle), "--key", str(reviewer), "--public-key", f"{partner}.pub")
    assert code == 0 and "added the signature" in out and PASSPHRASE not in out
    code, out = cli(capsys, "verify", str(bundle), "--public-key", f"{partner}.pub", "--public-key", f"{reviewer}.pub")
    assert code == 0 and out.count("  signed by ") == 2
    with zipfile.ZipFile(bundle) as archive:
        envelope = archive.read(ENVELOPE)
    dsse_read(envelope, Path(f"{reviewer}.pub").read_bytes())  # each signature stands on its own
    assert len(json.loads(envelope)["signatures"]) == 2
    replace_member(bundle, "reports/loyalty.json", b"{}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PASSPHRASE_ENV, PASSPHRASE)
        code, out = cli(capsys, "countersign", str(bundle), "--key", str(reviewer), "--public-key", f"{partner}.pub")
    assert code == 1 and "reports/loyalty.json was changed" in out and "not countersigned" in out


# --- the release gate ---------------------------------------------------------------------------------------------


def test_the_gates_attestation_lists_the_verdicts_it_decided_on(
    partner: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "loyalty.json").write_text(json.dumps(verdict_doc()), encoding="utf-8")
    blocked = verdict_doc("fail", ("R-PUSH-01", "fail"), api="push")
    (reports / "push.json").write_text(json.dumps(blocked), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out = cli(capsys, "gate", "reports/loyalty.json", "reports/push.json", "--attest", str(partner))
    assert code == 1 and "(push): BLOCKED" in out and "gate.intoto.json" in out
    statement = dsse_read((tmp_path / "gate.intoto.json").read_bytes(), Path(f"{partner}.pub").read_bytes())
    subject = {s["name"]: s for s in statement["subject"]}
    assert set(subject) == {"reports/loyalty.json", "reports/push.json"}
    for name, entry in subject.items():
        assert entry["digest"]["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert subject["reports/push.json"]["annotations"]["blocking"] == ["R-PUSH-01 failed"]
    predicate = statement["predicate"]
    assert predicate["result"] == "FAILED"
    assert predicate["passedTests"] == ["reports/loyalty.json"] and predicate["failedTests"] == ["reports/push.json"]
    assert predicate["configuration"][0]["name"] == "built-in default"
    code, out = cli(capsys, "verify", "gate.intoto.json", "--public-key", f"{partner}.pub")
    assert code == 0 and "test-result FAILED: release gate over reports/loyalty.json, reports/push.json" in out
    (reports / "push.json").write_text(json.dumps(verdict_doc(api="push")), encoding="utf-8")  # a verdict swapped
    code, out = cli(capsys, "verify", "gate.intoto.json", "--public-key", f"{partner}.pub")
    assert code == 1 and "reports/push.json was changed" in out


# --- keys ---------------------------------------------------------------------------------------------------------


def test_keygen_writes_a_0600_key_encrypted_with_the_passphrase_and_never_shows_either(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    code, out = cli(capsys, "keygen", str(tmp_path / "signer.key"))
    assert code == 0
    private = (tmp_path / "signer.key").read_bytes()
    assert (tmp_path / "signer.key").stat().st_mode & 0o777 == 0o600
    assert private.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    keyid = der_keyid((tmp_path / "signer.key.pub").read_bytes())
    assert keyid in out and PASSPHRASE not in out and private.decode() not in out
    code, out = cli(capsys, "keygen", str(tmp_path / "signer.key"))
    assert code == 2 and "never overwritten" in out
    monkeypatch.delenv(PASSPHRASE_ENV)
    code, out = cli(capsys, "gate", "x.json", "--attest", str(tmp_path / "signer.key"))
    assert code == 2 and f"set {PASSPHRASE_ENV}" in out
    monkeypatch.setenv(PASSPHRASE_ENV, "not-the-passphrase-77")
    code, out = cli(capsys, "gate", "x.json", "--attest", str(tmp_path / "signer.key"))
    assert code == 2 and "the passphrase in" in out and "not-the-passphrase-77" not in out


# --- the certificate page ------------------------------------------------------------------------------------------


def test_the_certificate_page_says_what_was_certified_and_escapes_what_it_quotes(partner: Path) -> None:
    signer = load_private(partner)
    hostile = verdict_doc("fail", ("R-LOY-01", "pass"), ("R-LOY-09", "fail"), ("R-LOY-22", "warn"))
    hostile["target"]["base_url"] = "https://partner.example/<script>alert(1)</script>"
    page = certificate.render(hostile, [signer.public], "loyalty-evidence.zip")
    assert "<script>" not in page and "&lt;script&gt;" in page
    for fact in (
        "Not certified",
        "Koshelek Loyalty Online API",
        "1.1.0",
        "getAllUsers",
        "2026-11-23T10:00:00Z",
        "loyalty-online-api.yaml",
        "ab" * 32,
        "R-LOY-09",
        "R-LOY-22",
        signer.public.keyid,
        f"conformance verify loyalty-evidence.zip --public-key {partner.name}.pub",
    ):
        assert fact in page, fact
    reference = verdict_doc(
        target={"base_url": "https://127.0.0.1:1", "embedded_reference": True, "faulty_variants": []}
    )
    assert "not a certification" in certificate.render(reference, [signer.public], "x.zip")
    with pytest.raises(ValueError):
        certificate.render(verdict_doc("inconclusive"), [signer.public], "x.zip")


# --- one real run: attested, scanned for secrets, verified ---------------------------------------------------------


def test_run_attest_signs_a_real_run_whose_bundle_and_certificate_pass_the_leak_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    key = generate(tmp_path / "partner.key")[0]
    scanned: list[str] = []
    real_scan = leaks.scan

    def spy(paths, finder, **kwargs):  # what the run's leak scan was given
        paths = list(paths)
        scanned.extend(path.name for path in paths)
        return real_scan(paths, finder, **kwargs)

    monkeypatch.setattr(leaks, "scan", spy)
    reports = tmp_path / "reports"
    result = run_here(["run", "loyalty", "--max-examples", "2", "--seed", "5", "--attest", str(key)], reports)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "loyalty.certificate.html" in scanned and "loyalty-evidence.zip" in scanned
    assert "anyone can check it with the public key" in result.stdout
    bundle = reports / "loyalty-evidence.zip"
    with zipfile.ZipFile(bundle) as archive:
        statement = dsse_read(archive.read(ENVELOPE), Path(f"{key}.pub").read_bytes())
        assert "reports/loyalty.certificate.html" in archive.namelist()
    profile = get_profile("loyalty")
    configuration = {d["name"]: d for d in statement["predicate"]["configuration"]}
    assert configuration[f"specs/{profile.spec_file}"]["digest"]["sha256"] == profile.spec_sha256
    verdict = result.verdict()
    assert statement["predicate"]["passedTests"] == [r["id"] for r in verdict["requirements"] if r["status"] == "pass"]
    assert next(s for s in statement["subject"] if s.get("uri"))["uri"] == verdict["target"]["base_url"]
    code, out = cli(capsys, "verify", str(bundle), "--public-key", f"{key}.pub")
    assert code == 0, out
    raw = load_private(key).private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    forms = [PASSPHRASE, raw.hex(), base64.b64encode(raw).decode().rstrip("="), "".join(key.read_text().split()[4:-4])]
    texts = {"output": result.stdout + result.stderr + out}
    for path in reports.iterdir():
        texts[path.name] = path.read_bytes().decode("latin-1")
    with zipfile.ZipFile(bundle) as archive:
        texts.update({name: archive.read(name).decode("latin-1") for name in archive.namelist()})
    for name, text in texts.items():
        assert not [form for form in forms if form and form in text], name


def test_the_partners_client_command_never_gets_the_keys_that_seal_the_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from conformance.client.driver import Driver
    from conformance.client.scenarios import Step

    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setenv("CONFORMANCE_BUNDLE_KEY", "shared-hmac-key-23")
    monkeypatch.setenv("CONFORMANCE_OTHER_SETTING", "kept")
    names = (PASSPHRASE_ENV, "CONFORMANCE_BUNDLE_KEY", "CONFORMANCE_OTHER_SETTING")
    show = f"import os; print([os.environ.get(n) for n in {json.dumps(names)}])"  # no single quote: shlex
    driver = Driver(None, io.StringIO(), step_timeout=20, deadline=20, client_command=f"{sys.executable} -c '{show}'")
    result = driver._by_command(Step("env", "show the environment", (), lambda seen: False))
    assert result.output.strip() == "[None, None, 'kept']"  # the client's output is kept in the reports


def test_the_index_links_each_runs_certificate(tmp_path: Path) -> None:
    from conformance.report.index import write_index

    (tmp_path / "loyalty.json").write_text(json.dumps(verdict_doc()), encoding="utf-8")
    (tmp_path / "loyalty.certificate.html").write_text("<html></html>", encoding="utf-8")
    page = write_index(tmp_path, ["loyalty"], {"loyalty": 0}).read_text(encoding="utf-8")
    assert '<a href="loyalty.certificate.html">certificate</a>' in page
