"""Feeds as they really are (#14): escaped plain text, aggregator descriptions, ``<source>``
outlets, undeclared legacy encodings, mojibake, outlet names that are not names, undated
pages, table bodies and headline-only threads; whole runs over the loopback server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import pytest

from digest.config import Settings
from digest.models import Fetched, RawItem, SourceSpec, Validators
from digest.normalize import normalize, repair_mojibake
from digest.pipeline import RunOptions, run_once
from digest.sources.encoding import undeclared_to_utf8
from digest.sources.feeds import html_paragraphs, parse_feed
from digest.sources.outlets import outlet_name
from digest.sources.pages import PageDoc, extract, page_item
from digest.store import Store
from tests.conftest import NOW, REPO
from tests.httpserver import LoopbackServer, Reply

DAY = date(2026, 3, 2)
SettingsFactory = Callable[..., Settings]
SITE = REPO / "tests" / "data" / "site"
FAST = (
    "fetch.allow_private_addresses=true",
    "fetch.connect_timeout_seconds=0.5",
    "fetch.read_timeout_seconds=0.5",
    "fetch.total_timeout_seconds=3.0",
    "fetch.extract_teasers=false",
)


def run_feeds(make_settings: SettingsFactory, *specs: SourceSpec) -> tuple[Settings, str, dict]:
    settings = replace(make_settings(*FAST), sources=specs)
    with Store(settings.store.path) as store:
        run_once(settings, now=NOW, store=store, options=RunOptions(day=DAY))
    folder = settings.output.dir / DAY.isoformat()
    md = (folder / "briefing.md").read_text(encoding="utf-8")
    return settings, md, json.loads((folder / "briefing.json").read_text(encoding="utf-8"))


def feed(name: str, url: str) -> SourceSpec:
    return SourceSpec(name=name, kind="feed", location=url)


# ── plain text, aggregators, <source> ────────────────────────────────────────────────────


def test_plain_text_descriptions_lose_their_character_references() -> None:
    assert html_paragraphs("S&amp;P 500 and AT&amp;T &#8212; up") == ["S&P 500 and AT&T — up"]
    assert html_paragraphs("One.\n\nTwo &lt;b&gt;") == ["One.", "Two <b>"]


def test_an_aggregator_feed_gives_headline_lines_attributed_to_each_source(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    url = http_server.url("/feeds/aggregator.rss")
    _, md, doc = run_feeds(make_settings, feed("newsloom", url))
    threads = {t["headline"]: t for t in doc["threads"]}
    bank = threads["Calderra central bank holds rates at 3.5%"]
    assert bank["outlets"] == ["Meridian Wire"]  # the item's <source>, not the aggregator
    assert [(s["text"], s["outlets"]) for s in bank["summary"]] == [
        ("Calderra central bank holds rates at 3.5%", ["Meridian Wire"])
    ]
    border = threads["Ostrevia border crossing reopens after floods"]
    assert border["summary"][0]["outlets"] == ["The Estuary Herald"]
    assert "Valmora Post" not in json.dumps(border)  # the listing of related links is no text
    assert "Meridian Wire Meridian Wire" not in md
    assert "S&P" in md
    assert "&amp;" not in md
    assert "AT&T's Calderran unit" in json.dumps(doc, ensure_ascii=False)


def test_a_copyright_line_or_a_platform_word_is_not_an_outlet() -> None:
    assert outlet_name("Copyright 2026 Northfold Ledger") is None
    assert outlet_name("© Marrowby Almanac Ltd") is None
    assert outlet_name("Hosted") is None
    assert outlet_name("Nj") is None
    assert outlet_name("https://courier.example/") is None
    assert outlet_name("AP") == "AP"
    assert outlet_name(" The Courier | ") == "The Courier"


# ── encodings and mojibake ───────────────────────────────────────────────────────────────

LEGACY = {
    "koi8r.rss": "Городской совет утвердил бюджет на следующий год",
    "shiftjis.rss": "市議会が来年度予算案を可決",
    "euckr.rss": "시의회, 내년도 예산안 통과",
    "cp1255.rss": "מועצת העיר אישרה את התקציב לשנה הבאה",
}


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_an_undeclared_legacy_encoding_is_detected(
    name: str, http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    url = http_server.route(
        f"/{name}", Reply(file=f"feeds/{name}", headers={"Content-Type": "application/rss+xml"})
    )
    _, md, _ = run_feeds(make_settings, feed("legacy", url))
    assert LEGACY[name] in md


def test_undeclared_western_text_keeps_feedparsers_windows_1252_reading() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Bulletin</title>'
        "<item><title>Café owners welcome the façade rules – “at last”</title>"
        "<link>http://x.test/1</link><description>Zoë Brontë’s café reopens.</description>"
        "</item></channel></rss>"
    ).encode("windows-1252")
    assert undeclared_to_utf8(body, "application/rss+xml") is None
    fetched = Fetched(
        url="http://x.test/feed",
        status=200,
        headers=(("content-type", "application/rss+xml"),),
        body=body,
        validators=Validators(),
    )
    spec = SourceSpec(name="b", kind="feed", location=fetched.url)
    (item,) = parse_feed(spec, fetched, now=NOW, subject="t")
    assert item.title == "Café owners welcome the façade rules – “at last”"


def test_a_declared_charset_is_trusted() -> None:
    body = "<?xml version='1.0' encoding='koi8-r'?><rss/>".encode("koi8-r") + "Жж".encode("koi8-r")
    assert undeclared_to_utf8(body, None) is None


def raw(title: str, text: str, published: datetime | None = NOW) -> RawItem:
    return RawItem(
        source="s",
        outlet="Courier",
        origin="o",
        url=None,
        title=title,
        text=text,
        published=published,
        fetched_at=NOW,
    )


def test_a_feed_with_mojibake_reads_clean_in_the_briefing(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    _, md, doc = run_feeds(make_settings, feed("packet", http_server.url("/feeds/mojibake.rss")))
    assert "Ferry crews can’t agree on night rotas" in md
    assert "The union said “we won’t sail” until the operator’s new rota is withdrawn" in md
    assert "â€" not in json.dumps(doc, ensure_ascii=False)


def test_mojibake_in_a_source_is_repaired_and_clean_text_is_left_alone() -> None:
    article = normalize(raw("Port canâ€™t reopen", "The mayor said â€œnot yetâ€\x9d on Monday."))
    assert article.title == "Port can’t reopen"
    assert article.text == "The mayor said “not yet” on Monday."
    clean = "Zoë Brontë said “it’s fine” – and «voilà» for 5 €; 市議会は可決した。"
    assert repair_mojibake(clean) == clean


# ── undated pages, tables ────────────────────────────────────────────────────────────────


def test_an_undated_item_says_time_unknown_in_every_output(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Marrowby Almanac</title>'
        b"<item><title>Spring tides to flood the Marrowby quay road</title>"
        b"<link>http://almanac.test/tides</link><description>The harbour office expects the"
        b" highest spring tides of the year on Thursday, and the quay road will close for two"
        b" hours around each high water. Boat owners should check their lines.</description>"
        b"</item></channel></rss>"
    )
    url = http_server.route("/undated.rss", Reply(body=body))
    settings, md, doc = run_feeds(make_settings, feed("almanac", url))
    (thread,) = doc["threads"]
    assert thread["articles"][0]["published"] is None
    assert "· time unknown" in md
    html = (settings.output.dir / DAY.isoformat() / "index.html").read_text(encoding="utf-8")
    assert "time unknown" in html
    with Store(settings.store.path) as store:
        (article,) = store.articles([thread["articles"][0]["id"]]).values()
    assert article.dated is False
    assert article.published == NOW  # ordered by the time it was fetched


def test_a_page_without_a_date_is_undated() -> None:
    url = "http://almanac.test/tides"
    body = SITE.joinpath("almanac/tide-table.html").read_bytes()
    found = extract(PageDoc(url=url, body=body))
    assert found is not None
    fetched = Fetched(url=url, status=200, headers=(), body=body, validators=Validators())
    spec = SourceSpec(name="almanac", kind="page", location=url)
    article = normalize(page_item(spec, fetched, found, now=NOW, subject="t"))
    assert not article.dated
    assert article.outlet == "almanac.test"  # og:site_name is a copyright line


def test_a_body_laid_out_in_a_table_is_found_without_the_navigation() -> None:
    body = SITE.joinpath("almanac/tide-table.html").read_bytes()
    found = extract(PageDoc(url="http://almanac.test/tides", body=body))
    assert found is not None
    assert found.text.startswith("The harbour office expects the highest spring tides")
    assert "Home" not in found.text
    assert found.sitename is None


def test_a_results_table_keeps_its_rows() -> None:
    body = SITE.joinpath("almanac/regatta.html").read_bytes()
    found = extract(PageDoc(url="http://almanac.test/regatta", body=body))
    assert found is not None
    rows = found.text.split("\n\n")
    assert rows[0] == "Place | Crew | Time"
    assert "1 | Fenmouth Rowing Club, winners for the third year running | 7:41" in rows
    assert len(rows) == 7
    assert found.sitename is None  # "Nj" is a fragment, not a name
