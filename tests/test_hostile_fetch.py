"""Hostile servers on 127.0.0.1: a slow drip of headers or body ends at the total deadline,
entity declarations hidden in EBCDIC or UTF-7 are refused, compression bombs are refused
without inflating them whole, and a page too large or too slow to extract is skipped. Each
costs its own source one line; the run goes on with the others."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from digest.config import Settings
from digest.config_sources import FetchSettings
from digest.errors import FetchError
from digest.models import SourceSpec
from digest.sources.http import fetch, make_client
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
    assert held < 1.6  # the deadline, not the drip's 8 s


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
