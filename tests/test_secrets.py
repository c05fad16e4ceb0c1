"""Credentials never reach a report, a log or the terminal; the run's own scan catches one that would."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pytest
from conftest import PASSWORD, USERNAME, against, run_cli, start_service

from conformance.report import leaks
from conformance.report.masking import MASK, Masker

BASIC = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


@pytest.mark.slow
@pytest.mark.parametrize("faults", [(), ("html-errors", "no-auth", "numeric-error-code")], ids=["reference", "faulty"])
def test_no_artefact_holds_the_password(faults: tuple[str, ...], tmp_path: Path) -> None:
    with start_service("loyalty", faults) as server:
        result = run_cli(
            [
                *against(server),
                "--max-examples",
                "5",
                "--seed",
                "7",
            ],
            tmp_path,
        )
    assert result.exit_code == (0 if not faults else 1), result.stdout + result.stderr
    artefacts = sorted(tmp_path.glob("loyalty.*"))
    assert {p.suffix for p in artefacts} >= {".html", ".xml", ".json", ".log"}
    for path in artefacts:
        content = path.read_bytes()
        assert PASSWORD.encode() not in content, f"password leaked into {path.name}"
        assert BASIC.encode() not in content, f"Basic credentials leaked into {path.name}"
    for stream in (result.stdout, result.stderr):
        assert PASSWORD not in stream and BASIC not in stream
    if faults:  # failures carry a reproducible curl that reads the credentials from the environment
        assert "${CONFORMANCE_USERNAME:?" in (tmp_path / "loyalty.html").read_text("utf-8")


def test_leak_scan_finds_a_planted_secret(tmp_path: Path) -> None:
    (tmp_path / "loyalty.json").write_text('{"clean": true}', encoding="utf-8")
    (tmp_path / "loyalty.html").write_text(f"<pre>Authorization: Basic {BASIC}</pre>", encoding="utf-8")
    (tmp_path / "loyalty.log").write_text(f"password={PASSWORD}", encoding="utf-8")
    found = leaks.scan(sorted(tmp_path.glob("loyalty.*")), leaks.finder([PASSWORD], [(USERNAME, PASSWORD)]))
    assert found == ["loyalty.html (as written)", "loyalty.log (as written)"]


def test_masker_hides_raw_basic_and_percent_encoded_forms() -> None:
    masker = Masker()
    masker.add_basic("user", "s3cr et/+")
    text = masker.text(f"pw=s3cr et/+ basic={base64.b64encode(b'user:s3cr et/+').decode()} q=s3cr%20et%2F%2B")
    assert "s3cr" not in text
    assert text.count(MASK) == 3
    assert masker.headers({"Authorization": "Basic abc", "X-Other": "s3cr et/+"}) == {
        "Authorization": MASK,
        "X-Other": MASK,
    }


IMBEE_AUTH, IMBEE_KEY = "imbee-auth-token-not-for-reports", "corporate-key-not-for-reports"
# A handed-out apikey or pass anywhere but masked; the documents' own example values (quoted by the spec) aside.
HANDED_OUT = re.compile(r'"(apikey|pass)"\s*:\s*"(?!\*\*\*"|pass_user1"|apikey_user1")[^"]{8,}"')


@pytest.mark.slow
def test_imbee_header_credentials_and_handed_out_apikeys_are_masked(tmp_path: Path) -> None:
    # ignores-woos-key makes the credential probes fail, so the reports quote answers that carry apikeys.
    result = run_cli(
        ["run", "imbee", "--fault", "ignores-woos-key", "--max-examples", "5", "--seed", "7"],
        tmp_path,
        env={"CONFORMANCE_IMBEE_AUTH": IMBEE_AUTH, "CONFORMANCE_IMBEE_KEY": IMBEE_KEY},
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    seen_masked = False
    for path in sorted(tmp_path.glob("imbee.*")):
        # Reports nest JSON in HTML and in JSON strings: undo both escapings before looking.
        text = html.unescape(path.read_text("utf-8", errors="replace")).replace('\\"', '"')
        assert IMBEE_AUTH not in text and IMBEE_KEY not in text, f"a credential leaked into {path.name}"
        assert not HANDED_OUT.search(text), f"an apikey or pass leaked into {path.name}: {HANDED_OUT.search(text)}"
        seen_masked = seen_masked or '"apikey": "***"' in text
    assert seen_masked, "the reports quote no apikey at all, so this test proved nothing: pick another fault"
    assert "${CONFORMANCE_IMBEE_KEY:?" in (tmp_path / "imbee.json").read_text("utf-8"), "curl lines read the env"


def echoing_service(environ: dict, start_response) -> list[bytes]:
    """A leaky service: every answer is an error that quotes the request's credentials and query string back."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    except ValueError:
        decoded = ""
    text = f"denied: Authorization {header} ({decoded}), query {environ.get('QUERY_STRING', '')}"
    start_response(
        "422 Unprocessable Entity", [("Content-Type", "application/json; charset=utf-8"), ("X-Echo", header)]
    )
    return [json.dumps({"code": "1", "description": text}, ensure_ascii=False).encode()]


