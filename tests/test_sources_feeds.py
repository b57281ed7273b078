"""Feed parsing on fetched bytes: every fixture in tests/data/feeds against its expected parse.

``X.expected.json`` holds either ``{"content_type", "items": [...]}`` or ``{"error": ...}``
(a substring of the one-line error). ``pytest --update-golden`` rewrites the item lists.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest

from digest.errors import ParseError
from digest.models import Fetched, RawItem, SourceSpec, Validators
from digest.normalize import normalize
from digest.sources.feeds import (
    entry_identity,
    html_paragraphs,
    is_teaser,
    parse_feed,
    reject_entities,
    with_time_limit,
)
from tests.conftest import NOW, REPO

FEEDS = REPO / "tests" / "data" / "feeds"
BASE = "http://feeds.test/feeds/"
FIXTURES = sorted(p for p in FEEDS.iterdir() if not p.name.endswith(".expected.json"))


def fetched(name: str, body: bytes | None = None, content_type: str = "application/rss+xml"):
    return Fetched(
        url=BASE + name,
        status=200,
        headers=(("content-type", content_type),),
        body=FEEDS.joinpath(name).read_bytes() if body is None else body,
        validators=Validators(),
    )


def spec(name: str = "test-feed", outlet: str | None = None) -> SourceSpec:
    return SourceSpec(name=name, kind="feed", location=BASE + name, outlet=outlet)


def as_dict(item: RawItem) -> dict[str, object]:
    return {
        "outlet": item.outlet,
        "title": item.title,
        "url": item.url,
        "guid": item.guid,
        "published": item.published.isoformat() if item.published else None,
        "authors": list(item.authors),
        "text": item.text,
    }


def test_every_feed_fixture_has_an_expected_parse() -> None:
    assert len(FIXTURES) >= 10
    for path in FIXTURES:
        assert path.with_name(path.name + ".expected.json").is_file(), path.name


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_feed_parses_as_expected(path: Path, request: pytest.FixtureRequest) -> None:
    expected_path = path.with_name(path.name + ".expected.json")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    doc = fetched(path.name, content_type=expected.get("content_type", "application/rss+xml"))
    if "error" in expected:
        with pytest.raises(ParseError) as info:
            parse_feed(spec(path.name), doc, now=NOW, subject=f"feed {path.name!r}")
        assert expected["error"] in str(info.value)
        assert path.name in str(info.value)
        assert "\n" not in str(info.value)
        return
    items = [as_dict(i) for i in parse_feed(spec(path.name), doc, now=NOW, subject="t")]
    if request.config.getoption("--update-golden"):
        expected["items"] = items
        text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
        expected_path.write_text(text, encoding="utf-8")
    assert items == expected["items"]


def test_relative_links_resolve_against_the_final_feed_url() -> None:
    items = parse_feed(spec(), fetched("full.rss"), now=NOW, subject="t")
    assert items[0].url == "http://feeds.test/news/2026/03/02/ferry-strike.html?utm_source=rss"


def test_scripts_in_entry_html_never_reach_the_text() -> None:
    items = parse_feed(spec(), fetched("full.rss"), now=NOW, subject="t")
    assert all("alert" not in i.text and "<" not in i.text for i in items)


def test_outlet_is_configured_else_feed_title_else_site_name() -> None:
    configured = parse_feed(spec(outlet="The Courier"), fetched("full.rss"), now=NOW, subject="t")
    titled = parse_feed(spec(), fetched("full.rss"), now=NOW, subject="t")
    untitled = parse_feed(spec(), fetched("identity.rss"), now=NOW, subject="t")
    assert {i.outlet for i in configured} == {"The Courier"}
    assert {i.outlet for i in titled} == {"Marrowby Courier"}
    assert {i.outlet for i in untitled} == {"notices.example"}


def test_a_malformed_feed_with_entries_is_used_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        items = parse_feed(spec(), fetched("malformed.rss"), now=NOW, subject="feed 'weekly'")
    assert len(items) == 2
    assert "feed 'weekly': malformed feed, using its 2 entries" in caplog.text


def test_a_well_formed_empty_feed_gives_no_items() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title></channel></rss>'
    assert parse_feed(spec(), fetched("x.rss", body), now=NOW, subject="t") == ()


def test_an_html_page_is_not_a_feed() -> None:
    body = b"<html><body><p>Hello</p></body></html>"
    with pytest.raises(ParseError, match="feed 'x'"):
        parse_feed(spec(), fetched("x.rss", body), now=NOW, subject="feed 'x'")


def test_entity_declarations_are_refused_in_any_encoding() -> None:
    bomb = FEEDS.joinpath("bomb.xml").read_bytes()
    for body in (bomb, bomb.decode().encode("utf-16"), bomb.decode().encode("utf-32-be")):
        with pytest.raises(ParseError, match="declares XML entities"):
            reject_entities(body, "t")
    reject_entities(b"<!DOCTYPE rss><rss/>", "t")  # a DOCTYPE alone is fine


def test_parsing_has_a_time_limit() -> None:
    with pytest.raises(ParseError, match=r"parsing took longer than 0\.05 s: feed 'slow'"):
        with_time_limit(lambda: time.sleep(1), 0.05, "feed 'slow'")
    assert with_time_limit(lambda: 42, 5, "t") == 42


def test_a_parser_crash_is_a_parse_error_naming_the_feed() -> None:
    def crash() -> None:
        raise RuntimeError("boom")

    with pytest.raises(ParseError, match="the feed parser failed: feed 'x': RuntimeError: boom"):
        with_time_limit(crash, 5, "feed 'x'")


def test_an_edited_entry_keeps_its_identity_and_article_id() -> None:
    body = FEEDS.joinpath("full.rss").read_bytes()
    edited = body.replace(b"walk out for two days", b"walk out for three days")
    first = parse_feed(spec(), fetched("full.rss", body), now=NOW, subject="t")[0]
    second = parse_feed(spec(), fetched("full.rss", edited), now=NOW, subject="t")[0]
    assert first.text != second.text
    assert first.guid == second.guid == "courier-2026-0412"
    assert normalize(first).id == normalize(second).id


def test_identity_falls_back_to_the_link_then_title_and_date() -> None:
    entry: dict[str, object] = {}
    assert entry_identity({"id": " g-1 "}, None, "T", None, "") == "g-1"
    link = "https://a.example/x?utm_source=feed"
    assert entry_identity(entry, link, "T", None, "") == "https://a.example/x"
    dated = entry_identity(entry, None, "T", NOW, "text one")
    assert dated == entry_identity(entry, None, "T", NOW, "text two")  # edited text: same
    assert dated != entry_identity(entry, None, "T", replace_hour(NOW), "text one")


def replace_hour(moment):
    return moment.replace(hour=1)


def test_the_guid_scopes_the_article_id_to_its_source() -> None:
    item = parse_feed(spec(), fetched("full.rss"), now=NOW, subject="t")[0]
    other = replace(item, source="another-feed")
    assert normalize(item).id != normalize(other).id
    assert normalize(replace(item, guid=None)).id != normalize(item).id


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("plain text", ["plain text"]),
        ("<p>One</p><p>Two <b>bold</b></p>", ["One", "Two bold"]),
        ("Lead<p>Body</p>tail", ["Lead", "Body", "tail"]),
        ("<p>line one<br>line two</p>", ["line one\nline two"]),
        ("<ul><li>a</li><li>b</li></ul>", ["a", "b"]),
        ("<p>x<!-- note -->y</p>", ["xy"]),
        ("<p>  spaced \n  out  </p>", ["spaced out"]),
        ("first\n\nsecond", ["first", "second"]),
        ("", []),
    ],
)
def test_html_becomes_plain_paragraphs(html: str, expected: list[str]) -> None:
    assert html_paragraphs(html) == expected


@pytest.mark.parametrize(
    ("text", "teaser"),
    [
        ("Fares will rise from April, blaming fuel costs… Read more", True),
        ("Short lead.", True),
        (" ".join(["word"] * 100), False),
        (" ".join(["word"] * 100) + " […]", True),
        (" ".join(["word"] * 100) + "...", True),
        (" ".join(["word"] * 100) + "\n\nContinue reading »", True),
        (" ".join(["word"] * 100) + "\n\nMore", True),
        (" ".join(["word"] * 100) + " and more.", False),
    ],
)
def test_teasers_are_short_cut_off_or_end_in_read_more(text: str, teaser: bool) -> None:
    assert is_teaser(text, 80) is teaser
