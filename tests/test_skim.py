"""The skim layer (#14): the headline index, "New" only where it tells something apart, the
email's inbox preview, previous/next edition links and archive headlines that are links.
(What a reader sees of them in a browser is in tests/test_browser.py.)"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from digest.mailer import email_parts
from digest.models import SummarySentence
from digest.publish import publish
from digest.render import NAV_END, NAV_START, make_environment, render
from tests.test_publish import briefing_for
from tests.test_render import make_briefing, make_thread

ENV = make_environment()


def _two_kinds():
    """A new thread and a continuing one with a fresh sentence."""
    fresh = SummarySentence(text="Fares went down again.", outlets=("Island FM",), new=True)
    continuing = make_thread(
        thread_id="t-fares",
        headline="Ferry fares cut for islanders",
        status="continuing",
        continues_from=date(2024, 6, 3),
        new_article_ids=("a2",),
        sentences=(fresh,),
    )
    return make_briefing(make_thread(), continuing, edition=4)


class _Text(HTMLParser):
    """The text of an HTML document in order, tags left out."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data.strip())


def _text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html[html.index("<body") :])
    return parser.parts


def test_the_index_lists_every_headline_with_its_kind_and_outlets() -> None:
    html = render(ENV, _two_kinds()).html
    toc = html[html.index('<nav class="toc"') : html.index("</nav>", html.index('class="toc"'))]
    assert '<a href="#thread-t-ferry">Ferry service to Gull Island resumes</a>' in toc
    assert '<a href="#thread-t-fares">Ferry fares cut for islanders</a>' in toc
    assert '<span class="tag new">New</span> · 2 outlets' in toc
    assert '<span class="tag continuing">Continuing</span> · 1 new article · 2 outlets' in toc
    assert 'id="thread-t-fares"' in html


def test_new_since_the_last_edition_is_in_words_in_every_part() -> None:
    rendered = render(ENV, _two_kinds())
    words = "New since the last edition: 1 new story, 1 continuing story with new reports."
    for part in (rendered.html, rendered.email_html):
        assert "New since the last edition:</strong> 1 new story," in part
        assert re.search(r'<span class="fresh-label"[^>]*>New:</span> Fares went down again', part)
    assert words in rendered.email_text
    assert "* New: Fares went down again." in rendered.email_text
    assert f"**{words[:27]}**{words[27:]}" in rendered.markdown
    assert "- **New:** Fares went down again." in rendered.markdown


def test_an_edition_of_new_threads_says_new_nowhere() -> None:
    """A first edition (or any with nothing continuing): every thread is new, so no badge."""
    other = make_thread(thread_id="t-2", headline="Harbour crane repaired")
    rendered = render(ENV, make_briefing(make_thread(), other, edition=1))
    for name in ("html", "email_html", "email_text", "markdown"):
        part = getattr(rendered, name)
        if name.endswith("html"):  # what a reader sees: not the styles ("Times New Roman")
            part = " ".join(_text(part))
        assert re.search(r"\bNew\b", part) is None, name
        assert "In this edition" in part, name
    assert '<span class="tag' not in rendered.html
    assert '<span class="badge' not in rendered.html


def test_the_inbox_preview_is_the_first_headlines() -> None:
    briefing = _two_kinds()
    parts = email_parts(ENV, briefing, max_html_bytes=100_000, site_url="https://news.example/")
    first = _text(parts.html)[0]
    assert first.startswith("Ferry service to Gull Island resumes · Ferry fares cut for islanders")
    assert "Read this edition on the web" not in first
    assert re.search(r'class="preheader" style="display: none;', parts.html)
    assert _text(parts.html)[1] == "Read this edition on the web"  # after the preview


def test_a_cut_email_says_how_many_stories_the_index_leaves_out() -> None:
    threads = tuple(
        make_thread(thread_id=f"t{i}", headline=f"Story {i}", sentences=()) for i in range(30)
    )
    briefing = make_briefing(*threads)
    parts = email_parts(ENV, briefing, max_html_bytes=20_000, site_url=None)
    assert 1 < parts.shown < 30
    left = 30 - parts.shown
    assert f"and {left} more stories on the web" in parts.html
    assert f"and {left} more stories on the web" in parts.text


# ── previous / next edition, archive links ───────────────────────────────────────────────


def _publish(out: Path, day: date, *headlines: str) -> None:
    briefing = dataclasses.replace(briefing_for(day, *headlines), edition=day.day)
    publish(render(ENV, briefing), briefing, out, env=ENV)


def _nav(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    return html[html.index(NAV_START) : html.index(NAV_END)]


def test_editions_link_to_the_previous_and_the_next(tmp_path: Path) -> None:
    out = tmp_path / "output"
    _publish(out, date(2026, 3, 1), "Dam opens")
    assert "rel=" not in _nav(out / "2026-03-01" / "index.html")  # alone: no links
    _publish(out, date(2026, 3, 2), "Dam floods valley")
    _publish(out, date(2026, 3, 3), "Valley drained")
    first, middle, last = (_nav(out / f"2026-03-0{d}" / "index.html") for d in (1, 2, 3))
    assert 'rel="prev"' not in first
    assert 'rel="next" href="../2026-03-02/index.html">Next: No. 2 · 2 March 2026' in first
    assert 'rel="prev" href="../2026-03-01/index.html">' in middle
    assert 'rel="next" href="../2026-03-03/index.html">' in middle
    assert 'rel="prev" href="../2026-03-02/index.html">' in last
    assert 'rel="next"' not in last
    front = _nav(out / "index.html")
    assert 'rel="prev" href="2026-03-02/index.html">' in front
    assert 'rel="next"' not in front


def test_republishing_an_older_edition_keeps_its_neighbours(tmp_path: Path) -> None:
    out = tmp_path / "output"
    for day in (1, 2, 3):
        _publish(out, date(2026, 3, day), f"Story of day {day}")
    _publish(out, date(2026, 3, 2), "Story of day 2, revised")
    middle = _nav(out / "2026-03-02" / "index.html")
    assert "../2026-03-01/index.html" in middle
    assert "../2026-03-03/index.html" in middle
    assert "Story of day 3" in (out / "index.html").read_text(encoding="utf-8")


def test_archive_headlines_link_to_their_threads(tmp_path: Path) -> None:
    out = tmp_path / "output"
    _publish(out, date(2026, 3, 1), "Dam opens", "Ferry late")
    _publish(out, date(2026, 3, 2), "Dam floods valley")
    archive = (out / "archive.html").read_text(encoding="utf-8")
    assert '<a class="entry-title" href="2026-03-01/index.html">' in archive
    assert '<li><a href="threads/t0/index.html">Dam floods valley</a></li>' in archive
    assert '<li><a href="threads/t1/index.html">Ferry late</a></li>' in archive
    assert (out / "threads" / "t1" / "index.html").is_file()
