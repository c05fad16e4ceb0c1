"""The curl line that reproduces a failure is safe to paste into a shell, whatever the target sent.

A hostile target shapes the URL (through the card numbers it hands out), header values and bodies of
the requests the suite sends next. The line must replay those bytes literally and never run any of them.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.report.exchange import curl_command
from conformance.report.masking import Masker

ENV = ("CONFORMANCE_USERNAME", "CONFORMANCE_PASSWORD")
INJECTIONS = [
    "$CONFORMANCE_USERNAME$(touch$IFS{marker})",
    "$(touch {marker})",
    "`touch {marker}`",
    "'; touch {marker}; '",
    '"; touch {marker}; "',
    "\\'$(touch {marker})\\'",
    "${{IFS}}$(touch {marker})",
    "a\nb; touch {marker}",
    "!!; touch {marker} &",
]
# Records its arguments instead of sending anything: the shell's view of the line, NUL-separated.
RECORDING_CURL = 'curl() { for arg in "$@"; do printf "%s\\0" "$arg"; done > "$ARGS_FILE"; }; '


def prepared(method: str, url: str, headers: dict[str, str], body: bytes | None) -> requests.PreparedRequest:
    return requests.Request(method, url, headers=headers, data=body, auth=("koshelek", "secret-pw")).prepare()


def run_in_shell(line: str, tmp_path: Path) -> list[str]:
    args_file = tmp_path / "args"
    args_file.unlink(missing_ok=True)
    env = {"PATH": os.environ["PATH"], "ARGS_FILE": str(args_file), ENV[0]: "user", ENV[1]: "pw"}
    done = subprocess.run(["sh", "-c", RECORDING_CURL + line], env=env, capture_output=True, timeout=10)
    assert done.returncode == 0, done.stderr
    return args_file.read_bytes().decode("utf-8").split("\0")[:-1]


def payloads(marker: Path) -> st.SearchStrategy[str]:
    injected = st.sampled_from([text.format(marker=marker) for text in INJECTIONS])
    printable = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
    return st.one_of(injected, printable, st.tuples(printable, injected).map("".join))


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("marker") / "executed"
    yield path
    assert not path.exists(), "a repro line executed a command"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_argument_reaches_curl_literally_and_nothing_runs(data: st.DataObject, marker: Path, tmp_path: Path):
    segment, header_value, body = (data.draw(payloads(marker)) for _ in range(3))
    url = f"https://127.0.0.1:8443/v1/card/{segment}/communication"
    try:
        request = prepared("PUT", url, {"X-Echo": header_value}, body.encode("utf-8"))
    except requests.exceptions.InvalidHeader:
        assume(False)  # requests never sends such a header, so no repro line can carry it
    line = curl_command(request, ca_bundle="/tmp/ca.pem", env=ENV)
    assert subprocess.run(["sh", "-n", "-c", line], capture_output=True).returncode == 0
    args = run_in_shell(line, tmp_path)
    assert args[args.index("-u") + 1] == "user:pw"
    assert f"X-Echo: {request.headers['X-Echo']}" in args
    if body:
        assert args[args.index("--data-binary") + 1] == body
    assert args[-1] == request.url
    assert not marker.exists()


def test_masked_secrets_stay_masked_and_quoted(tmp_path: Path) -> None:
    masker = Masker()
    masker.add_basic("koshelek", "it's $(secret)")
    request = prepared("GET", "https://127.0.0.1/v1/card?q=it%27s", {"X-Echo": "it's $(secret) again"}, None)
    line = curl_command(request, ca_bundle=None, env=ENV, masker=masker)
    assert "secret" not in line
    assert "X-Echo: *** again" in run_in_shell(line, tmp_path)


def test_unset_credential_variables_stop_the_line_with_a_message(tmp_path: Path) -> None:
    line = curl_command(prepared("GET", "https://127.0.0.1/v1/card", {}, None), ca_bundle=None, env=ENV)
    done = subprocess.run(
        ["sh", "-c", RECORDING_CURL + line],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode != 0 and "CONFORMANCE_USERNAME: set it" in done.stderr


def test_header_credentials_come_from_the_environment(tmp_path: Path) -> None:
    headers = {"Authorization": "auth-value-9", "X-WOOS-KEY": "woos-value-9"}
    request = prepared("POST", "https://127.0.0.1/token/new", headers, b"{}")
    request.headers.pop("Content-Length", None)
    line = curl_command(request, ca_bundle=None, env=ENV, auth_headers=("Authorization", "X-WOOS-KEY"))
    assert "value-9" not in line
    args = run_in_shell(line, tmp_path)
    assert "Authorization: user" in args and "X-WOOS-KEY: pw" in args


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_PUT(self) -> None:
        self.seen.append(self.path)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_real_shell_and_curl_replay_the_hostile_card_number_literally(tmp_path: Path) -> None:
    marker = tmp_path / "x"
    card = f"$CONFORMANCE_USERNAME$(touch$IFS{marker})"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/card/{card}/communication"
        line = curl_command(prepared("PUT", url, {}, b'{"allow": []}'), ca_bundle=None, env=ENV)
        env = {"PATH": os.environ["PATH"], ENV[0]: "user", ENV[1]: "pw"}
        subprocess.run(["sh", "-c", line], env=env, capture_output=True, timeout=10)
    finally:
        server.shutdown()
    assert not marker.exists(), "the repro line ran the target's command"
    assert _Recorder.seen == [requests.Request("PUT", url).prepare().path_url]
