"""The target is untrusted input. Each misbehaving service here breaks one thing a real (or hostile) one might,
and each test bounds what it may cost the run: wall time, peak memory, no code run from a repro line, no secret
in any artefact in any encoding, and an outcome that says what happened."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conformance.fixtures.server import RunningServer
from hostile.harness import no_secret_anywhere, run_loyalty, run_measured, within_bounds
from hostile.servers import (
    JSON_OK,
    drip_body,
    drip_body_on_close,
    drip_headers,
    drip_headers_on_close,
    endless_continue,
    http_answer,
    keep_answering,
    proxy,
    raw_server,
)

pytestmark = pytest.mark.slow


# --- 1. the repro line runs nothing --------------------------------------------------------------------------


def test_a_hostile_card_number_in_the_repro_line_runs_nothing(reference: RunningServer, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    hostile_card = f"$CONFORMANCE_USERNAME$(touch$IFS{marker})"

    def rewrite(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        if head.startswith(b"PUT ") and b"/communication" in head:
            return http_answer(500, [("Content-Type", "text/html")], b"<html>boom</html>")
        if head.startswith(b"GET /v1/card?") and status == 200 and body:
            card = json.loads(body)
            card["card"]["cardNumber"] = hostile_card
            return http_answer(status, headers, json.dumps(card).encode())
        return http_answer(status, headers, body)

    with proxy(reference.base_url, rewrite) as server:
        result = run_loyalty(server.url, tmp_path)
        within_bounds(result, 120)
        assert result.exit_code == 1, result.stdout + result.stderr
        lines = {m for text in result.artefacts().values() for m in re.findall(rb"curl -sS[^\n\"<]*", text)}
        lines |= {
            line.split("reproduce: ", 1)[1].encode() for line in result.stdout.splitlines() if "reproduce: " in line
        }
        assert any(b"communication" in line for line in lines), "no repro line of the hostile exchange to try"
        env = {"PATH": os.environ["PATH"], "CONFORMANCE_USERNAME": "u", "CONFORMANCE_PASSWORD": "p"}
        for line in lines:
            subprocess.run(["sh", "-c", line.decode("utf-8", "replace")], env=env, capture_output=True, timeout=20)
    assert not marker.exists(), "a repro line executed the target's command"


# --- 2. time: dripped answers, endless 100 Continue, a target that goes silent --------------------------------


@pytest.mark.parametrize(
    "handler",
    [drip_body, drip_headers, endless_continue, drip_body_on_close, drip_headers_on_close],
    ids=lambda h: h.__name__,
)
def test_an_answer_that_never_completes_ends_in_bounded_time(handler, tmp_path: Path) -> None:
    with raw_server(handler) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 30)
    assert result.exit_code == 3 and "timeout" in result.stderr, result.stderr
    assert result.verdict()["verdict"] == "error"


def test_a_target_that_answers_once_and_goes_silent_ends_in_bounded_time(tmp_path: Path) -> None:
    def once(conn, number: int) -> None:
        if number == 1:
            keep_answering(conn, lambda _: JSON_OK, server)
        else:
            conn.recv(65536)
            conn.recv(65536)  # and never answer

    with raw_server(once) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 60)
    assert result.exit_code == 3, result.stdout + result.stderr
    verdict = result.verdict()
    assert verdict["verdict"] == "error" and "answered nothing" in verdict["reasons"][0]


# --- 3. transport breaks are no evidence ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncated", "broken-chunking", "reset"])
def test_a_broken_answer_fails_availability_and_nothing_else(kind: str, reference: RunningServer, tmp_path: Path):
    def break_some(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes | tuple | None:
        if number % 4:
            return http_answer(status, headers, body)
        if kind == "truncated":  # the promised length, two bytes short, and the connection closed
            return (http_answer(status, headers, body + b"  ")[:-2], "close")
        if kind == "broken-chunking":
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
        return None  # closes the connection without a word

    with proxy(reference.base_url, break_some) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 120)
    assert result.exit_code == 1, result.stdout + result.stderr
    verdict = result.verdict()
    failed = {r["id"] for r in verdict["requirements"] if r["status"] == "fail"}
    assert failed <= {"R-LOY-01", "R-LOY-07"} and "R-LOY-07" in failed, failed  # plain HTTP fails R-LOY-01 too
    causes = verdict["exchanges"]["unanswered"]
    assert causes and sum(causes.values()) >= 1, verdict["exchanges"]


# --- 4. memory: large and compressed bodies -------------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return gzip.compress(b"0" * (256 * 1024 * 1024), compresslevel=9)  # 256 MB of zeros in about 250 KB


@pytest.mark.parametrize("size_mb", [1, 16])
def test_large_bodies_stay_within_the_memory_bound(size_mb: int, reference: RunningServer, tmp_path: Path) -> None:
    big = json.dumps({"code": "1", "description": "x" * (size_mb * 1024 * 1024)}).encode()

    def inflate(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        return http_answer(422, [("Content-Type", "application/json; charset=utf-8")], big)

    with proxy(reference.base_url, inflate) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 180)
    assert result.exit_code in (1, 3, 4), result.stdout + result.stderr
    if size_mb > 10:  # over the default --max-body: no content rule is judged on a body that was not read
        assert "body over --max-body" not in json.dumps(result.verdict()["exchanges"]["unanswered"])


def test_a_decompression_bomb_is_capped(gzip_bomb: bytes, reference: RunningServer, tmp_path: Path) -> None:
    def bomb(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        if number == 1:
            return http_answer(status, headers, body)
        return http_answer(
            200, [("Content-Type", "application/json; charset=utf-8"), ("Content-Encoding", "gzip")], gzip_bomb
        )

    with proxy(reference.base_url, bomb) as server:
        result = run_loyalty(server.url, tmp_path)
    within_bounds(result, 180)
    assert result.exit_code in (1, 3, 4), result.stdout + result.stderr


# --- 5. redirects are answers --------------------------------------------------------------------------------


def test_a_redirect_is_the_answer_and_is_never_followed(reference: RunningServer, tmp_path: Path) -> None:
    def internal(conn, number: int) -> None:
        keep_answering(conn, lambda _: http_answer(200, [("Content-Type", "text/plain")], b"INTERNAL-ONLY-PAGE"), box)

    with raw_server(internal) as box:

        def redirect(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
            if number == 1:
                return http_answer(status, headers, body)
            return http_answer(302, [("Location", box.url + "/private")], b"")

        with proxy(reference.base_url, redirect) as server:
            result = run_loyalty(server.url, tmp_path)
        assert box.requests == 0, "the suite followed a redirect to another host"
    within_bounds(result, 120)
    assert result.exit_code == 1 and result.status_of("R-LOY-07") == "fail"
    assert not any(b"INTERNAL-ONLY-PAGE" in content for content in result.artefacts().values())


def test_a_redirect_loop_costs_one_request_per_attempt(reference: RunningServer, tmp_path: Path) -> None:
    with proxy(
        reference.base_url,
        lambda n, h, s, hd, b: http_answer(302, [("Location", "/v1/card")], b"") if n > 1 else http_answer(s, hd, b),
    ) as server:
        result = run_loyalty(server.url, tmp_path)
        requests = server.requests
    within_bounds(result, 120)
    verdict = result.verdict()
    # Each attempt is one request: the run's, and the reachability probe's (sent twice: `--concurrency auto` times
    # the second answer).
    assert requests == verdict["exchanges"]["answered"] + 2, "each attempt is one request: the probes and the run's"


# --- 6. no secret in any encoding, and no false alarm ---------------------------------------------------------


def echo_everything(secret: str):
    import base64
    import html
    from urllib.parse import quote

    forms = [
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        html.escape(secret),
        "".join(f"&#{ord(c)};" for c in secret),
        secret.encode().hex(),
        base64.b64encode(secret.encode()).decode(),
        secret.upper(),
        "\x1b[31m" + secret + "\x1b[0m",
    ]

    def echo(number: int, head: bytes, status: int, headers: list, body: bytes) -> bytes:
        if number == 1:
            return http_answer(status, headers, body)
        text = json.dumps({"code": "1", "description": " | ".join(forms)}, ensure_ascii=True).encode()
        latin1 = b" raw-latin1: " + secret.encode("latin-1", "replace")
        token = head.split(b"Authorization: ", 1)[-1].split(b"\r\n", 1)[0].decode("latin-1")
        header_name = re.sub(r"[^A-Za-z0-9-]", "-", secret)
        return http_answer(
            422,
            [("Content-Type", "application/json; charset=utf-8"), (header_name, "1"), ("X-Echo", token)],
            text[:-1] + b', "raw": "' + latin1.replace(b'"', b"") + b'"}',
        )

    return echo


@pytest.mark.parametrize(
    "password",
    ["Pa55-w0rd-never-in-reports", "Päss-wörd-Latin1-é", "пароль-не-для-отчётов"],
    ids=["ascii", "latin-1", "beyond-latin-1"],
)
def test_a_target_echoing_the_credentials_in_every_encoding_leaks_nothing(password: str, tmp_path: Path) -> None:
    from conformance.fixtures.server import serve
    from conformance.profiles import get_profile

    app = get_profile("loyalty").reference_app(("koshelek-test", password))
    with serve(app, tls=False) as origin, proxy(origin.base_url, echo_everything(password)) as server:
        result = run_loyalty(server.url, tmp_path, env={"CONFORMANCE_PASSWORD": password})
    within_bounds(result, 120)
    assert result.exit_code in (1, 4), result.stdout + result.stderr  # judged; a leak found would be 5
    assert b"\x1b" not in b"".join(result.artefacts().values()), "a raw escape character from the target"
    no_secret_anywhere(result, password)


def test_a_password_that_is_a_common_word_is_no_false_alarm(tmp_path: Path) -> None:
    result = run_measured(
        ["run", "push", "--max-examples", "3", "--seed", "5"],
        tmp_path / "reports",
        env={"CONFORMANCE_USERNAME": "partner", "CONFORMANCE_PASSWORD": "password"},
    )
    assert result.exit_code == 0, result.stdout + result.stderr
