"""Hostile servers on 127.0.0.1: a slow drip of headers or body ends at the total deadline,
entity declarations hidden in EBCDIC or UTF-7 are refused, compression bombs are refused
without inflating them whole, and a page too large or too slow to extract is skipped. Each
costs its own source one line; the run goes on with the others."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable
from dataclasses import replace

import pytest

from digest.config import Settings
from digest.config_sources import FetchSettings
from digest.errors import FetchError
from digest.models import SourceSpec
from digest.sources.http import decoded, fetch, make_client
from tests.conftest import REPO
from tests.httpserver import DripServer, LoopbackServer, Reply
from tests.test_live_run import by_name, configure, run

DEADLINE = FetchSettings(
    allow_private_addresses=True,
    connect_timeout_seconds=0.5,
    read_timeout_seconds=0.5,  # longer than the drip interval: only the total deadline ends it
    total_timeout_seconds=1.0,
)
SettingsFactory = Callable[..., Settings]


def get(url: str, settings: FetchSettings = DEADLINE) -> object:
    with make_client(settings) as client:
        return fetch(client, url, None, settings=settings, subject=f"feed 'slow' ({url})")


# ── 2. the total deadline holds for headers and body ────────────────────────────────────


@pytest.mark.parametrize("path", ["/headers", "/body"])
def test_a_dripping_server_is_cut_off_at_the_total_deadline(
    path: str, drip_server: DripServer
) -> None:
    url = drip_server.url(path)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        get(url)
    held = time.monotonic() - started
    assert str(caught.value) == f"took longer than 1 s: feed 'slow' ({url})"
    assert held < 3  # the deadline (1 s), not the drip's 8 s


def test_the_deadline_covers_redirects_and_a_fresh_request_gets_its_own(
    drip_server: DripServer, http_server: LoopbackServer
) -> None:
    hop = http_server.route(
        "/hop", Reply(status=302, headers={"Location": drip_server.url("/body")})
    )
    with pytest.raises(FetchError, match="took longer than 1 s"):
        get(hop)
    fine = get(http_server.url("/feeds/full.rss"))  # the same thread, a new deadline
    assert fine.status == 200  # type: ignore[attr-defined]


def test_a_slow_feed_costs_one_line_and_the_run_goes_on(
    drip_server: DripServer, http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    slow = drip_server.url("/headers")
    settings = configure(
        make_settings,
        SourceSpec(name="courier", kind="feed", location=http_server.url("/feeds/full.rss")),
        SourceSpec(name="slow", kind="feed", location=slow),
        extra=("fetch.total_timeout_seconds=1.0",),
    )
    started = time.monotonic()
    report = run(settings)
    assert time.monotonic() - started < 5
    assert by_name(report, "slow").error == f"took longer than 1 s: feed 'slow' ({slow})"
    assert by_name(report, "courier").status == "new"
    assert report.outputs


def test_a_server_that_sends_nothing_still_times_out_on_the_read_timeout(
    http_server: LoopbackServer,
) -> None:
    url = http_server.route("/silent", Reply(hang_seconds=3))
    settings = replace(DEADLINE, read_timeout_seconds=0.2, total_timeout_seconds=2.0)
    with pytest.raises(FetchError, match=r"^timed out"):
        get(url, settings)


# ── 7a. entity declarations in an encoding that is not ASCII-compatible ─────────────────

LAUGHS = "".join(
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "lol"}">' for n in range(1, 10)
)


def laughs(encoding: str) -> bytes:
    """A billion-laughs feed declared (and written) in ``encoding``; in UTF-7 its ``<!`` are
    base64-shifted, so no ``<!ENTITY`` byte string is left."""
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    rest = (
        f"<!DOCTYPE rss [{LAUGHS}]>\n"
        '<rss version="2.0"><channel><title>Laughs</title><link>http://a.example/</link>'
        "<item><title>Laughs &lol9;</title><link>http://a.example/1</link>"
        "<description>Ha &lol9; ha</description></item></channel></rss>"
    )
    if encoding == "utf-7":
        return head.encode() + rest.encode("utf-7").replace(b"<!", b"+ADwAIQ-")
    return (head + rest).encode(encoding)


def test_entities_declared_in_ebcdic_or_utf7_are_refused_and_the_run_goes_on(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    encodings = ("cp037", "cp500", "utf-7")
    xml = {"Content-Type": "application/rss+xml"}
    urls = {
        e: http_server.route(f"/{e}.rss", Reply(body=laughs(e), headers=xml)) for e in encodings
    }
    charset = {"Content-Type": "application/rss+xml; charset=cp500"}  # the header names it
    urls["header"] = http_server.route("/header.rss", Reply(body=laughs("cp500"), headers=charset))
    courier = SourceSpec(name="courier", kind="feed", location=http_server.url("/feeds/full.rss"))
    specs = [SourceSpec(name=name, kind="feed", location=url) for name, url in urls.items()]
    settings = configure(make_settings, courier, *specs)
    report = run(settings)
    for name, url in urls.items():
        error = by_name(report, name).error
        assert error == (
            f"refused: the document declares XML entities (<!ENTITY>): feed '{name}' ({url})"
        )
    assert by_name(report, "courier").status == "new"
    published = (settings.output.dir / "2026-03-02" / "briefing.md").read_text(encoding="utf-8")
    assert "Laughs" not in published
    assert "lol" not in published


# ── 7b. compression bombs: refused, and never inflated a network chunk at a time ─────────


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def deflated(data: bytes, *, raw: bool = False) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ZEROS = b"\0" * 20_000_000  # 20 MB that pack into about 20 KB


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzipped(ZEROS)),
        ("deflate", deflated(ZEROS)),
        ("deflate", deflated(ZEROS, raw=True)),
        ("gzip, gzip", gzipped(gzipped(ZEROS))),
    ],
)
def test_a_compression_bomb_is_refused_in_one_line_and_the_run_goes_on(
    coding: str, body: bytes, http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    headers = {"Content-Type": "application/rss+xml", "Content-Encoding": coding}
    bomb = http_server.route("/bomb.rss", Reply(body=body, headers=headers))
    courier = SourceSpec(name="courier", kind="feed", location=http_server.url("/feeds/full.rss"))
    settings = configure(
        make_settings, courier, SourceSpec(name="bomb", kind="feed", location=bomb)
    )
    report = run(settings)
    assert by_name(report, "bomb").error == (
        f"response too large (over the 100000 byte limit): feed 'bomb' ({bomb})"
    )
    assert by_name(report, "courier").status == "new"
    assert report.outputs


def test_inflating_never_makes_more_than_64_kib_at_a_time() -> None:
    pieces = decoded([gzipped(ZEROS)], ["gzip"], "t")
    first = next(pieces)
    assert 0 < len(first) <= 65536  # not the 20 MB that one network chunk holds
    assert sum(map(len, pieces)) + len(first) == len(ZEROS)


@pytest.mark.parametrize(
    ("coding", "packed"),
    [
        ("gzip", gzipped),
        ("deflate", deflated),
        ("deflate", lambda data: deflated(data, raw=True)),
        ("gzip, deflate", lambda data: deflated(gzipped(data))),
        ("identity", bytes),
        ("none", bytes),  # not a coding: passed over, as httpx does
    ],
)
def test_compressed_feeds_are_read_as_before(
    coding: str, packed: Callable[[bytes], bytes], http_server: LoopbackServer
) -> None:
    plain = (REPO / "tests" / "data" / "feeds" / "full.rss").read_bytes()
    headers = {"Content-Type": "application/rss+xml", "Content-Encoding": coding}
    url = http_server.route("/packed.rss", Reply(body=packed(plain), headers=headers))
    got = get(url)
    assert got.body == plain  # type: ignore[attr-defined]
    assert http_server.hits("/packed.rss")[0].headers["accept-encoding"] == "gzip, deflate"


def test_a_broken_or_unknown_coding_is_one_line(http_server: LoopbackServer) -> None:
    bad = http_server.route(
        "/bad.rss", Reply(body=b"not gzip", headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(FetchError, match=r"^could not decompress the gzip body: feed 'slow'"):
        get(bad)
    odd = http_server.route("/br.rss", Reply(body=b"x", headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchError, match=r"^unsupported content encoding 'br': feed 'slow'"):
        get(odd)


# ── 7c. extraction: a size cap and a deadline per page ──────────────────────────────────


def slow_page(megabytes: float) -> bytes:
    """Flat HTML that keeps trafilatura busy for seconds (about 1 s per MB)."""
    line = ("Harbour council ferry island bridge market school library storm tide. " * 6).strip()
    body = f"<div>{line}</div>\n" * int(megabytes * 1_000_000 / (len(line) + 12))
    return f"<html><head><title>Flat</title></head><body>{body}</body></html>".encode()


def test_a_page_larger_than_extract_max_bytes_is_skipped_in_one_line(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    url = http_server.url("/site/council/budget.html")
    size = len((REPO / "tests" / "data" / "site" / "council" / "budget.html").read_bytes())
    settings = configure(
        make_settings,
        SourceSpec(name="courier", kind="feed", location=http_server.url("/feeds/full.rss")),
        SourceSpec(name="council", kind="page", location=url),
        extra=("fetch.extract_max_bytes=2000",),
    )
    report = run(settings)
    assert by_name(report, "council").error == (
        f"page too large to extract ({size} bytes, limit 2000): page 'council' ({url})"
    )
    assert by_name(report, "courier").status == "new"
    assert report.outputs


def test_a_page_slower_than_the_extraction_deadline_is_stopped_and_the_rest_go_on(
    http_server: LoopbackServer, make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    slow = http_server.route("/slow.html", Reply(body=slow_page(4), headers=html))
    teaser = http_server.route(
        "/site/ledger/harbour-dredging.html", Reply(body=slow_page(4), headers=html)
    )
    settings = configure(
        make_settings,
        SourceSpec(name="ledger", kind="feed", location=http_server.url("/feeds/teasers.rss")),
        SourceSpec(name="slow", kind="page", location=slow),
        SourceSpec(
            name="council", kind="page", location=http_server.url("/site/council/budget.html")
        ),
        extra=(
            "fetch.max_bytes=10000000",
            "fetch.extract_max_bytes=10000000",
            "fetch.extract_timeout_seconds=0.5",
        ),
    )
    report = run(settings)
    assert by_name(report, "slow").error == (
        f"extraction took longer than 0.5 s: page 'slow' ({slow})"
    )
    assert by_name(report, "council").new == 1  # extracted after the slow page was stopped
    assert by_name(report, "ledger").status == "new"  # the teaser kept its feed text
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"extraction took longer than 0.5 s: page {teaser}" in warnings