@pytest.mark.slow
def test_secrets_echoed_in_headers_and_error_messages_are_masked(tmp_path: Path) -> None:
    from conformance.fixtures.server import serve

    with serve(echoing_service) as server:
        result = run_cli(
            [
                *against(server),
                "--max-examples",
                "3",
                "--seed",
                "5",
            ],
            tmp_path,
        )
    assert result.exit_code in (1, 4), result.stdout + result.stderr  # judged, and no leak found (that would be 5)
    quoted = False
    for path in sorted(tmp_path.glob("loyalty.*")):
        content = path.read_bytes()
        assert PASSWORD.encode() not in content and BASIC.encode() not in content, f"leak in {path.name}"
        quoted = quoted or b"denied: Authorization" in content
    assert quoted, "the reports never quoted the echoing answers, so this test proved nothing"


@pytest.mark.parametrize(
    "form",
    [
        lambda s: json.dumps(s)[1:-1],
        lambda s: json.dumps(json.dumps(s)[1:-1])[1:-1],
        lambda s: repr(s.encode())[2:-1],
        lambda s: __import__("urllib.parse").parse.quote(s, safe=""),
        lambda s: __import__("urllib.parse").parse.quote(s, safe="").lower(),
        lambda s: html.escape(s),
        lambda s: "".join(f"&#{ord(c)};" for c in s),
        lambda s: s.encode().hex().upper(),
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: s.upper(),
    ],
    ids=["json", "json-twice", "bytes-repr", "percent", "percent-lower", "html", "entities", "hex", "base64", "upper"],
)
@pytest.mark.parametrize("secret", ["Pa55-w0rd-never", "Päss-wörd-é", "пароль-секрет"])
def test_the_masker_and_the_scan_know_every_form(form, secret: str) -> None:
    text = f"before {form(secret)} after"
    assert form(secret) not in Masker([secret]).text(text)
    assert leaks.seen_through(text.encode(), leaks.finder([secret])) is not None


def test_a_latin1_basic_token_is_masked_and_found() -> None:
    token = base64.b64encode("user:Päss-wörd".encode("latin-1")).decode()
    masker = Masker()
    masker.add_basic("user", "Päss-wörd")
    assert token not in masker.text(f"Authorization: Basic {token}")
    assert leaks.seen_through(f"x {token} y".encode(), leaks.finder([], [("user", "Päss-wörd")])) == "as written"


def test_a_common_word_password_is_masked_as_a_value_and_never_raises_a_false_alarm() -> None:
    masker = Masker(["password"])
    own = "<td>PUT /public/user/reset-password with the JSON body {&quot;password&quot;: &quot;&lt;new password&gt;"
    assert masker.text(own) == own  # the suite's own words are no secret
    assert masker.text('{"login": "partner", "pass": "password", "token": 1}') == (
        '{"login": "partner", "pass": "***", "token": 1}'
    )
    assert masker.text("?user=partner&pass=password") == "?user=partner&pass=***"
    assert leaks.seen_through(own.encode(), leaks.finder(["password"])) is None


def test_a_secret_echoed_as_a_header_name_is_masked() -> None:
    masker = Masker(["Pa55-w0rd-never"])
    assert masker.headers({"Pa55-w0rd-never": "1", "X-Ok": "Pa55-w0rd-never"}) == {"***": "1", "X-Ok": "***"}


def test_a_secret_inside_base64_extras_is_found() -> None:
    extra = base64.b64encode(b'{"response": {"body": "the password is Pa55-w0rd-never"}}').decode()
    page = f'<a href="data:application/json;base64,{extra}">request and response</a>'.encode()
    assert leaks.seen_through(page, leaks.finder(["Pa55-w0rd-never"])) == "base64"


@pytest.mark.parametrize(
    "encode",
    [lambda s: s.encode().hex(), lambda s: base64.b64encode(s.encode()).decode()],
    ids=["hex", "base64"],
)
def test_a_secret_written_twice_in_one_encoding_is_masked_both_times(encode) -> None:
    # Both runs decode to the same text: each is a view of its own place, or the second would never be masked.
    form = encode("Päss-wörd-é")
    assert form not in Masker(["Päss-wörd-é"]).text(f"first {form}, then {form} again")
