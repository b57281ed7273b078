"""The HTTP client against a real server on 127.0.0.1: validators, redirects, limits, errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from digest.config_sources import FetchSettings
from digest.errors import FetchError, GoneError, RetryLaterError
from digest.models import Validators
from digest.sources.http import (
    HostLimiter,
    address_allowed,
    default_user_agent,
    fetch,
    make_client,
    retry_after_seconds,
    wrap_errors,
)
from tests.httpserver import LoopbackServer, Reply

FAST = FetchSettings(
    allow_private_addresses=True,
    connect_timeout_seconds=0.5,
    read_timeout_seconds=0.5,
    total_timeout_seconds=3.0,
    max_bytes=200_000,
    max_redirects=3,
)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(FAST) as c:
        yield c


def get(client: httpx.Client, url: str, validators: Validators | None = None, **changes):
    settings = FetchSettings(**{**_fields(FAST), **changes})
    return fetch(client, url, validators, settings=settings, subject="feed 'test'")


def _fields(settings: FetchSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


def test_a_feed_is_fetched_with_our_user_agent_and_validators(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    got = get(client, http_server.url("/feeds/full.rss"))
    assert got.status == 200
    assert got.body.startswith(b"<?xml")
    assert got.header("content-type") == "application/rss+xml"
    assert got.validators.etag
    assert got.validators.last_modified
    assert got.moved_to is None
    sent = http_server.hits("/feeds/full.rss")[0].headers
    assert sent["user-agent"] == default_user_agent()
    assert sent["user-agent"].startswith("digest/")
    assert "if-none-match" not in sent


def test_stored_validators_make_the_request_conditional(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    url = http_server.url("/feeds/full.rss")
    first = get(client, url)
    again = get(client, url, first.validators)
    assert again.not_modified
    assert again.body == b""
    sent = http_server.hits("/feeds/full.rss")[1].headers
    assert sent["if-none-match"] == first.validators.etag
    assert sent["if-modified-since"] == first.validators.last_modified
    by_date = get(client, url, Validators(last_modified=first.validators.last_modified))
    assert by_date.not_modified


def test_a_permanent_redirect_reports_the_new_url(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    http_server.route("/old.rss", Reply(status=301, headers={"Location": "/feeds/full.rss"}))
    got = get(client, http_server.url("/old.rss"))
    assert got.status == 200
    assert got.url == got.moved_to == http_server.url("/feeds/full.rss")


def test_a_temporary_redirect_keeps_the_old_url(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    http_server.route("/a", Reply(status=301, headers={"Location": "/b"}))
    http_server.route("/b", Reply(status=302, headers={"Location": "/feeds/full.rss"}))
    got = get(client, http_server.url("/a"))
    assert got.url == http_server.url("/feeds/full.rss")
    assert got.moved_to == http_server.url("/b")  # only the permanent part of the chain


def test_redirects_are_limited_and_must_stay_http(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    http_server.route("/loop", Reply(status=302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match=r"too many redirects \(more than 3\): feed 'test'"):
        get(client, http_server.url("/loop"))
    http_server.route("/file", Reply(status=301, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match="refused file URL 'file:///etc/passwd'"):
        get(client, http_server.url("/file"))
    with pytest.raises(FetchError, match="refused ftp URL"):
        get(client, "ftp://127.0.0.1/feed.rss")


def test_410_is_gone(http_server: LoopbackServer, client: httpx.Client) -> None:
    url = http_server.route("/gone.rss", Reply(status=410))
    with pytest.raises(GoneError) as info:
        get(client, url)
    assert str(info.value) == "gone (HTTP 410 Gone), source disabled: feed 'test'"


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_carry_retry_after(
    http_server: LoopbackServer, client: httpx.Client, status: int
) -> None:
    url = http_server.route("/busy.rss", Reply(status=status, headers={"Retry-After": "120"}))
    with pytest.raises(RetryLaterError, match="retry after 120 s") as info:
        get(client, url)
    assert info.value.retry_after_seconds == 120.0


def test_other_errors_name_the_status(http_server: LoopbackServer, client: httpx.Client) -> None:
    url = http_server.route("/broken.rss", Reply(status=500, body=b"oops"))
    with pytest.raises(FetchError) as info:
        get(client, url)
    assert str(info.value) == "HTTP 500 Internal Server Error: feed 'test'"
    with pytest.raises(FetchError, match="HTTP 404 Not Found"):
        get(client, http_server.url("/feeds/no-such-feed.rss"))


def test_a_server_that_never_answers_times_out(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    url = http_server.route("/slow.rss", Reply(hang_seconds=10, file="feeds/full.rss"))
    with pytest.raises(FetchError) as info:
        get(client, url)
    assert str(info.value).startswith("timed out: feed 'test': ReadTimeout")


def test_a_body_past_the_size_cap_is_refused(
    http_server: LoopbackServer, client: httpx.Client
) -> None:
    big = b"<rss>" + b"x" * 300_000 + b"</rss>"
    declared = http_server.route("/big.rss", Reply(body=big))
    undeclared = http_server.route("/stream.rss", Reply(body=big, no_length=True))
    with pytest.raises(FetchError, match=r"response too large \(300011 bytes, limit 200000\)"):
        get(client, declared)
    with pytest.raises(FetchError, match=r"response too large \(over the 200000 byte limit\)"):
        get(client, undeclared)


def test_a_closed_port_is_one_line_naming_the_source(client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(FetchError) as info:
        get(client, f"http://127.0.0.1:{port}/feed.rss")
    text = str(info.value)
    assert text.startswith("fetch failed: feed 'test': ConnectError")
    assert "\n" not in text


def test_private_addresses_are_refused_when_the_switch_is_off(
    http_server: LoopbackServer,
) -> None:
    closed = FetchSettings(**{**_fields(FAST), "allow_private_addresses": False})
    with make_client(closed) as guarded:
        for host in ("127.0.0.1", "localhost"):
            url = f"http://{host}:{http_server.port}/feeds/full.rss"
            with pytest.raises(FetchError, match=r"refused: .* non-public address"):
                fetch(guarded, url, None, settings=closed, subject="feed 'inside'")
    assert http_server.log == []  # not a single request reached the server


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address to refuse, not one to bind
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ],
)
def test_address_guard(address: str, allowed: bool) -> None:
    assert address_allowed(address) is allowed


@pytest.mark.parametrize(
    ("value", "date", "seconds"),
    [
        ("120", None, 120.0),
        (" 5 ", None, 5.0),
        ("Mon, 02 Mar 2026 06:02:00 GMT", "Mon, 02 Mar 2026 06:00:00 GMT", 120.0),
        ("Mon, 02 Mar 2026 05:00:00 GMT", "Mon, 02 Mar 2026 06:00:00 GMT", 0.0),
        ("Mon, 02 Mar 2026 06:02:00 GMT", None, None),
        ("soon", None, None),
        (None, None, None),
    ],
)
def test_retry_after(value: str | None, date: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, date) == seconds


def test_unexpected_library_errors_become_one_source_error() -> None:
    expected = "unexpected error while fetching: feed 'x': KeyError"
    with pytest.raises(FetchError, match=expected), wrap_errors("feed 'x'"):
        raise KeyError("odd")


def test_the_host_limiter_counts_per_host() -> None:
    limiter = HostLimiter(1)
    with limiter.slot("http://a.example/1"), limiter.slot("http://b.example/2"):
        assert limiter._slots["a.example"]._value == 0  # type: ignore[attr-defined]
        assert limiter._slots["b.example"]._value == 0  # type: ignore[attr-defined]
    assert limiter._slots["a.example"]._value == 1  # type: ignore[attr-defined]
