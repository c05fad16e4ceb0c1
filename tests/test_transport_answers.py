"""The HTTP layer on answers a real (or hostile) service may send: what counts as the final answer, when a head is
no answer, what a Retry-After is worth, and that the answer's deadline reaches the socket whatever http.client did
with it. Raw servers on 127.0.0.1; no suite run (tests/hostile runs the CLI against the same misbehaviours)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

import pytest
import requests
from hostile.servers import raw_server, read_request
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.transport import (
    MAX_BACK_OFF,
    AnswerDeadline,
    AnswerTooLarge,
    BoundedSession,
    Breakers,
    CutHead,
    Limits,
    MalformedHead,
    NoAnswer,
    cause_of,
    describe,
    probe,
    retry_after,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def exchange(handler: Callable[[socket.socket, int], None], timeout: float = 2.0, **limits: int) -> requests.Response:
    bounds = Limits(timeout=timeout, **limits)
    with raw_server(handler) as server, BoundedSession(bounds, Breakers(bounds)) as session:
        return session.get(server.url + "/v1/card")


def answering(raw: bytes, *, close: bool = False) -> Callable[[socket.socket, int], None]:
    def handler(conn: socket.socket, number: int) -> None:
        while read_request(conn):
            conn.sendall(raw)
            if close:
                return

    return handler


# --- informational answers (RFC 9110 §15.2) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "informational",
    [
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
        b"HTTP/1.1 199 Whatever\r\nX-Any: 1\r\n\r\n",
    ],
    ids=["103", "100-102-103", "unknown-1xx"],
)
def test_informational_answers_are_read_past_to_the_final_one(informational: bytes) -> None:
    response = exchange(answering(informational + OK))
    assert (response.status_code, response.content) == (200, b"{}")
    assert "Link" not in response.headers  # the final answer's headers, not the hints'


def test_two_exchanges_on_one_connection_each_get_their_own_final_answer() -> None:
    bounds = Limits(timeout=2)
    with (
        raw_server(answering(b"HTTP/1.1 103 Early Hints\r\n\r\n" + OK)) as server,
        BoundedSession(bounds, Breakers(bounds)) as session,
    ):
        assert [session.get(server.url).status_code for _ in range(3)] == [200, 200, 200]
        assert server.connections == 1


def test_switching_protocols_is_final_and_the_connection_is_not_reused() -> None:
    bounds = Limits(timeout=2)
    with (
        raw_server(answering(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")) as server,
        BoundedSession(bounds, Breakers(bounds)) as session,
    ):
        assert [session.get(server.url).status_code for _ in range(2)] == [101, 101]
        assert server.connections == 2


# --- a head that is no answer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    [b"HTTP/1.1 200", b"HTTP/1.1 200 OK\r\nContent-Type: appl", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"],
    ids=["in-status-line", "in-a-header", "before-the-blank-line"],
)
def test_a_head_cut_by_the_end_of_the_connection_is_no_answer(cut: bytes) -> None:
    with pytest.raises(CutHead) as raised:
        exchange(answering(cut, close=True))
    assert cause_of(raised.value) == "answer cut inside its headers"


def test_an_informational_head_cut_short_is_no_answer() -> None:
    with pytest.raises(CutHead):
        exchange(answering(b"HTTP/1.1 103 Early Hints\r\nLink: </a>", close=True))


def test_a_head_cut_by_a_reset_is_no_answer() -> None:
    def reset(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: appl")
        time.sleep(0.1)  # the partial head is read before the reset arrives
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with pytest.raises(CutHead):
        exchange(reset)


@pytest.mark.parametrize(
    "line",
    [b"Bad Header: 1", b"Content-Type : application/json", b": no-name", b"X-\x1b[31m: 1", b" X-Folded-First: 1"],
    ids=["space-in-name", "space-before-colon", "empty-name", "control-in-name", "fold-before-any-header"],
)
def test_a_malformed_header_line_is_named_at_once(line: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(MalformedHead) as raised:
        exchange(answering(OK.replace(b"\r\n", b"\r\n" + line + b"\r\n", 1)), timeout=5)
    assert time.monotonic() - started < 2, "named at once, not at the timeout"
    assert cause_of(raised.value) == "malformed header line"
    assert "malformed header line at http://x" in describe(raised.value, "http://x")


def test_every_token_character_and_a_folded_line_are_well_formed() -> None:
    head = b"HTTP/1.1 200 OK\r\nX_a.b!#$%&'*+-^`|~9: v\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\n{}"
    assert exchange(answering(head)).status_code == 200


# --- the answer's deadline reaches the socket ---------------------------------------------------------------------


def test_a_body_dripped_on_a_closing_connection_is_cut_at_the_timeout() -> None:
    def drip(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b" ")
            time.sleep(0.1)  # each byte well within the socket's own read timeout

    started = time.monotonic()
    with pytest.raises(AnswerDeadline):
        exchange(drip, timeout=0.5)
    assert time.monotonic() - started < 2


# --- an answer too large is an answer -----------------------------------------------------------------------------


def test_a_body_over_max_body_is_an_answer_with_its_status() -> None:
    big = b"HTTP/1.1 418 Teapot\r\nContent-Length: 100000\r\n\r\n" + b"0" * 100_000
    with pytest.raises(AnswerTooLarge) as raised:
        exchange(answering(big), max_body=1000)
    assert raised.value.response is not None and raised.value.response.status_code == 418
    bounds = Limits(timeout=2, max_body=1000)
    with raw_server(answering(big)) as server, BoundedSession(bounds, Breakers(bounds)) as session:
        assert probe(session, server.url) == 418


def test_a_tls_error_names_a_certificate_for_another_host() -> None:
    mismatch = requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, certificate is not valid "
        "for '127.0.0.1'. (_ssl.c:1006)"
    )
    untrusted = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed")
    assert cause_of(mismatch) == "TLS failure: the certificate does not name this host"
    assert cause_of(untrusted) == "TLS failure: the certificate is not trusted"
    assert cause_of(requests.exceptions.SSLError("[SSL] record layer failure")) == "TLS failure"
    assert isinstance(AnswerDeadline("x"), NoAnswer)


# --- Retry-After ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "٣", "1.5", "-1", "0x10", "\x00", "Mon, 00 Jan 0000 00:00:00 GMT", "\ufeff5"])
def test_an_unparseable_retry_after_counts_as_absent(value: str) -> None:
    assert retry_after(value) == retry_after(None)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(), st.binary().map(lambda raw: raw.decode("latin-1"))))  # requests hands on Latin-1 text
def test_retry_after_never_raises_and_stays_within_bounds(value: str) -> None:
    assert 0.0 <= retry_after(value) <= MAX_BACK_OFF


def test_an_answer_the_run_deadline_cuts_is_the_deadline_not_the_services_silence() -> None:
    """The run's deadline, the user's bound, cut the wait short: no availability finding, no breaker count."""
    import socket as sockets
    import threading

    from conformance.transport import BoundedSession, Breakers, Limits, RunDeadline

    listener = sockets.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held: list = []  # the accepted connection stays open: the service reads and never answers

    def hold() -> None:
        held.append(listener.accept()[0])
        held[0].recv(65536)

    threading.Thread(target=hold, daemon=True).start()
    limits = Limits(timeout=10.0, deadline=time.monotonic() + 0.5)
    breakers = Breakers(limits)
    with BoundedSession(limits, breakers) as session, pytest.raises(RunDeadline):
        session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    assert breakers.in_a_row == 0
    listener.close()
