"""Pages: extraction keeps the article and drops navigation, ads and comments; teasers are
completed from their linked page, over a real loopback server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from digest.config_sources import FetchSettings
from digest.errors import ParseError
from digest.models import RawItem, SourceOk, SourceSpec
from digest.sources.live import ingest_live, with_article
from digest.sources.pages import Extracted, PageDoc, extract, extract_many
from tests.conftest import NOW, REPO
from tests.httpserver import LoopbackServer

SITE = REPO / "tests" / "data" / "site"
SETTINGS = FetchSettings(
    allow_private_addresses=True,
    connect_timeout_seconds=1.0,
    read_timeout_seconds=1.0,
    total_timeout_seconds=5.0,
)
NAV_ADS_COMMENTS = ("ADVERT", "SPONSORED", "COMMENT FROM", "Bin collection", "Cookie", "©")

PAGES = {
    "ledger/ferry-fares.html": (
        ["Fenmouth Crossings will raise single ferry fares", "honoured until the end of June"],
        [*NAV_ADS_COMMENTS, "Harbour desk", "Share this story", "Pier lights", "GRUMPYGULL"],
    ),
    "ledger/harbour-dredging.html": (
        ["The silted channel at the mouth of Marrowby harbour", "Colm Ardle"],
        [*NAV_ADS_COMMENTS, "Jobs board", "Most read", "Gull numbers", "SANDBANKSAM"],
    ),
    "council/budget.html": (
        ["approved its budget for the coming year", "puts the money where the letters are"],
        [*NAV_ADS_COMMENTS, "Planning applications", "Have your say", "POTHOLEPETE"],
    ),
    "council/roads.html": (
        ["coast road between Marrowby and Fenmouth will close", "emergency vehicles"],
        [*NAV_ADS_COMMENTS, "Parking permits", "Cliffside Garage"],
    ),
}


def doc(path: str) -> PageDoc:
    body = (SITE / path).read_bytes()
    return PageDoc(url=f"http://site.test/site/{path}", body=body, charset="utf-8")


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_article_survives_and_page_furniture_does_not(path: str) -> None:
    must, must_not = PAGES[path]
    found = extract(doc(path))
    assert found is not None
    for text in must:
        assert text in found.text, f"{path}: missing {text!r}"
    for text in must_not:
        assert text not in found.text, f"{path}: kept {text!r}"
    assert found.title
    assert found.published is not None


def test_page_metadata_is_extracted() -> None:
    found = extract(doc("ledger/ferry-fares.html"))
    assert found is not None
    assert found.title == "Ferry fares to rise by a fifth in April"
    assert found.sitename == "Northfold Ledger"
    assert found.authors == ("Mara Fenwick",)
    assert found.published == datetime(2026, 3, 2, 6, 10, tzinfo=UTC)


def test_a_page_without_an_article_extracts_nothing() -> None:
    assert extract(doc("ledger/members-only.html")) is None
    assert extract(PageDoc(url="http://x.test/", body=b"\x00\xff binary")) is None


def test_worker_processes_give_the_same_result_as_in_process() -> None:
    docs = [doc(p) for p in sorted(PAGES)] + [doc("ledger/members-only.html")]
    limits = {"timeout_seconds": 60.0, "max_bytes": 10**7}
    pooled = extract_many(docs, workers=2, pool_min=2, **limits)
    assert pooled == extract_many(docs, workers=2, pool_min=100, **limits)
    assert pooled == tuple(extract(d) for d in docs)
    assert pooled[-1] is None
    assert all(pooled[:-1])


def feed_item(text: str) -> RawItem:
    return RawItem(
        source="s",
        outlet="o",
        origin="u",
        url="http://x.test/a",
        title="T",
        text=text,
        published=None,
        fetched_at=NOW,
    )


def test_a_teaser_takes_the_longer_page_text_and_missing_metadata() -> None:
    article = Extracted(
        title="Page title",
        text="A much longer article text with many more words than the teaser had.",
        published=NOW,
        sitename="Site",
        authors=("A. Writer",),
    )
    done = with_article(feed_item("Short teaser…"), article)
    assert done.text == article.text
    assert done.title == "T"  # the feed's title is kept
    assert done.published == NOW
    assert done.authors == ("A. Writer",)
    assert with_article(feed_item("Short teaser…"), None).text == "Short teaser…"
    short = replace(article, text="Tiny.")
    assert with_article(feed_item("Longer feed text here."), short).text == "Longer feed text here."


def test_teasers_are_completed_from_their_pages(http_server: LoopbackServer) -> None:
    spec = SourceSpec(name="ledger", kind="feed", location=http_server.url("/feeds/teasers.rss"))
    result = ingest_live([spec], now=NOW, settings=SETTINGS, states={})["ledger"]
    assert isinstance(result.value, SourceOk)
    fares, dredging, missing, members = result.value.items
    assert "four pounds eighty" in fares.text
    assert "COMMENT FROM" not in fares.text
    assert "forty thousand tonnes" in dredging.text
    assert missing.text.endswith("[...]")  # 404: the feed text is kept
    assert members.text == "Readers write about the ring road plans…"  # no article on the page
    assert fares.outlet == "Northfold Ledger"
    assert result.fetch is not None
    assert result.fetch.validators.etag


def test_known_teasers_are_not_fetched_again_and_pages_are_capped(
    http_server: LoopbackServer,
) -> None:
    spec = SourceSpec(name="ledger", kind="feed", location=http_server.url("/feeds/teasers.rss"))

    def seen(keys):
        return frozenset(k for k in keys if "ferry-fares" in k)

    capped = replace(SETTINGS, max_pages_per_source=1)
    ingest_live([spec], now=NOW, settings=capped, states={}, seen=seen)
    pages = [s.path for s in http_server.log if s.path.startswith("/site/")]
    assert pages == ["/site/ledger/harbour-dredging.html"]


def test_teasers_are_left_alone_when_switched_off(http_server: LoopbackServer) -> None:
    spec = SourceSpec(name="ledger", kind="feed", location=http_server.url("/feeds/teasers.rss"))
    off = replace(SETTINGS, extract_teasers=False)
    result = ingest_live([spec], now=NOW, settings=off, states={})["ledger"]
    assert isinstance(result.value, SourceOk)
    assert [s.path for s in http_server.log] == ["/feeds/teasers.rss"]


def test_page_sources_are_fetched_and_extracted(http_server: LoopbackServer) -> None:
    budget_url = http_server.url("/site/council/budget.html")
    members_url = http_server.url("/site/ledger/members-only.html")
    specs = [
        SourceSpec(name="budget", kind="page", location=budget_url),
        SourceSpec(name="members", kind="page", location=members_url),
    ]
    results = ingest_live(specs, now=NOW, settings=SETTINGS, states={})
    budget = results["budget"].value
    assert isinstance(budget, SourceOk)
    (item,) = budget.items
    assert item.outlet == "Marrowby Council News"
    assert item.title == "Marrowby council sets budget with more money for roads"
    assert item.url == budget_url
    assert "Harriet Moss" in item.text
    members = results["members"].value
    assert isinstance(members, ParseError)
    assert str(members) == f"no article found in the page: page 'members' ({members_url})"
