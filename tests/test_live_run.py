"""Whole runs over live sources on a real loopback server: one broken source never stops the
briefing, is reported in one line, and costs nothing that was stored before."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from digest.config import Settings
from digest.models import RunReport, SourceSpec, SourceStatus
from digest.pipeline import RunOptions, run_once
from digest.store import Store
from tests.conftest import NOW, REPO
from tests.httpserver import LoopbackServer, Reply

DAY = date(2026, 3, 2)
FAST = (
    "fetch.allow_private_addresses=true",
    "fetch.connect_timeout_seconds=0.5",
    "fetch.read_timeout_seconds=0.5",
    "fetch.total_timeout_seconds=3.0",
    "fetch.max_bytes=100000",
    "fetch.backoff_base_seconds=1800",
)
SettingsFactory = Callable[..., Settings]


def feed(name: str, url: str) -> SourceSpec:
    return SourceSpec(name=name, kind="feed", location=url)


def configure(make_settings: SettingsFactory, *specs: SourceSpec, extra: tuple[str, ...] = ()):
    return replace(make_settings(*FAST, *extra), sources=specs)


def run(settings: Settings, now: datetime = NOW, day: date = DAY) -> RunReport:
    with Store(settings.store.path) as store:
        return run_once(settings, now=now, store=store, options=RunOptions(day=day))


def by_name(report: RunReport, name: str) -> SourceStatus:
    return next(s for s in report.sources if s.name == name)


def briefing_md(settings: Settings, day: date = DAY) -> str:
    return (settings.output.dir / day.isoformat() / "briefing.md").read_text(encoding="utf-8")


def stored_titles(settings: Settings) -> set[str]:
    with Store(settings.store.path) as store:
        return {t for (t,) in store.db.execute("SELECT title FROM articles")}


BIG = b'<?xml version="1.0"?><rss version="2.0"><channel>' + b" " * 200_000 + b"</channel></rss>"
BROKEN = {
    "http-500": (Reply(status=500), "HTTP 500 Internal Server Error"),
    "gone-410": (Reply(status=410), "gone (HTTP 410 Gone), source disabled"),
    "rate-limited-429": (
        Reply(status=429, headers={"Retry-After": "120"}),
        "HTTP 429 Too Many Requests, retry after 120 s",
    ),
    "never-answers": (Reply(hang_seconds=5), "timed out"),
    "too-large": (Reply(body=BIG), "response too large (200065 bytes, limit 100000)"),
    "entity-bomb": (Reply(file="feeds/bomb.xml"), "declares XML entities"),
    "malformed": (Reply(file="feeds/broken.xml"), "malformed feed with no entries"),
    "not-a-feed": (Reply(file="site/council/budget.html"), "not an RSS or Atom feed"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_source_is_reported_and_loses_nothing(
    case: str, http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    breakage, reason = BROKEN[case]
    flaky = http_server.route("/flaky.atom", Reply(file="feeds/gazette.atom"), breakage)
    settings = configure(
        make_settings,
        feed("courier", http_server.url("/feeds/full.rss")),
        feed("gazette", flaky),
    )
    first = run(settings)
    assert by_name(first, "gazette").status == "new"
    before = stored_titles(settings)
    assert "Hollin school wins regional robotics prize" in before

    second = run(settings, now=NOW + timedelta(hours=1))
    broken = by_name(second, "gazette")
    assert broken.status == "error"
    assert broken.error is not None
    assert reason in broken.error
    assert f"feed 'gazette' ({flaky})" in broken.error
    assert "\n" not in broken.error
    assert broken.failures == 1
    assert broken.last_success == NOW
    assert by_name(second, "courier").status == "not modified"
    assert second.outputs  # the briefing is still published
    md = briefing_md(settings)
    assert "**1 source could not be read today:** gazette." in md
    assert reason not in md  # the error is for the operator (digest sources, status, log)
    assert "Fenmouth ferry crews vote to strike" in md
    assert "Valley rail line reopens" in md  # stored articles stay in the day's briefing
    assert stored_titles(settings) == before
    with Store(settings.store.path) as store:
        state = store.source_states()["gazette"]
    assert state.etag is not None  # the validators of the last good fetch are kept
    assert state.last_success == NOW


def test_500_backs_off_then_recovers(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    url = http_server.route("/feed.rss", Reply(status=500), Reply(file="feeds/full.rss"))
    settings = configure(make_settings, feed("courier", url))
    first = run(settings)
    assert by_name(first, "courier").error == (
        f"HTTP 500 Internal Server Error: feed 'courier' ({url})"
    )
    assert not first.outputs  # nothing to publish, and nothing crashed
    with Store(settings.store.path) as store:
        state = store.source_states()["courier"]
    assert state.backoff_until == NOW + timedelta(seconds=1800)

    waiting = run(settings, now=NOW + timedelta(minutes=10))
    assert by_name(waiting, "courier").error == (
        f"backing off until 2026-03-02 22:30 UTC after 1 failed run: feed 'courier' ({url})"
    )
    assert len(http_server.hits("/feed.rss")) == 1  # no request while backing off

    later = NOW + timedelta(minutes=31)
    recovered = run(settings, now=later)
    assert by_name(recovered, "courier").status == "new"
    assert by_name(recovered, "courier").new == 3
    with Store(settings.store.path) as store:
        state = store.source_states()["courier"]
    assert (state.failures, state.backoff_until, state.last_error) == (0, None, None)
    assert state.last_success == later
    assert recovered.outputs


def test_etag_makes_the_second_run_a_304(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    settings = configure(make_settings, feed("courier", http_server.url("/feeds/full.rss")))
    run(settings)
    again = run(settings, now=NOW + timedelta(hours=1))
    assert by_name(again, "courier").status == "not modified"
    first, second = http_server.hits("/feeds/full.rss")
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"].startswith('"')
    assert again.new_articles == 0


def test_301_updates_the_stored_url(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    old = http_server.route("/old.rss", Reply(status=301, headers={"Location": "/feeds/full.rss"}))
    settings = configure(make_settings, feed("courier", old))
    run(settings)
    with Store(settings.store.path) as store:
        state = store.source_states()["courier"]
    assert state.url == http_server.url("/feeds/full.rss")
    assert state.configured_url == old
    run(settings, now=NOW + timedelta(hours=1))
    assert len(http_server.hits("/old.rss")) == 1
    assert len(http_server.hits("/feeds/full.rss")) == 2


def test_410_disables_with_a_warning_until_reset(
    http_server: LoopbackServer,
    make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = http_server.route("/gone.rss", Reply(status=410), Reply(file="feeds/full.rss"))
    settings = configure(make_settings, feed("courier", url))
    with caplog.at_level(logging.WARNING):
        run(settings)
    assert f"gone (HTTP 410 Gone), source disabled: feed 'courier' ({url})" in caplog.text
    skipped = run(settings, now=NOW + timedelta(days=30), day=date(2026, 4, 1))
    assert "disabled since 2026-03-02 22:00 UTC" in (by_name(skipped, "courier").error or "")
    assert len(http_server.hits("/gone.rss")) == 1
    with Store(settings.store.path) as store:
        assert store.reset_source("courier")
    back = run(settings, now=NOW + timedelta(days=31), day=date(2026, 4, 2))
    assert by_name(back, "courier").status == "new"


def test_429_waits_for_retry_after(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    url = http_server.route(
        "/busy.rss", Reply(status=429, headers={"Retry-After": "120"}), Reply(file="feeds/full.rss")
    )
    settings = configure(make_settings, feed("courier", url))
    run(settings)
    run(settings, now=NOW + timedelta(seconds=60))
    assert len(http_server.hits("/busy.rss")) == 1
    later = run(settings, now=NOW + timedelta(seconds=121))
    assert by_name(later, "courier").status == "new"


def test_a_latin1_feed_and_a_malformed_feed_with_entries_are_read(
    http_server: LoopbackServer, make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    latin = http_server.route(
        "/latin1.rss",
        Reply(
            file="feeds/latin1.rss",
            headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"},
        ),
    )
    settings = configure(
        make_settings,
        feed("crieur", latin),
        feed("bulletin", http_server.url("/feeds/cp1252.rss")),
        feed("weekly", http_server.url("/feeds/malformed.rss")),
    )
    with caplog.at_level(logging.WARNING):
        report = run(settings)
    assert {s.name: s.status for s in report.sources} == {
        "crieur": "new",
        "bulletin": "new",
        "weekly": "new",
    }
    assert "feed 'weekly'" in caplog.text
    assert "malformed feed, using its 2 entries" in caplog.text
    md = briefing_md(settings)
    assert "Fête du port: the café terrace reopens" in md
    assert "“Fair price” fish market opens — stalls from €12 a day" in md


def test_teasers_and_pages_reach_the_briefing(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    settings = configure(
        make_settings,
        feed("ledger", http_server.url("/feeds/teasers.rss")),
        SourceSpec(
            name="council", kind="page", location=http_server.url("/site/council/budget.html")
        ),
    )
    report = run(settings)
    assert by_name(report, "council").new == 1
    doc = json.loads(
        (settings.output.dir / DAY.isoformat() / "briefing.json").read_text(encoding="utf-8")
    )
    text = json.dumps(doc, ensure_ascii=False)
    assert "Marrowby Council News" in text
    assert "Northfold Ledger" in text
    assert "COMMENT FROM" not in text
    assert "ADVERT" not in text
    pages = len([s for s in http_server.log if s.path.startswith("/site/ledger/")])
    run(settings, now=NOW + timedelta(hours=1))  # the feed is a 304: no teaser page again
    assert len([s for s in http_server.log if s.path.startswith("/site/ledger/")]) == pages


def test_a_private_address_is_refused_when_the_switch_is_off(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    dumps = SourceSpec(
        name="dumps",
        kind="dump",
        location=str(REPO / "tests" / "data" / "dumps" / "articles.jsonl"),
    )
    settings = configure(
        make_settings,
        feed("inside", http_server.url("/feeds/full.rss")),
        dumps,
        extra=("fetch.allow_private_addresses=false",),
    )
    report = run(settings)
    error = by_name(report, "inside").error or ""
    assert error.startswith("refused: 127.0.0.1 resolves to a non-public address (127.0.0.1)")
    assert http_server.log == []
    assert report.outputs  # the healthy dump still makes a briefing
    md = briefing_md(settings)
    assert "**1 source could not be read today:** inside." in md
    assert "127.0.0.1" not in md


def test_a_quiet_feed_is_listed_in_the_briefing(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    settings = configure(make_settings, feed("courier", http_server.url("/feeds/full.rss")))
    run(settings)
    later = NOW + timedelta(days=8)
    dumps = SourceSpec(
        name="dumps",
        kind="dump",
        location=str(REPO / "tests" / "data" / "dumps" / "articles.jsonl"),
    )
    settings = replace(settings, sources=(*settings.sources, dumps))
    report = run(settings, now=later, day=later.date())
    courier = by_name(report, "courier")
    assert courier.status == "not modified"
    assert courier.quiet_since == NOW
    assert "Nothing new lately from courier (since 2 Mar, 22:00)." in briefing_md(
        settings, later.date()
    )
