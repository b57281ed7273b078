"""A page and an Atom feed per thread (#14): threads/ID/ grows with every edition that
shows the thread, says what each edition added and when each outlet first reported it,
lists every source; merged threads' pages send readers to the thread they joined."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest

from digest.document import briefing_to_dict, thread_from_dict
from digest.models import Briefing, SourceRef, SummarySentence, ThreadSummary
from digest.publish import publish
from digest.render import make_environment, render
from digest.site import Installation, site_identity
from digest.threadsite import resolve
from tests.test_service import _atom_problems

ENV = make_environment()
SITE = site_identity(
    "https://news.example.org/brief/",
    Installation(id=uuid.UUID(int=7), created=date(2026, 3, 1)),
)
SCRIPT = "<script>alert(1)</script>"


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def ref(article_id: str, outlet: str, day: int, hour: int, **more: object) -> SourceRef:
    url = more.pop("url", f"https://{article_id}.example/")
    return SourceRef(
        outlet=outlet,
        title=f"{outlet} on the dam",
        url=url,  # type: ignore[arg-type]
        published=at(day, hour),
        article_id=article_id,
        **more,  # type: ignore[arg-type]
    )


def said(text: str, *ids: str, new: bool = False) -> SummarySentence:
    return SummarySentence(text=text, outlets=(), article_ids=ids, new=new)


def dam(day: int, *, status: str = "new", **changes: object) -> ThreadSummary:
    thread = ThreadSummary(
        thread_id="t-dam",
        headline="Orsk dam opens its gates",
        status=status,  # type: ignore[arg-type]
        sentences=(said("The Orsk dam opened its gates on Monday.", "a1", "a2"),),
        quotes=(),
        sources=(ref("a1", "Valley Times", 1, 8), ref("a2", "Atlas Newswire", 1, 9)),
        first_seen=at(1, 8),
        last_updated=at(day, 12),
    )
    return dataclasses.replace(thread, **changes)


def edition(day: int, *threads: ThreadSummary, title: str = "Valley briefing") -> Briefing:
    return Briefing(
        day=date(2026, 3, day),
        generated_at=at(day, 20),
        timezone="UTC",
        threads=threads,
        title=title,
        edition=day,
        slug=f"2026-03-0{day}",
    )


def put(out: Path, briefing: Briefing, redirects: dict[str, str] | None = None) -> tuple[Path, ...]:
    return publish(
        render(ENV, briefing), briefing, out, env=ENV, site=SITE, redirects=redirects or {}
    )


DAY2 = dam(
    2,
    status="continuing",
    continues_from=date(2026, 3, 1),
    new_article_ids=("a3", "c1"),
    sentences=(
        said("Farmers downstream moved their herds to higher ground.", "a3", new=True),
        said("The Orsk dam opened its gates on Monday.", "a1", "a2", "c1"),
    ),
    sources=(
        ref("a1", "Valley Times", 1, 8),
        ref("a2", "Atlas Newswire", 1, 9),
        ref("c1", "Hill Gazette", 2, 7, copy_of="a2"),
        ref("a3", "River Post", 2, 10),
    ),
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    put(out, edition(1, dam(1)))
    put(out, edition(2, DAY2))
    return out


def test_a_thread_page_grows_with_every_edition(site: Path) -> None:
    page = (site / "threads" / "t-dam" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Orsk dam opens its gates</h1>" in page
    assert "Story followed since 1 March 2026" in page
    assert "3 independent reports from 3 outlets · 1 copy · in 2 editions" in page
    # the newest edition first, each with what it added
    second = page.index('id="edition-2026-03-02"')
    first = page.index('id="edition-2026-03-01"')
    assert second < first
    step2, step1 = page[second:first], page[first:]
    assert "Added: 2 articles (Hill Gazette, River Post)." in step2
    assert "Farmers downstream moved their herds to higher ground." in step2
    assert "The Orsk dam opened its gates on Monday." not in step2  # said before
    assert "First reported: 2 articles (Valley Times, Atlas Newswire)." in step1
    assert 'href="../../2026-03-02/index.html#thread-t-dam"' in step2
    # when each outlet first reported it, and every source
    table = page[page.index('<section class="reporters">') :]
    rows = table.split("<tr>")[2:]
    assert [r.split("</th>")[0].split(">")[-1] for r in rows] == [
        "Valley Times",
        "Atlas Newswire",
        "Hill Gazette",
        "River Post",
    ]
    assert '<time datetime="2026-03-01T08:00:00Z">1 Mar, 08:00</time>' in rows[0]
    assert "1 copy" in rows[2]
    assert '<details class="copies"><summary>carried by 1 outlet</summary>' in page
    for url in ("https://a1.example/", "https://a3.example/", "https://c1.example/"):
        assert f'href="{url}"' in page
    assert '<link rel="alternate" type="application/atom+xml"' in page


def test_edition_pages_link_to_their_threads_pages_and_feeds(site: Path) -> None:
    for path, root in (("2026-03-02/index.html", "../"), ("index.html", "")):
        page = (site / path).read_text(encoding="utf-8")
        assert f'<a href="{root}threads/t-dam/index.html">The story so far' in page
        assert f'<a href="{root}threads/t-dam/feed.xml" type="application/atom+xml">' in page


def test_a_thread_has_its_own_atom_feed_by_the_standard(site: Path) -> None:
    xml = (site / "threads" / "t-dam" / "feed.xml").read_bytes()
    assert _atom_problems(xml) == []
    feed = feedparser.parse(xml)
    assert not feed.bozo
    base = "tag:news.example.org,2026-03-01:/brief/"
    assert feed.feed.id == f"{base}threads/t-dam/"
    assert feed.feed.link == "https://news.example.org/brief/threads/t-dam/"
    assert [e.id for e in feed.entries] == [
        f"{base}threads/t-dam/#2026-03-02",
        f"{base}threads/t-dam/#2026-03-01",
    ]
    assert (
        feed.entries[0].link == "https://news.example.org/brief/2026-03-02/index.html#thread-t-dam"
    )
    assert "Farmers downstream" in feed.entries[0].content[0].value
    assert "Orsk dam opened" not in feed.entries[0].content[0].value  # only what it added
    assert feed.entries[0].published_parsed
    assert feed.entries[0].updated_parsed


def test_republishing_keeps_the_threads_feed_ids_and_first_publication(site: Path) -> None:
    before = feedparser.parse((site / "threads" / "t-dam" / "feed.xml").read_bytes())
    later = dataclasses.replace(edition(2, DAY2), generated_at=at(2, 23))
    put(site, later)
    after = feedparser.parse((site / "threads" / "t-dam" / "feed.xml").read_bytes())
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert after.entries[0].published == before.entries[0].published  # first publication
    assert after.entries[0].updated == "2026-03-02T23:00:00Z"


def test_a_merged_thread_redirects_to_the_thread_it_joined(tmp_path: Path) -> None:
    """The redirect map is built by hand here: it is ``ThreadStore.redirects()`` in a run."""
    out = tmp_path / "output"
    flood = dam(1, thread_id="t-flood", headline="Valley floods below the dam")
    put(out, edition(1, flood))
    assert (out / "threads" / "t-flood" / "index.html").exists()
    put(out, edition(2, DAY2), redirects={"t-flood": "t-dam"})
    moved = (out / "threads" / "t-flood" / "index.html").read_text(encoding="utf-8")
    target = "https://news.example.org/brief/threads/t-dam/index.html"
    assert f'<meta http-equiv="refresh" content="0; url={target}">' in moved
    assert f'<link rel="canonical" href="{target}">' in moved
    assert f'<a href="{target}">Orsk dam opens its gates</a>' in moved
    feed = feedparser.parse((out / "threads" / "t-flood" / "feed.xml").read_bytes())
    assert feed.feed.id.endswith("/threads/t-flood/")  # the old feed keeps its id ...
    (notice,) = feed.entries  # ... and says where the story went
    assert notice.title == "This story continues as: Orsk dam opens its gates"
    assert notice.link == target.removesuffix("index.html")
    # the surviving thread's page brings the merged thread's edition along
    page = (out / "threads" / "t-dam" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../2026-03-01/index.html#thread-t-flood"' in page
    assert "in 2 editions" in page
    # the old edition still links to the old address, which now leads on
    old = (out / "2026-03-01" / "index.html").read_text(encoding="utf-8")
    assert 'href="../threads/t-flood/index.html"' in old
    # publishing again leaves the redirect as it is
    written = put(out, edition(2, DAY2), redirects={"t-flood": "t-dam"})
    assert out / "threads" / "t-flood" / "index.html" not in written


def test_a_redirect_without_a_site_url_is_relative(tmp_path: Path) -> None:
    out = tmp_path / "output"
    briefing = edition(1, dam(1, thread_id="t-old"))
    publish(render(ENV, briefing), briefing, out, env=ENV)
    briefing = edition(2, DAY2)
    publish(render(ENV, briefing), briefing, out, env=ENV, redirects={"t-old": "t-dam"})
    moved = (out / "threads" / "t-old" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="../../threads/t-dam/index.html">' in moved


def test_redirect_chains_are_followed_and_loops_dropped() -> None:
    assert resolve({"a": "b", "b": "c"}) == {"a": "c", "b": "c"}
    assert resolve({"a": "b", "b": "a", "c": "c"}) == {}


def test_outside_text_on_a_thread_page_is_escaped_and_only_http_links_are_links(
    tmp_path: Path,
) -> None:
    out = tmp_path / "output"
    hostile = dam(
        1,
        headline=f"Dam {SCRIPT}",
        sentences=(said(f"Gates {SCRIPT} opened.", "a1"),),
        sources=(ref("a1", f"Times {SCRIPT}", 1, 8, url="javascript:alert(1)"),),
    )
    put(out, edition(1, hostile, title=f"Brief {SCRIPT}"))
    for name in ("index.html", "feed.xml"):
        text = (out / "threads" / "t-dam" / name).read_text(encoding="utf-8")
        assert "<script>" not in text, name
        assert "javascript:" not in text, name
    page = (out / "threads" / "t-dam" / "index.html").read_text(encoding="utf-8")
    assert "Dam &lt;script&gt;" in page


def test_a_thread_id_that_is_not_a_plain_name_gets_no_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "output"
    with caplog.at_level(logging.WARNING):
        put(out, edition(1, dam(1, thread_id="../../etc")))
    assert not (out / "threads").exists()
    assert "not a plain name" in caplog.text
    assert (out / "2026-03-01" / "index.html").exists()  # the edition is still published


def test_a_thread_reads_back_from_its_document() -> None:
    doc = briefing_to_dict(edition(2, DAY2))
    (thread,) = doc["threads"]
    back = thread_from_dict(json.loads(json.dumps(thread)))
    assert back == dataclasses.replace(DAY2, sources=DAY2.sources)


def test_two_threads_one_edition_showed_are_one_step_once_merged() -> None:
    from digest.history import edition_ref, thread_history

    doc = briefing_to_dict(edition(1, dam(1), dam(1, thread_id="t-flood", sources=DAY2.sources)))
    appearances = [(edition_ref(doc), t) for t in doc["threads"]]
    history = thread_history("t-dam", appearances)
    assert history is not None
    (step,) = history.steps
    assert step.thread.thread_id == "t-dam"  # its own anchor in that edition
    assert [r.article_id for r in step.added] == ["a1", "a2", "c1", "a3"]


def test_the_email_links_each_thread_to_its_page_on_the_web() -> None:
    from digest.mailer import email_parts

    briefing = edition(2, DAY2)
    parts = email_parts(ENV, briefing, max_html_bytes=100_000, site_url="https://news.example/")
    url = "https://news.example/threads/t-dam/index.html"
    assert f'<a href="{url}"' in parts.html
    assert f"The story so far, edition by edition: {url}" in parts.text
    bare = email_parts(ENV, briefing, max_html_bytes=100_000, site_url=None)
    assert "threads/t-dam" not in bare.html + bare.text  # no site to link to
