"""One HTTP client for every live source: polite, bounded and safe.

* A User-Agent naming the project; connect and read timeouts, plus a total time per response
  (``total_timeout_seconds``, redirects included) that every socket operation is held to:
  ``DeadlineStream`` gives each connect, read and write at most the time left, so a server
  that drips its status line, headers or body a byte at a time is cut off at the deadline.
* Bodies are streamed and abandoned past ``max_bytes``, counted after decompression. gzip and
  deflate are inflated here, at most 64 KiB at a time (``zlib`` ``max_length``), so a
  compression bomb is refused after ``max_bytes``, never inflated a network chunk at a time.
* Redirects are followed here, up to ``max_redirects``; every hop must be http(s). A chain of
  permanent redirects (301/308) is reported as ``Fetched.moved_to`` so the store keeps the new
  URL.
* Every connection goes through ``GuardedBackend``: it resolves the host and refuses private,
  loopback, link-local and reserved addresses (unless allowed), then connects to the address it
  checked, so a second DNS answer cannot slip past the check.
* Conditional GET from stored validators; a 304 is ``Fetched(status=304)`` with no body.
* 410 → ``GoneError``; 429/503 → ``RetryLaterError`` (with Retry-After); any other status of
  400 and above → ``FetchError``.
* Every httpx/httpcore exception becomes a ``FetchError`` in one place: ``wrap_errors``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from digest import __version__
from digest.config_sources import FetchSettings
from digest.errors import FetchError, GoneError, RetryLaterError, SourceError
from digest.models import Fetched, Validators

SCHEMES = ("http", "https")
PERMANENT = (301, 308)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
_CHUNK = 65536


def default_user_agent() -> str:
    return f"digest/{__version__} (self-hosted news briefing; python-httpx/{httpx.__version__})"


# ── address guard ────────────────────────────────────────────────────────────────────────


class RefusedAddress(Exception):
    """The host resolved only to addresses we refuse to connect to."""


def address_allowed(address: str) -> bool:
    """True for a public unicast address; False for private, loopback, link-local, reserved."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


# ── total deadline ───────────────────────────────────────────────────────────────────────

_request = threading.local()  # .deadline: time.monotonic() by which this thread's fetch ends


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut down to the time left before this thread's deadline; ``error`` when
    none is left."""
    deadline: float | None = getattr(_request, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the total time for the response is up")
    return left if timeout is None else min(timeout, left)


@contextmanager
def _deadline(seconds: float, subject: str) -> Iterator[float]:
    """Hold this thread's fetch to ``seconds`` in all; a timeout at the deadline (or past it)
    becomes "took longer than N s"."""
    deadline = time.monotonic() + seconds
    _request.deadline = deadline
    try:
        yield deadline
    except (httpx.TimeoutException, httpcore.TimeoutException):
        if time.monotonic() < deadline - 0.01:
            raise  # a connect or read timeout of its own: "timed out"
        raise FetchError(subject, f"took longer than {seconds:g} s") from None
    finally:
        _request.deadline = None


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake ends by the deadline of
    the fetch that uses it (a pooled connection serves the deadline of its current user)."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # the whole handshake runs under one socket timeout (CPython's SSL deadline)
        left = _left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses non-public addresses, connects to a checked one;
    every connection is a ``DeadlineStream``."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(self._connect(host, port, timeout, local_address, socket_options))

    def _connect(
        self,
        host: str,
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.NetworkStream:
        if self.allow_private:
            left = _left(timeout, httpcore.ConnectTimeout)
            return super().connect_tcp(host, port, left, local_address, socket_options)
        addresses = _resolve(host, port)
        allowed = [a for a in addresses if address_allowed(a)]
        if not allowed:
            shown = ", ".join(addresses)
            raise RefusedAddress(f"{host} resolves to a non-public address ({shown})")
        for n, address in enumerate(allowed, 1):
            left = _left(timeout, httpcore.ConnectTimeout)
            try:
                return super().connect_tcp(address, port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                if n == len(allowed):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that uses ``GuardedBackend``."""

    def __init__(self, *, allow_private: bool, max_connections: int) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=GuardedBackend(allow_private=allow_private),
        )


def make_client(settings: FetchSettings) -> httpx.Client:
    """The one client of a run (thread-safe; close it, or use it as a context manager)."""
    timeout = httpx.Timeout(
        settings.read_timeout_seconds,
        connect=settings.connect_timeout_seconds,
        pool=settings.total_timeout_seconds,
    )
    headers = {
        "User-Agent": settings.user_agent or default_user_agent(),
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip, deflate",  # the codings ``decoded`` undoes, bounded
    }
    transport = GuardedTransport(
        allow_private=settings.allow_private_addresses,
        max_connections=max(settings.concurrency, settings.per_host_concurrency),
    )
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        headers=headers,
        follow_redirects=False,
        trust_env=False,  # no proxies from the environment: the address guard sees the target
    )


# ── errors ───────────────────────────────────────────────────────────────────────────────


@contextmanager
def wrap_errors(subject: str) -> Iterator[None]:
    """The one place where httpx/httpcore exceptions become ``FetchError`` naming ``subject``."""
    try:
        yield
    except SourceError:
        raise
    except RefusedAddress as e:
        raise FetchError(subject, f"refused: {e}") from None
    except httpx.TimeoutException as e:
        raise FetchError(subject, "timed out") from e
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as e:
        raise FetchError(subject, "fetch failed") from e
    except Exception as e:  # library edge: odd input costs one source, not the run
        raise FetchError(subject, "unexpected error while fetching") from e


