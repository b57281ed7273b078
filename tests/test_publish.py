"""publish.py: edition folders, front page, archive page, Atom feed, replacement, safe paths."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from digest.errors import PublishError
from digest.fsutil import safe_join
from digest.models import Briefing, SourceRef, SummarySentence, ThreadSummary
from digest.publish import publish, read_archive
from digest.render import ANONYMOUS_SITE, make_environment, render

ATOM = "{http://www.w3.org/2005/Atom}"


def briefing_for(day: date, *headlines: str) -> Briefing:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    threads = tuple(
        ThreadSummary(
            thread_id=f"t{i}",
            headline=headline,
            status="new",
            sentences=(SummarySentence(text=f"{headline} happened.", outlets=("Valley Times",)),),
            quotes=(),
            sources=(
                SourceRef(
                    outlet="Valley Times",
                    title=headline,
                    url=f"https://valley.example/{i}",
                    published=noon,
                ),
            ),
            first_seen=noon,
            last_updated=noon,
        )
        for i, headline in enumerate(headlines)
    )
    return Briefing(day=day, generated_at=noon, timezone="Europe/Lisbon", threads=threads)


@pytest.fixture(scope="module")
def env():
    return make_environment()


def publish_day(env, out: Path, day: date, *headlines: str) -> tuple[Path, ...]:
    briefing = briefing_for(day, *headlines)
    return publish(render(env, briefing), briefing, out, env=env)


def test_files_land_in_the_dated_folder(env, tmp_path):
    out = tmp_path / "output"
    paths = publish_day(env, out, date(2024, 6, 4), "Orchard harvest starts early")
    root = out.resolve()
    assert paths == (
        root / "favicon.svg",
        root / "2024-06-04" / "index.html",
        root / "2024-06-04" / "briefing.md",
        root / "2024-06-04" / "briefing.json",
        root / "threads" / "t0" / "index.html",  # its thread's page and feed (#14)
        root / "threads" / "t0" / "feed.xml",
        root / "archive.html",
        root / "feed.xml",
        root / "archive.json",  # the archive in JSON, and its index of the editions
        root / "index.html",  # the front page goes last
    )
    assert all(p.is_file() for p in paths)
    doc = json.loads((root / "2024-06-04" / "briefing.json").read_text(encoding="utf-8"))
    assert doc["threads"][0]["headline"] == "Orchard harvest starts early"
    page = (root / "2024-06-04" / "index.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in page
    assert 'href="../archive.html"' in page
    assert 'href="../feed.xml"' in page
    front = (root / "index.html").read_text(encoding="utf-8")
    assert "Orchard harvest starts early" in front  # the latest edition is the front page
    assert 'href="archive.html"' in front
    assert 'href="feed.xml"' in front


def test_archive_lists_briefings_newest_first(env, tmp_path):
    publish_day(env, tmp_path, date(2024, 6, 4), "Orchard harvest starts early")
    publish_day(env, tmp_path, date(2024, 6, 5), "Tram line extension opens", "Library hours")
    index = (tmp_path / "archive.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(\d{4}-\d{2}-\d{2})/index\.html"', index)
    assert list(dict.fromkeys(links)) == ["2024-06-05", "2024-06-04"]
    assert "Tram line extension opens" in index
    assert "Orchard harvest starts early" in index
    assert "2 stories from 1 outlet · 2 articles" in index
    assert "2 editions in the archive" in index
    hrefs = re.findall(r'href="([^"]*)"', index)
    assert all("://" not in h and not h.startswith("/") for h in hrefs)


def test_feed_is_atom_with_one_entry_per_briefing(env, tmp_path):
    publish_day(env, tmp_path, date(2024, 6, 4), "Orchard harvest starts early")
    publish_day(env, tmp_path, date(2024, 6, 5), "Tram <b>line</b> & extension opens")
    # our own freshly written file, not untrusted input
    root = ET.fromstring((tmp_path / "feed.xml").read_bytes())  # noqa: S314
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}updated") == "2024-06-05T12:00:00Z"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        ANONYMOUS_SITE.entry_id("2024-06-05"),
        ANONYMOUS_SITE.entry_id("2024-06-04"),
    ]
    assert entries[0].find(f"{ATOM}link").get("href") == "2024-06-05/index.html"
    assert entries[0].findtext(f"{ATOM}published") == "2024-06-05T12:00:00Z"
    content = entries[0].find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<h3>Tram &lt;b&gt;line&lt;/b&gt; &amp; extension opens</h3>" in content.text
    assert "<p>Tram &lt;b&gt;line&lt;/b&gt; &amp; extension opens happened. (Valley Times)" in (
        content.text
    )


def test_republishing_keeps_the_first_publication_time(env, tmp_path):
    briefing = dataclasses.replace(briefing_for(date(2024, 6, 4), "First version"), edition=1)
    publish(render(env, briefing), briefing, tmp_path, env=env)
    later = dataclasses.replace(briefing, generated_at=briefing.generated_at + timedelta(hours=3))
    publish(render(env, later), later, tmp_path, env=env)
    doc = json.loads((tmp_path / "2024-06-04" / "briefing.json").read_text(encoding="utf-8"))
    root = ET.fromstring((tmp_path / "feed.xml").read_bytes())  # noqa: S314
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}published") == "2024-06-04T12:00:00Z"
    assert entry.findtext(f"{ATOM}updated") == "2024-06-04T15:00:00Z"
    assert doc["generated_at"] == "2024-06-04T15:00:00Z"


def test_republishing_a_day_replaces_it(env, tmp_path):
    publish_day(env, tmp_path, date(2024, 6, 4), "First version")
    publish_day(env, tmp_path, date(2024, 6, 5), "Other day")
    publish_day(env, tmp_path, date(2024, 6, 4), "Second version")
    page = (tmp_path / "2024-06-04" / "index.html").read_text(encoding="utf-8")
    assert "Second version" in page
    assert "First version" not in page
    index = (tmp_path / "archive.html").read_text(encoding="utf-8")
    assert index.count('<li class="entry">') == 1  # one earlier briefing beside the latest
    assert "First version" not in index
    assert (tmp_path / "feed.xml").read_text(encoding="utf-8").count("<entry>") == 2
    front = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Other day" in front  # re-publishing an older edition leaves the front page alone
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2024-06-04",
        "2024-06-05",
        "archive.html",
        "archive.json",
        "favicon.svg",
        "feed.xml",
        "index.html",
        "threads",
    ]


def test_no_temporary_files_are_left(env, tmp_path):
    for day in (4, 5, 4):
        publish_day(env, tmp_path, date(2024, 6, day), "Story")
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []


@pytest.mark.parametrize("parts", [("..", "evil.html"), ("2024-06-04", "..", "..", "x"), ("/etc",)])
def test_safe_join_refuses_escapes(tmp_path, parts):
    with pytest.raises(PublishError, match="path escapes the output folder"):
        safe_join(tmp_path / "output", *parts)


def test_archive_skips_foreign_and_broken_folders(env, tmp_path, caplog):
    publish_day(env, tmp_path, date(2024, 6, 4), "Good day")
    (tmp_path / "static").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "2024-06-01").mkdir()
    (tmp_path / "2024-06-01" / "briefing.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "2024-06-02").mkdir()
    (tmp_path / "2024-06-02" / "briefing.json").write_text('{"date": "x"}', encoding="utf-8")
    (tmp_path / "2024-06-03").mkdir()  # no briefing.json at all
    with caplog.at_level(logging.WARNING, logger="digest.publish"):
        entries = read_archive(tmp_path)
    assert [e.day for e in entries] == [date(2024, 6, 4)]
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("static", "2024-06-01", "2024-06-02", "2024-06-03"):
        assert name in warned
    assert ".git" not in warned


def test_publish_without_an_explicit_environment(env, tmp_path):
    briefing = briefing_for(date(2024, 6, 4), "Default templates")
    publish(render(env, briefing), briefing, tmp_path)
    assert "Default templates" in (tmp_path / "archive.html").read_text(encoding="utf-8")
