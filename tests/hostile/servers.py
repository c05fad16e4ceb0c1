"""Misbehaving services for the hostile-target tests: raw TCP servers that break HTTP itself, and WSGI apps that
answer well-formed HTTP with hostile content. Every one listens on 127.0.0.1 only."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def read_request(conn: socket.socket) -> bytes:
    """The request head and its Content-Length body (what a client sends before it waits for an answer)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


class RawServer:
    """Accepts connections and hands each to `handler(conn, number)` in its own thread; with `tls`, each connection
    is first wrapped in the TLS context `tls(number)` gives for it."""

    def __init__(
        self, handler: Callable[[socket.socket, int], None], tls: Callable[[int], ssl.SSLContext] | None = None
    ) -> None:
        self.handler, self.tls = handler, tls
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.connections = 0
        self.requests = 0
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        try:
            if self.tls is not None:
                conn = self.tls(number).wrap_socket(conn, server_side=True)
                self.open.append(conn)
            self.handler(conn, number)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        for conn in self.open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass


@contextmanager
def raw_server(
    handler: Callable[[socket.socket, int], None], tls: Callable[[int], ssl.SSLContext] | None = None
) -> Iterator[RawServer]:
    server = RawServer(handler, tls)
    try:
        yield server
    finally:
        server.close()


JSON_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}"


def keep_answering(conn: socket.socket, answer: Callable[[int], bytes], server: RawServer) -> None:
    """Answer every request on a keep-alive connection with `answer(request_number)`."""
    while True:
        if not read_request(conn):
            return
        server.requests += 1
        conn.sendall(answer(server.requests))


def drip_body(conn: socket.socket, number: int) -> None:
    """Headers at once, then a body of 1000 bytes at one byte a second."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        conn.sendall(b" ")
        time.sleep(1)


def drip_headers(conn: socket.socket, number: int) -> None:
    """A status line, then header bytes one every half second, forever."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while True:
        conn.sendall(b"X")
        time.sleep(0.5)


def drip_body_on_close(conn: socket.socket, number: int) -> None:
    """The same dripped body on a connection the answer says will close (http.client lets go of its socket)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        conn.sendall(b" ")
        time.sleep(0.5)


def drip_headers_on_close(conn: socket.socket, number: int) -> None:
    """`Connection: close`, then one whole header line every half second, forever."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n")
    for line in range(100_000):
        conn.sendall(f"X-Line-{line}: 1\r\n".encode())
        time.sleep(0.5)


def endless_continue(conn: socket.socket, number: int) -> None:
    read_request(conn)
    while True:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.1)


def truncated(conn: socket.socket, number: int) -> None:
    """Promises 1000 bytes, sends 10, closes."""
    while read_request(conn):
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 1000\r\n\r\n"
        )
        conn.sendall(b'{"card": {')
        return


def broken_chunking(conn: socket.socket, number: int) -> None:
    while read_request(conn):
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\n{}\r\n0\r\n\r\n"
        )
        return


# --- a proxy in front of a reference service, that lets a test rewrite or break each answer -------------------

# Returns the raw answer, None to close without one, (raw answer, "close") to close right after it, (raw answer,
# "reset") to reset the connection right after it (a TCP RST, not an orderly close), or an iterator
# of pieces, each sent as it comes (a generator may sleep between them), then the connection closed.
Mutation = Callable[
    [int, bytes, int, list[tuple[str, str]], bytes], "bytes | tuple[bytes, str] | Iterator[bytes] | None"
]


def http_answer(status: int, headers: list[tuple[str, str]], body: bytes, reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [
        f"{name}: {value}" for name, value in headers if name.lower() not in ("content-length", "transfer-encoding")
    ]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@contextmanager
def proxy(upstream: str, mutate: Mutation) -> Iterator[RawServer]:
    """Forward each request to `upstream` (plain HTTP) and send back `mutate(n, request_head, status, headers,
    body)`: the raw bytes to answer with, or None to close the connection without an answer."""
    import http.client
    from urllib.parse import urlsplit

    host, port = urlsplit(upstream).hostname, urlsplit(upstream).port
    server: RawServer

    def handle(conn: socket.socket, number: int) -> None:
        upstream_conn = http.client.HTTPConnection(host, port, timeout=30)
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
            length = next((int(value) for name, value in headers if name.lower() == "content-length"), 0)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk
            body, buffer = rest[:length], rest[length:]
            upstream_conn.request(method, target, body=body, headers=dict(headers))
            answer = upstream_conn.getresponse()
            answer_body = answer.read()
            server.requests += 1
            raw = mutate(server.requests, head, answer.status, answer.getheaders(), answer_body)
            if raw is None:
                return
            if isinstance(raw, tuple):
                conn.sendall(raw[0])
                if raw[1] == "reset":  # linger 0: close() sends a RST
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if not isinstance(raw, bytes):
                for piece in raw:
                    conn.sendall(piece)
                return
            conn.sendall(raw)

    server = RawServer(handle)
    try:
        yield server
    finally:
        server.close()
