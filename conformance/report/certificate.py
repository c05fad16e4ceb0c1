"""DIR/<api>.certificate.html: one self-contained page a person reads in a minute. What was certified (API, version,
options, target), when and with what (suite, spec), the verdict and the requirement counts, who signed, and how to
check it. It is written only for an attested run, goes into the evidence bundle (so the signed statement covers
it) and through the same leak scan as every report. The page alone proves nothing: the signature does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .attestation import result_of
from .bundle import ENVELOPE
from .html import STYLE

if TYPE_CHECKING:
    from .keys import PublicKey

HEADLINES = {
    "PASSED": ("Certified", "#116329", "no requirement failed or warned"),
    "WARNED": ("Certified, with warnings", "#7d4e00", "no requirement failed; advisory rules warned"),
    "FAILED": ("Not certified", "#a40e26", "at least one requirement failed"),
}
REFERENCE = "A run of the suite's own reference service, not a certification"
EXTRA_STYLE = """
.conformance .headline { font-size: 28px; font-weight: 700; margin: 8px 0 2px; }
.conformance code { font-family: ui-monospace, monospace; word-break: break-all; }
"""


def path_for(report_dir: Path, api: str) -> Path:
    return report_dir / f"{api}.certificate.html"


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{value}</td></tr>"


def _ids(verdict: Mapping[str, Any], status: str) -> str:
    ids = [str(r["id"]) for r in verdict.get("requirements", []) if r.get("status") == status]
    return escape(", ".join(ids)) if ids else "none"


def render(verdict: Mapping[str, Any], signers: Sequence[PublicKey], bundle_name: str) -> str:
    result = result_of(verdict)
    if result is None:
        raise ValueError("only a test result (pass or fail) gets a certificate")
    headline, colour, meaning = HEADLINES[result]
    party = verdict.get("party", "service")
    target = verdict.get("target", {})
    config = verdict.get("target_config", {})
    spec = verdict.get("spec", {})
    counts = verdict.get("counts", {})
    if party == "client":
        subject = f"a client of the {escape(str(verdict.get('title')))} (certified in the suite's sandbox)"
    else:
        subject = f"the service at <code>{escape(str(target.get('base_url')))}</code>"
        if target.get("faulty_variants"):
            subject += f" (the embedded reference with faulty variants {escape(', '.join(target['faulty_variants']))})"
        elif target.get("embedded_reference"):
            subject += " (the suite's embedded reference service, not a partner's service)"
        if target.get("embedded_reference") or target.get("faulty_variants"):
            headline, colour = REFERENCE, "#424a53"
    options = f"API version {escape(str(verdict.get('api_version')))}"
    methods = config.get("optional_methods") or []
    if methods:
        options += f"; optional methods {escape(', '.join(methods))}"
    if party == "service":
        options += f"; seed {escape(str(verdict.get('seed')))}, {escape(str(verdict.get('max_examples')))} examples"
    count_text = ", ".join(f"{n} {escape(status)}" for status, n in counts.items() if n) or "none"
    public_files = [Path(key.source).name + ".pub" for key in signers]  # `conformance keygen` writes NAME.pub
    signed = "".join(
        f"<li><code>{escape(key.keyid)}</code> <span class='muted'>({escape(public)})</span></li>"
        for key, public in zip(signers, public_files, strict=True)
    )
    pubs = " ".join(f"--public-key {escape(public)}" for public in public_files)
    facts = "".join(
        [
            _row("API", f"{escape(str(verdict.get('title')))} ({escape(str(verdict.get('api')))})"),
            _row("Certified", subject),
            _row("Options", options),
            _row("Date", escape(str(verdict.get("started", "")))),
            _row("Suite", f"koshelek-imbee-conformance {escape(str(verdict.get('suite_version')))}"),
            _row(
                "Spec",
                f"{escape(str(spec.get('file')))} version {escape(str(spec.get('version')))}, "
                f"sha256 <code>{escape(str(spec.get('sha256')))}</code>",
            ),
            _row("Verdict", f"<b style='color:{colour}'>{escape(result)}</b> <span class='muted'>({meaning})</span>"),
            _row("Requirements", count_text),
            _row("Failed", _ids(verdict, "fail")),
            _row("Warned", _ids(verdict, "warn")),
        ]
    )
    title = f"{headline}: {verdict.get('title')} {verdict.get('api_version')}"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}{EXTRA_STYLE}</style></head><body><div class='conformance'>"
        f"<h1>Conformance certificate</h1><div class='headline' style='color:{colour}'>{escape(headline)}</div>"
        f"<p>{escape(str(verdict.get('title')))} {escape(str(verdict.get('api_version')))}: {meaning}.</p>"
        f"<table>{facts}</table>"
        "<h2>Signed by</h2><p>Ed25519 keys; a key id is the sha256 of the public key in DER "
        "(<code>openssl pkey -pubin -in KEY.pub -outform DER | sha256sum</code>).</p>"
        f"<ul>{signed}</ul>"
        "<h2>How to verify</h2>"
        "<p>This page alone proves nothing: the signed statement in the evidence bundle does. With the signer's "
        "public key (obtained from the signer, not from this page):</p>"
        f"<pre>conformance verify {escape(bundle_name)} {pubs}</pre>"
        "<p>It checks the signature, then the sha256 of every file of the bundle (this page included), and names "
        f"any file changed, missing or added. <code>{ENVELOPE}</code> in the bundle is a DSSE envelope holding an "
        "in-toto Statement v1 with the test-result predicate (https://in-toto.io/attestation/test-result/v0.1), "
        "so other in-toto tools can check it too.</p>"
        "</div></body></html>"
    )


def write(report_dir: Path, verdict: Mapping[str, Any], signers: Sequence[PublicKey]) -> Path:
    api = str(verdict.get("api"))
    path = path_for(report_dir, api)
    path.write_text(render(verdict, signers, f"{api}-evidence.zip"), encoding="utf-8")
    return path