# ── fetching ─────────────────────────────────────────────────────────────────────────────


def fetch(
    client: httpx.Client,
    url: str,
    validators: Validators | None,
    *,
    settings: FetchSettings,
    subject: str,
) -> Fetched:
    """GET ``url`` (conditionally when ``validators`` are given); raises ``FetchError``.

    The whole exchange, redirects included, ends within ``total_timeout_seconds``."""
    with wrap_errors(subject), _deadline(settings.total_timeout_seconds, subject) as deadline:
        return _follow(client, url, _conditional(validators), settings, deadline, subject)


def _conditional(validators: Validators | None) -> dict[str, str]:
    headers = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _follow(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    settings: FetchSettings,
    deadline: float,
    subject: str,
) -> Fetched:
    moved_to: str | None = None
    permanent = True
    for _ in range(settings.max_redirects + 1):
        _check_scheme(url, subject)
        with client.stream("GET", url, headers=headers) as response:
            if response.has_redirect_location:
                url = urljoin(url, response.headers["location"])
                permanent = permanent and response.status_code in PERMANENT
                moved_to = url if permanent else moved_to
                continue
            _check_status(response, subject)
            body = (
                b"" if response.status_code == 304 else _read(response, settings, deadline, subject)
            )
            return _fetched(response, url, body, moved_to)
    raise FetchError(subject, f"too many redirects (more than {settings.max_redirects})")


def _check_scheme(url: str, subject: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise FetchError(
            subject, f"refused {scheme or 'scheme-less'} URL {url!r} (http/https only)"
        )


def _check_status(response: httpx.Response, subject: str) -> None:
    status = response.status_code
    if status < 400:
        return
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    if status == 410:
        raise GoneError(subject, f"gone ({reason}), source disabled")
    if status in (429, 503):
        wait = retry_after_seconds(
            response.headers.get("retry-after"), response.headers.get("date")
        )
        told = f", retry after {wait:g} s" if wait is not None else ""
        raise RetryLaterError(subject, f"{reason}{told}", retry_after_seconds=wait)
    raise FetchError(subject, reason)


def retry_after_seconds(value: str | None, date: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds, or an HTTP date measured
    against the response's Date header); None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when, sent = parsedate_to_datetime(value), parsedate_to_datetime(date or "")
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - sent).total_seconds())


def _read(
    response: httpx.Response, settings: FetchSettings, deadline: float, subject: str
) -> bytes:
    if response.status_code == 304:
        return b""
    limit = settings.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(subject, f"response too large ({declared} bytes, limit {limit})")
    chunks, size = [], 0
    for chunk in decoded(response.iter_raw(), _encodings(response, subject), subject):
        size += len(chunk)
        if size > limit:
            raise FetchError(subject, f"response too large (over the {limit} byte limit)")
        if time.monotonic() > deadline:
            raise FetchError(subject, f"took longer than {settings.total_timeout_seconds:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _encodings(response: httpx.Response, subject: str) -> list[str]:
    """The response's gzip/deflate codings, in the order they were applied. Other names are
    passed over as httpx does (servers send "none", "utf-8", "binary"), except compressions
    we did not ask for and cannot undo, which are refused."""
    codings = [
        c.strip().lower()
        for value in response.headers.get_list("content-encoding")
        for c in value.split(",")
    ]
    refused = [c for c in codings if c in _UNDECODABLE]
    if refused:
        raise FetchError(subject, f"unsupported content encoding {refused[0]!r}")
    return [c for c in codings if c in _WBITS]


_UNDECODABLE = frozenset({"br", "zstd", "compress", "x-compress"})
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decoded(raw: Iterable[bytes], codings: Sequence[str], subject: str) -> Iterator[bytes]:
    """``raw`` with its content codings undone, last applied first; never more than
    ``_CHUNK`` bytes are inflated at a time, however much a chunk of ``raw`` expands."""
    stream: Iterable[bytes] = raw
    for coding in reversed(codings):
        stream = _inflated(stream, coding, subject)
    return iter(stream)


def _inflated(chunks: Iterable[bytes], coding: str, subject: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(_WBITS[coding])
    first = True
    for chunk in chunks:
        data = chunk
        while data and not inflater.eof:
            try:
                piece = inflater.decompress(data, _CHUNK)
            except zlib.error as e:
                if first and coding == "deflate":  # raw deflate, without the zlib header
                    inflater, first = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise FetchError(subject, f"could not decompress the {coding} body") from e
            first = False
            data = inflater.unconsumed_tail
            if piece:
                yield piece


def _fetched(response: httpx.Response, url: str, body: bytes, moved_to: str | None) -> Fetched:
    headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())
    validators = Validators(
        etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified")
    )
    return Fetched(
        url=url,
        status=response.status_code,
        headers=headers,
        body=body,
        validators=validators,
        moved_to=moved_to,
    )


# ── concurrency ──────────────────────────────────────────────────────────────────────────


class HostLimiter:
    """At most ``per_host`` requests in flight to one host (shared by every worker thread)."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with semaphore:
            yield
