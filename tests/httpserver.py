"""A real HTTP server on 127.0.0.1, port 0, for the live-source tests (no HTTP mocks).

It serves the files under ``tests/data`` (``/feeds/…`` and ``/site/…``) with an ETag and a
Last-Modified header, answering conditional requests with 304, plus scripted routes: a
route is a list of ``Reply`` values served in turn (the last one repeats). Every request is
logged (path and headers) so tests can check what the client sent, or that it sent nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
LAST_MODIFIED = "Mon, 02 Mar 2026 06:00:00 GMT"
TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
}


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: str | None = None  # serve this file from tests/data instead of ``body``
    hang_seconds: float = 0.0  # wait this long (or until the server stops) before answering
    no_length: bool = False  # no Content-Length: the body ends when the connection closes


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (size cap, timeout) are expected; anything else is loud."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LoopbackServer:
    """The server object the ``http_server`` fixture yields."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.log: list[Seen] = []
        self.in_flight: dict[str, int] = {}  # Host header -> requests being answered now
        self.most_in_flight: dict[str, int] = {}  # ... the most at once so far
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *replies: Reply) -> str:
        """Serve ``replies`` at ``path`` in turn; returns the full URL."""
        with self._lock:
            self.routes[path] = list(replies)
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.log if s.path == path]

    def next_reply(self, path: str) -> Reply | None:
        with self._lock:
            replies = self.routes.get(path)
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.log.append(Seen(path=path, headers=headers))

    def answering(self, host: str, delta: int) -> None:
        with self._lock:
            now = self.in_flight[host] = self.in_flight.get(host, 0) + delta
            self.most_in_flight[host] = max(self.most_in_flight.get(host, 0), now)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms ACK stalls)
    server_version = "digest-test"

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: the server keeps its own log

    def do_GET(self) -> None:
        owner: LoopbackServer = self.server.owner  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        owner.record(path, {k.lower(): v for k, v in self.headers.items()})
        host = str(self.headers.get("Host", "")).rsplit(":", 1)[0]
        owner.answering(host, 1)
        try:
            reply = owner.next_reply(path) or Reply(file=path.lstrip("/"))
            if reply.hang_seconds:
                owner.stopping.wait(reply.hang_seconds)
            if reply.file is not None:
                reply = self._file_reply(reply)
            self._send(reply)
        finally:
            owner.answering(host, -1)

    def _file_reply(self, reply: Reply) -> Reply:
        target = (DATA / reply.file).resolve() if reply.file else DATA
        if not target.is_file() or DATA not in target.parents:
            return Reply(status=404, body=b"not found")
        body = target.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {
            "Content-Type": TYPES.get(target.suffix, "application/octet-stream"),
            "ETag": etag,
            "Last-Modified": LAST_MODIFIED,
            **reply.headers,
        }
        if self.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in self.headers
            and self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return Reply(status=304, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})
        return Reply(status=reply.status, body=body, headers=headers)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.no_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        elif reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.status != 304:
            try:
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (size cap, timeout): that is the point


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(5)


# ── a raw-socket server that drips its answer ─────────────────────────────────────────────


class DripServer:
    """Answers every request on 127.0.0.1 a byte at a time, every ``interval`` seconds, for
    at most ``seconds``: ``/headers`` drips an endless header line after the status line,
    ``/body`` sends its headers at once and drips the body. It stops dripping when the
    client hangs up (so the time the client stayed is ``held``)."""

    def __init__(self, *, interval: float = 0.1, seconds: float = 8.0) -> None:
        self.interval, self.seconds = interval, seconds
        self.stopping = threading.Event()
        self.held: list[float] = []  # seconds each connection was kept open by the client
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.base = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        started = time.monotonic()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                request += conn.recv(4096) or b"\r\n\r\n"
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
            if path.startswith(b"/body"):
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                first, drip = head + b"Content-Length: 100000\r\n\r\n", b"<"
            else:
                first, drip = b"HTTP/1.1 200 OK\r\nX-Drip: ", b"a"
            with contextlib.suppress(OSError):
                conn.sendall(first)
                while time.monotonic() - started < self.seconds:
                    if self.stopping.wait(self.interval):
                        break
                    conn.sendall(drip)
                    if _hung_up(conn):
                        break
            self.held.append(time.monotonic() - started)

    def close(self) -> None:
        self.stopping.set()
        self._thread.join(5)
        self._listener.close()


def _hung_up(conn: socket.socket) -> bool:
    """True when the client closed its end (a zero-byte read that does not block)."""
    try:
        return conn.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False


@pytest.fixture
def drip_server() -> Iterator[DripServer]:
    server = DripServer()
    server._thread.start()
    try:
        yield server
    finally:
        server.close()
