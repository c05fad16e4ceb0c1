"""Bad input gets a clear one-line error and a distinct exit code, never a traceback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli, start_service

EXIT_USAGE, EXIT_TRANSPORT = 2, 3
SAMPLE = ["--reference-data"]  # these targets' failures come before any identity is used


def assert_clean(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: the shape of a hung service."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in accepted:
        conn.close()


def test_connection_refused_is_a_transport_failure(tmp_path: Path) -> None:
    result = run_cli(["run", "loyalty", "--base-url", f"https://127.0.0.1:{free_port()}", *SAMPLE], tmp_path)
    assert result.exit_code == EXIT_TRANSPORT
    assert "connection refused" in result.stderr
    assert_clean(result)


def test_unknown_host_is_a_transport_failure(tmp_path: Path) -> None:
    result = run_cli(["run", "loyalty", "--base-url", "https://no-such-host.invalid", *SAMPLE], tmp_path)
    assert result.exit_code == EXIT_TRANSPORT
    assert "unknown host" in result.stderr or "connection failure" in result.stderr
    assert_clean(result)


def test_timeout_is_a_transport_failure(tmp_path: Path, silent_server: str) -> None:
    result = run_cli(["run", "loyalty", "--base-url", silent_server, "--timeout", "0.5", *SAMPLE], tmp_path)
    assert result.exit_code == EXIT_TRANSPORT
    assert "timeout" in result.stderr
    assert_clean(result)


def test_untrusted_certificate_is_a_tls_failure(tmp_path: Path) -> None:
    with start_service("loyalty") as server:  # its CA is not passed with --ca-bundle
        result = run_cli(["run", "loyalty", "--base-url", server.base_url, *SAMPLE], tmp_path)
    assert result.exit_code == EXIT_TRANSPORT
    assert "TLS failure" in result.stderr and "--ca-bundle" in result.stderr
    assert_clean(result)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example",
        "partner.example:8443",
        "https://user:pw@partner.example",
        "https://partner.example/?x=1",
        "https://[::1",  # urlsplit itself refuses it
    ],
)
def test_wrong_url_is_a_usage_error(url: str, tmp_path: Path) -> None:
    result = run_cli(["run", "loyalty", "--base-url", url], tmp_path)
    assert result.exit_code == EXIT_USAGE
    assert "--base-url" in result.stderr
    assert "pw@" not in result.stderr + result.stdout
    assert_clean(result)


def test_missing_credentials_for_a_partner_target_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(
        ["run", "loyalty", "--base-url", "https://partner.example", *SAMPLE],
        tmp_path,
        env={"CONFORMANCE_USERNAME": None, "CONFORMANCE_PASSWORD": None},
    )
    assert result.exit_code == EXIT_USAGE
    assert "CONFORMANCE_USERNAME" in result.stderr
    assert_clean(result)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-examples", "0"], "--max-examples"),
        (["--api-version", "9.9.9"], "--api-version"),
        (["--target-config", "/no/such/file.toml"], "cannot read target config"),
        (["--ca-bundle", "/no/such/ca.pem"], "--ca-bundle"),
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "many"], "--concurrency"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli(["run", "loyalty", *args], tmp_path)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
    assert_clean(result)


def test_invalid_target_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "target.toml"
    config.write_text("identities = [not toml", encoding="utf-8")
    result = run_cli(["run", "loyalty", "--target-config", str(config)], tmp_path)
    assert result.exit_code == EXIT_USAGE
    assert "not valid TOML" in result.stderr
    assert_clean(result)


def test_unknown_api_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["run", "no-such-api"], tmp_path)
    assert result.exit_code == EXIT_USAGE
    assert_clean(result)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"optional_methods = 5\n", "optional_methods must be a list of strings"),
        (b'optional_methods = "getAllUsers"\n', "optional_methods must be a list of strings"),
        (b'optinal_methods = ["getAllUsers"]\n', "unknown key 'optinal_methods'"),
        (b'[identities.with_card]\nmsisdn = "79216668899"\ncard_numbr = "1"\n', "unknown key 'card_numbr'"),
        (b'[identities.blocked_card]\nmsisdn = "7"\n', "unknown identity [identities.blocked_card]"),
        (b"# \xff\xfe not UTF-8\n", "is not UTF-8"),
    ],
    ids=["number", "string-not-list", "typo", "identity-key-typo", "identity-typo", "not-utf8"],
)
def test_a_wrong_target_config_names_the_file_and_the_key(content: bytes, message: str, tmp_path: Path) -> None:
    config = tmp_path / "target.toml"
    config.write_bytes(content)
    result = run_cli(["run", "loyalty", "--target-config", str(config)], tmp_path)
    assert result.exit_code == EXIT_USAGE, result.stdout + result.stderr
    assert message in result.stderr and str(config) in result.stderr
    assert_clean(result)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(value: str, tmp_path: Path) -> None:
    result = run_cli(["run", "loyalty", "--timeout", value], tmp_path)
    assert result.exit_code == EXIT_USAGE and "--timeout" in result.stderr
    assert_clean(result)


def test_an_unwritable_report_dir_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_cli(["run", "loyalty"], blocker / "reports")
    assert result.exit_code == EXIT_USAGE and "--report-dir" in result.stderr
    assert_clean(result)


def test_a_url_with_credentials_and_a_bad_scheme_never_echoes_the_password(tmp_path: Path) -> None:
    result = run_cli(["run", "loyalty", "--base-url", "ftp://user:s3cret-pw@partner.example"], tmp_path)
    assert result.exit_code == EXIT_USAGE
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert_clean(result)


def test_a_certificate_for_another_host_is_named_as_such(tmp_path: Path) -> None:
    import trustme
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    authority = trustme.CA()
    issued = authority.issue_cert("other.example")
    cert, key, ca = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    server = wsgi.Server(("127.0.0.1", 0), lambda environ, start: [], numthreads=1)
    server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.bind_addr[1]}"
        result = run_cli(["run", "loyalty", "--base-url", url, "--ca-bundle", str(ca), *SAMPLE], tmp_path)
    finally:
        server.stop()
    assert result.exit_code == EXIT_TRANSPORT
    assert "does not name this host" in result.stderr and "pass --ca-bundle" not in result.stderr
    assert_clean(result)
