"""Half-answers and protocol edges: an answer that says it will close and then drips, informational answers before
the final one, a Retry-After nobody can read, an oversized answer to the very first request, a head cut before its
end, raw control bytes meant for the reader's screen, a malformed header line, and a certificate that changes host.
Each run stays within its bound (wall time, peak memory, no traceback) and ends with the documented exit code and
its reports."""

from __future__ import annotations

import base64
import html
import json
import re
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from conformance.fixtures.server import RunningServer
from hostile.harness import run_loyalty, within_bounds
from hostile.servers import JSON_OK, http_answer, keep_answering, proxy, raw_server

pytestmark = pytest.mark.slow

ONLY_PLAIN_HTTP = {"R-LOY-01"}  # what the reference behind a plain-HTTP proxy fails: HTTPS is required
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 but tab and line ends, DEL, C1


def failed(result) -> set[str]:
    return {r["id"] for r in result.verdict()["requirements"] if r["status"] == "fail"}


def reports_written(result) -> None:
    names = set(result.artefacts())
    assert {"loyalty.html", "loyalty.json", "loyalty.junit.xml", "loyalty.log"} <= names, names


# --- a body dripped on a connection the answer says will close ---------------------------------------------------


def test_an_answer_dripped_on_a_closing_connection_is_cut_at_the_timeout(reference: RunningServer, tmp_path: Path):
    def drip(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes | Iterator[bytes]:
        if number == 1:  # the reachability probe gets its answer: the run itself must bound the drip
            return http_answer(status, headers, body)

        def pieces() -> Iterator[bytes]:
            yield b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n"
            for _ in range(1000):
                yield b" "
                time.sleep(0.5)

        return pieces()

    with proxy(reference.base_url, drip) as server:
        result = run_loyalty(server.url, tmp_path, "--deadline", "6")
    within_bounds(result, 40)
    assert result.exit_code == 3, result.stdout + result.stderr
    verdict = result.verdict()
    assert verdict["verdict"] == "error" and "timeout" in verdict["reasons"][0], verdict["reasons"]
    reports_written(result)


# --- informational answers ---------------------------------------------------------------------------------------


def test_informational_answers_before_the_final_one_are_skipped(reference: RunningServer, tmp_path: Path) -> None:
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    processing = b"HTTP/1.1 102 Processing\r\n\r\n"

    def early_hints(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        return (hints if number % 2 else processing + hints) + http_answer(status, headers, body)

    with proxy(reference.base_url, early_hints) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 60)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert failed(result) == ONLY_PLAIN_HTTP, "an informational answer was judged as the final one"
    assert "103" not in json.dumps(result.verdict()["requirements"])
    reports_written(result)


# --- an unparseable Retry-After -----------------------------------------------------------------------------------


def test_an_unparseable_retry_after_is_treated_like_an_absent_one(reference: RunningServer, tmp_path: Path) -> None:
    def unreadable(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        if number in (1, 6):  # the reachability probe, and once in the run
            too_many = http_answer(429, [("Content-Type", "application/json; charset=utf-8")], b"{}")
            return too_many.replace(b"\r\n\r\n", b"\r\nRetry-After: \xb2\r\n\r\n", 1)  # "²": a digit to str.isdigit
        return http_answer(status, headers, body)

    with proxy(reference.base_url, unreadable) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 60)
    assert result.exit_code == 1, result.stdout + result.stderr
    verdict = result.verdict()
    assert verdict["exchanges"]["answered"] > 10, verdict["exchanges"]
    judged = {r["id"] for r in verdict["requirements"] if "429" in json.dumps(r["findings"])}
    assert judged, "the 429 in the run is an answer like any other, recorded and judged"
    assert failed(result) <= ONLY_PLAIN_HTTP | judged
    reports_written(result)


# --- an oversized answer to the reachability probe ---------------------------------------------------------------


def test_an_oversized_first_answer_is_an_answer(reference: RunningServer, tmp_path: Path) -> None:
    gibibyte = 1024**3

    def oversized(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes | Iterator[bytes]:
        if number > 1:
            return http_answer(status, headers, body)

        def pieces() -> Iterator[bytes]:  # 1 GiB announced and sent until the reader hangs up
            yield f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {gibibyte}\r\n\r\n".encode()
            zeros = b"0" * (1024 * 1024)
            for _ in range(1024):
                yield zeros

        return pieces()

    with proxy(reference.base_url, oversized) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 60)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.verdict()["exchanges"]["answered"] > 10
    assert failed(result) == ONLY_PLAIN_HTTP
    reports_written(result)


# --- a head cut before its end -----------------------------------------------------------------------------------


def test_an_answer_cut_inside_its_headers_fails_availability_only(reference: RunningServer, tmp_path: Path) -> None:
    def cut(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes | tuple:
        whole = http_answer(status, headers, body)
        if number == 1 or number % 4:
            return whole
        return (whole[: whole.index(b"\r\n\r\n") - 3], "close")  # the last header line three bytes short, then FIN

    with proxy(reference.base_url, cut) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 60)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert failed(result) == ONLY_PLAIN_HTTP | {"R-LOY-07"}, "a content rule was judged on a head that never ended"
    causes = result.verdict()["exchanges"]["unanswered"]
    assert set(causes) == {"answer cut inside its headers"}, causes
    reports_written(result)


# --- control bytes meant for the reader's screen --------------------------------------------------------------------


def _texts_a_browser_shows(page: str) -> Iterator[str]:
    """The page itself, pytest-html's results (JSON in an attribute, rendered by its script), and the extras it
    embeds as base64 data (opened from the row)."""
    yield page
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    if blob:
        yield json.dumps(json.loads(html.unescape(blob.group(1))), ensure_ascii=False)
    for encoded in re.findall(r"data:[a-z/]+;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)", page):
        yield base64.b64decode(encoded).decode("utf-8", "replace")


def test_control_bytes_from_the_target_are_escaped_in_the_html_report(reference: RunningServer, tmp_path: Path) -> None:
    garbling = "\x1b[2J\x1b]0;pwned\x07\x00\u0085\u009b31m"  # clear screen, set title, BEL, NUL, C1 NEL and CSI

    def garble(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        if number == 1:
            return http_answer(status, headers, body)
        text = json.dumps({"code": "1", "description": f"refused {garbling}"}).encode()  # \u-escaped
        text = text[:-1] + b', "raw": "' + "C1 as UTF-8: \u0085\u009b".encode() + b'"}'
        answer = http_answer(422, [("Content-Type", "application/json; charset=utf-8")], text)
        return answer.replace(b"\r\n", b"\r\nX-Note: bell\x07 escape\x1b[31m nul\x00 c1\x85\x9b\r\n", 1)

    with proxy(reference.base_url, garble) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 60)
    assert result.exit_code == 1, result.stdout + result.stderr
    page = (result.report_dir / "loyalty.html").read_text("utf-8")
    assert "\\x1b" in page and "X-Note" in page, "the target's answers are not in the report: nothing was tested"
    for text in _texts_a_browser_shows(page):
        raw = CONTROL.findall(text)
        assert not raw, f"raw control characters in the HTML report: {sorted(set(raw))!r}"
    reports_written(result)


# --- a malformed header line -----------------------------------------------------------------------------------------


def test_a_malformed_header_name_is_named_at_once(tmp_path: Path) -> None:
    bad = JSON_OK.replace(b"\r\n", b"\r\nBad Header Name: 1\r\n", 1)  # before Content-Length, which it used to hide

    with raw_server(lambda conn, number: keep_answering(conn, lambda _: bad, server)) as server:
        result = run_loyalty(server.url, tmp_path, "--timeout", "10")
    within_bounds(result, 9)  # well under the 10 s a timeout would take
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "malformed header line" in result.stderr and "timeout" not in result.stderr, result.stderr
    assert "malformed header line" in result.verdict()["reasons"][0]


# --- a certificate that changes host -------------------------------------------------------------------------------


def test_a_certificate_for_another_host_on_the_second_connection_is_named(tmp_path: Path) -> None:
    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    contexts = []
    for host in ("127.0.0.1", "other.example"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(host).configure_cert(context)
        contexts.append(context)

    def answer(conn, number: int) -> None:
        keep_answering(conn, lambda _: JSON_OK, server)

    with raw_server(answer, tls=lambda number: contexts[0 if number == 1 else 1]) as server:
        result = run_loyalty(server.url, tmp_path, "--ca-bundle", str(ca_file))
    within_bounds(result, 60)
    assert result.exit_code == 3, result.stdout + result.stderr
    reasons = result.verdict()["reasons"]
    assert "the certificate does not name this host" in reasons[0], reasons
    reports_written(result)
