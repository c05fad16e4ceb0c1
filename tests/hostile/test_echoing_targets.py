"""Services that echo the credentials they receive, the way common frameworks write them back in debug modes. What
a target sends is masked at ingestion, before anything reads it: no artefact and nothing printed shows any form of
the secret, and the run is judged normally (never withheld, exit 5, for a form the masker did not know)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import USERNAME
from echoing import basic_password, echoing, straddling, visible

from conformance.fixtures.server import serve
from conformance.profiles import get_profile
from hostile.harness import MEMORY_BOUND_MB, run_measured

FAST = ["--max-examples", "2", "--seed", "5", "--timeout", "2"]
pytestmark = pytest.mark.slow


def run_against(api: str, app, tmp_path: Path, env: dict[str, str]):
    with serve(app) as server:
        return run_measured(
            [
                "run",
                api,
                "--base-url",
                server.base_url,
                "--ca-bundle",
                server.ca_bundle or "",
                "--reference-data",
                *FAST,
            ],
            tmp_path / "reports",
            env=env,
        )


def assert_masked_everywhere(result, secret: str) -> None:
    assert result.exit_code != 5, f"the run was withheld: {result.stderr}"
    assert result.seconds < 120 and result.peak_mb < MEMORY_BOUND_MB
    assert "Traceback" not in result.stdout + result.stderr
    artefacts = result.artefacts()
    assert artefacts, "no report was written"
    for name, content in artefacts.items():
        assert not visible(content, secret), f"{name} shows the secret ({visible(content, secret)})"
    terminal = (result.stdout + result.stderr).encode()
    assert not visible(terminal, secret), f"the terminal shows the secret ({visible(terminal, secret)})"


def loyalty(password: str, tmp_path: Path, **echo):
    """The Loyalty reference, echoing the password of every request that carries the right one."""
    app = get_profile("loyalty").reference_app((USERNAME, password), ())
    echoed = echoing(app, lambda environ: password if basic_password(environ) == password else None, **echo)
    return run_against("loyalty", echoed, tmp_path, {"CONFORMANCE_PASSWORD": password})


def test_1_a_corporate_key_echoed_in_every_imbee_answer_is_masked_in_skip_reasons_too(tmp_path: Path) -> None:
    auth, key = "imbee-auth-token-not-for-reports", "corporate-key-echoed-in-every-answer"
    app = get_profile("imbee").reference_app((auth, key), ())
    # The key where the envelope's code goes: every answer is then quoted in a skip reason ("carries no integer code").
    echo = echoing(
        app,
        lambda environ: environ.get("HTTP_X_WOOS_KEY"),
        header="raw",
        rewrite=lambda body, key: re.sub(rb'"code":\s*-?\d+', b'"code": "' + key.encode() + b'"', body, count=1),
    )
    result = run_against("imbee", echo, tmp_path, {"CONFORMANCE_IMBEE_AUTH": auth, "CONFORMANCE_IMBEE_KEY": key})
    assert_masked_everywhere(result, key)
    assert_masked_everywhere(result, auth)
    verdict = result.verdict("imbee")
    assert verdict["requirements"], "the reports were withheld"
    assert any("carries no integer code" in why for why in verdict["not_run"].values()), "no skip reason quoted it"


def test_2_a_password_echoed_the_way_php_json_encode_writes_it_is_masked(tmp_path: Path) -> None:
    password = "Pa55/w0rd/echoed-by-php"
    result = loyalty(password, tmp_path, body=["php-json"])
    assert_masked_everywhere(result, password)


@pytest.mark.parametrize(
    "cut, error",
    [
        (120, lambda secret: b"<html><body>" + straddling(secret, 120 - 12) + b"</body></html>"),  # quoted [:120]
        (200, lambda secret: b'{"code": "1", "debug": "' + straddling(secret, 200 - 24) + b'"}'),  # quoted [:200]
    ],
    ids=["not-json-120", "no-description-200"],
)
def test_3_a_password_that_straddles_a_cut_point_is_masked_before_anything_cuts(cut, error, tmp_path: Path) -> None:
    password = "Pa55-w0rd-straddling-the-cut"
    result = loyalty(password, tmp_path, error=error)
    assert_masked_everywhere(result, password)
    assert result.exit_code == 1, "the error bodies are no {code, description}: the run must say so"


def test_4_a_latin1_password_in_a_body_labelled_utf8_is_masked_before_any_lossy_decoding(tmp_path: Path) -> None:
    password = "Kennwort-für-Koshelek-2025"
    result = loyalty(password, tmp_path, latin1=True)
    assert_masked_everywhere(result, password)
    assert "f\ufffdr-Koshelek" not in (tmp_path / "reports" / "loyalty.json").read_text("utf-8")
    assert result.exit_code == 1 and result.status_of("R-LOY-05") == "fail", "the non-UTF-8 body is still found"


def test_5_every_escaping_frameworks_apply_is_masked_in_every_place(tmp_path: Path) -> None:
    password = "Pa55 w'rd&*+never~in:reports"
    result = loyalty(
        password,
        tmp_path,
        body=["u-escape-every", "form", "html", "entities-hex", "base64-of-text", "json-in-json", "upper"],
        header="form",
        reason="percent",
        location="u-escape-every",
    )
    assert_masked_everywhere(result, password)


@pytest.mark.parametrize("password", ["test", "card"])
def test_6_a_short_common_word_password_gives_a_normal_run_and_a_normal_report(password: str, tmp_path: Path) -> None:
    app = get_profile("loyalty").reference_app((USERNAME, password), ())
    result = run_against("loyalty", app, tmp_path, {"CONFORMANCE_PASSWORD": password})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert {"loyalty.html", "loyalty.json", "loyalty.junit.xml", "loyalty.log"} <= set(result.artefacts())
    assert result.verdict()["verdict"] == "pass" and not result.verdict()["leaks"]
