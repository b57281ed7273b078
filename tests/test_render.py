"""render.py: escaping, safe links, Markdown escaping, errors, overrides, JSON, time zones."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest.errors import RenderError
from digest.formatting import md_escape, safe_url
from digest.history import EditionRef, OutletReport, Step, ThreadHistory
from digest.models import (
    Briefing,
    Quote,
    SourceRef,
    SourceStatus,
    SummarySentence,
    ThreadSummary,
)
from digest.render import (
    ANONYMOUS_SITE,
    DEFAULT_TEMPLATES_DIR,
    ArchiveEntry,
    briefing_to_dict,
    make_environment,
    render,
    render_index,
)
from digest.syndication import Basis, Credit, Report

SCRIPT = "<script>alert(1)</script>"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=UTC)


def make_thread(**changes: object) -> ThreadSummary:
    thread = ThreadSummary(
        thread_id="t-ferry",
        headline="Ferry service to Gull Island resumes",
        status="new",
        sentences=(
            SummarySentence(
                text="The island ferry sailed again on Tuesday morning.",
                outlets=("Harbour Post", "Island FM"),
                article_ids=("a1", "a2"),
            ),
            SummarySentence(text="Tickets are half price this week.", outlets=("Island FM",)),
        ),
        quotes=(
            Quote(
                text="We missed the boat, literally",
                speaker="Captain Ida Marsh",
                outlet="Island FM",
            ),
            Quote(text="Timetables will follow", speaker=None, outlet="Harbour Post"),
        ),
        sources=(
            SourceRef(
                outlet="Harbour Post",
                title="Ferry back in service",
                url="https://harbour.example/ferry",
                published=at(5, 6, 30),
                article_id="a1",
            ),
            SourceRef(
                outlet="Island FM",
                title="Ferry sails again",
                url="https://islandfm.example/news/ferry",
                published=at(5, 7, 5),
                article_id="a2",
            ),
        ),
        first_seen=at(5, 6, 30),
        last_updated=at(5, 7, 5),
    )
    return dataclasses.replace(thread, **changes)


def make_briefing(*threads: ThreadSummary, **changes: object) -> Briefing:
    briefing = Briefing(
        day=date(2024, 6, 5),
        generated_at=at(5, 5),
        timezone="UTC",
        threads=threads or (make_thread(),),
        sources=(
            SourceStatus(name="island-fm", kind="feed", status="new", new=2),
            SourceStatus(
                name="gazette", kind="feed", status="error", error="fetch failed: HTTP 503"
            ),
        ),
        title="Morning briefing",
    )
    return dataclasses.replace(briefing, **changes)


@pytest.fixture(scope="module")
def env():
    return make_environment()


# ── escaping ──────────────────────────────────────────────────────────────────────────────


def hostile_briefing() -> Briefing:
    thread = make_thread(
        headline=f"Headline {SCRIPT}",
        sentences=(SummarySentence(text=f"Sentence {SCRIPT}", outlets=(f"Outlet {SCRIPT}",)),),
        quotes=(Quote(text=f"Quote {SCRIPT}", speaker=f"Speaker {SCRIPT}", outlet="Radio"),),
        sources=(
            SourceRef(
                outlet=f"Outlet {SCRIPT}",
                title=f"Title {SCRIPT}",
                url='https://ok.example/a?x=1&y="2"',
                published=at(5, 8),
            ),
        ),
    )
    return make_briefing(thread, title=f"Title {SCRIPT}")


@pytest.mark.parametrize("part", ["html", "email_html"])
def test_script_is_escaped_in_html(env, part):
    html = getattr(render(env, hostile_briefing()), part)
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;") >= 6  # title, headline, sentence, outlet, quote, speaker
    assert 'href="https://ok.example/a?x=1&amp;y=' in html  # attribute quoting kept intact
    assert 'y="2"' not in html


def test_markdown_and_text_carry_the_words(env):
    rendered = render(env, hostile_briefing())
    assert "Headline \\<script\\>alert\\(1\\)\\</script\\>" in rendered.markdown
    assert f"Headline {SCRIPT}" in rendered.email_text  # plain text needs no escaping


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "//no-scheme.example/x",
        "ftp://files.example/x",
        "https://",
        "http://exa mple.example/",
        None,
    ],
)
def test_unsafe_urls_are_not_links(env, url):
    ref = SourceRef(outlet="Harbour Post", title="Plain title", url=url, published=at(5, 8))
    rendered = render(env, make_briefing(make_thread(sources=(ref,))))
    assert safe_url(url) is None
    for text in (rendered.html, rendered.email_html):
        assert "Plain title</a>" not in text
        assert "javascript" not in text.lower()
        assert "data:" not in text
    assert "- Harbour Post: Plain title · 08:00" in rendered.markdown
    assert "](" not in rendered.markdown
    assert json.loads(rendered.json)["threads"][0]["articles"][0]["url"] is None


@pytest.mark.parametrize(
    "url", ["https://a.example/x", "http://a.example", "HTTPS://A.example/path?q=1#frag"]
)
def test_safe_urls_pass(url):
    assert safe_url(url) == url


def test_markdown_link_target_survives_parentheses(env):
    ref = SourceRef(outlet="Wiki", title="A (b)", url="https://w.example/A_(b)", published=at(5, 8))
    md = render(env, make_briefing(make_thread(sources=(ref,)))).markdown
    assert "- Wiki: [A \\(b\\)](https://w.example/A_%28b%29) · 08:00" in md


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (
            "*bold* _it_ [x](y) #1 <b> a|b `c` \\",
            r"\*bold\* \_it\_ \[x\]\(y\) \#1 \<b\> a\|b \`c\` \\",
        ),
        ("- not a list", r"\- not a list"),
        ("+ not a list", r"\+ not a list"),
        ("1984. Not a list", r"1984\. Not a list"),
        ("line one\n- line two", r"line one \- line two"),
        ("Price 3.5 - fine", "Price 3.5 - fine"),
    ],
)
def test_md_escape(raw, escaped):
    assert md_escape(raw) == escaped


def test_markdown_specials_in_titles_are_escaped(env):
    thread = make_thread(headline="# Big *news* [today]")
    briefing = make_briefing(thread, title="My_digest")
    md = render(env, briefing).markdown
    assert md.startswith("# My\\_digest — Wednesday 5 June 2024\n")
    assert "\n## \\# Big \\*news\\* \\[today\\]\n" in md


# ── errors and overrides ──────────────────────────────────────────────────────────────────


def test_missing_variable_raises_render_error_naming_the_template(tmp_path):
    (tmp_path / "_thread.html").write_text("<p>{{ no_such_variable }}</p>\n", encoding="utf-8")
    env = make_environment(user_dir=tmp_path)
    with pytest.raises(RenderError) as info:
        render(env, make_briefing())
    assert info.value.subject == "briefing.html (_thread.html line 1)"
    assert "no_such_variable" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_variable_in_a_nested_template_names_it(tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "briefing.txt").write_text("ok\n{{ nope }}\n", encoding="utf-8")
    env = make_environment(user_dir=tmp_path)
    with pytest.raises(RenderError) as info:
        render(env, make_briefing())
    assert info.value.subject == "email/briefing.txt line 2"


def test_syntax_error_raises_render_error(tmp_path):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "briefing.md").write_text("{% if %}\n", encoding="utf-8")
    env = make_environment(user_dir=tmp_path)
    with pytest.raises(
        RenderError, match=re.escape("template syntax error: markdown/briefing.md line 1")
    ):
        render(env, make_briefing())


def test_unknown_time_zone_raises_render_error(env):
    with pytest.raises(RenderError, match=re.escape("unknown time zone: Mars/Olympus")):
        render(env, make_briefing(timezone="Mars/Olympus"))


def test_user_dir_overrides_a_default_template(tmp_path):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "briefing.md").write_text(
        "custom {{ briefing.title|md_escape }}\n", encoding="utf-8"
    )
    rendered = render(make_environment(user_dir=tmp_path), make_briefing())
    assert rendered.markdown == "custom Morning briefing\n"
    assert "<h1>Morning briefing</h1>" in rendered.html  # the others still come from the defaults


# ── editions ──────────────────────────────────────────────────────────────────────────────


def test_html_page_shows_the_thread(env):
    thread = make_thread(status="continuing", continues_from=date(2024, 6, 3))
    html = render(env, make_briefing(thread)).html
    assert "<h2>Ferry service to Gull Island resumes</h2>" in html
    assert "Continuing (since 3 June 2024)" in html
    assert '<span class="attr"> — Harbour Post, Island FM</span>' in html
    assert "— Captain Ida Marsh, <cite>Island FM</cite>" in html
    assert "— <cite>Harbour Post</cite>" in html
    assert '<a href="https://harbour.example/ferry" rel="noopener noreferrer">' in html
    assert "1 story from 2 outlets · 2 articles" in html
    assert "1 source could not be read today: gazette." in html
    assert "HTTP 503" not in html
    assert "<script" not in html
    assert '<link rel="stylesheet"' not in html
    assert html.count("<style>") == 1
    assert "prefers-color-scheme" in html


def test_markdown_edition_layout(env):
    md = render(env, make_briefing()).markdown
    # one new thread and nothing continuing: no "New" to tell it apart from anything (#14)
    basis = "2 independent reports from 2 outlets"
    assert f"\n## Ferry service to Gull Island resumes\n\n{basis}\n" in md
    assert "*New*" not in md
    assert "- The island ferry sailed again on Tuesday morning. *(Harbour Post, Island FM)*" in md
    assert "> “We missed the boat, literally” — Captain Ida Marsh (Island FM)" in md
    assert "> “Timetables will follow” — Harbour Post" in md
    assert "- Harbour Post: [Ferry back in service](https://harbour.example/ferry) · 06:30" in md
    assert "**1 source could not be read today:** gazette." in md
    assert md.endswith("*Generated 5 June 2024, 05:00 (UTC).*\n")


def test_rendering_is_deterministic(env):
    assert render(env, make_briefing()) == render(env, make_briefing())


def test_empty_briefing_renders(env):
    rendered = render(env, make_briefing(threads=(), sources=()))
    assert "No stories in this briefing." in rendered.html
    assert "0 stories from 0 outlets · 0 articles" in rendered.markdown
    assert "could not be read" not in rendered.html


def test_email_html_has_inlined_styles_and_nothing_external(env):
    email_html = render(env, make_briefing()).email_html
    assert re.search(r'<h2 style="[^"]*font-size', email_html)
    assert email_html.count('style="') > 10
    for forbidden in ("<script", "<link", "<style", "@import", "url("):
        assert forbidden not in email_html


def test_email_text_is_plain(env):
    text = render(env, make_briefing()).email_text
    basis = "2 independent reports from 2 outlets"
    assert f"1. Ferry service to Gull Island resumes\n   {basis}\n" in text
    assert "[New]" not in text
    assert "     https://harbour.example/ferry\n" in text
    assert "<" not in text


# ── time zones ────────────────────────────────────────────────────────────────────────────


def test_local_time_in_a_non_utc_zone(env):
    ref = SourceRef(outlet="Harbour Post", title="Late news", url=None, published=at(5, 3, 30))
    thread = make_thread(sources=(ref,))
    rendered = render(env, make_briefing(thread, timezone="America/New_York"))
    # 03:30 UTC on 5 June is 23:30 EDT on 4 June, the evening before the briefing's day
    assert '<time datetime="2024-06-04T23:30:00-04:00">4 Jun, 23:30</time>' in rendered.html
    assert "- Harbour Post: Late news · 4 Jun, 23:30" in rendered.markdown
    assert "Generated 5 June 2024, 01:00 (America/New_York)" in rendered.email_text
    assert json.loads(rendered.json)["threads"][0]["articles"][0]["published"] == (
        "2024-06-05T03:30:00Z"
    )


def test_local_time_ahead_of_utc(env):
    thread = make_thread()
    html = render(env, make_briefing(thread, timezone="Asia/Kolkata")).html
    assert '<time datetime="2024-06-05T12:00:00+05:30">12:00</time>' in html


# ── JSON ──────────────────────────────────────────────────────────────────────────────────


def test_json_document_keys_and_types(env):
    thread = make_thread(status="continuing", continues_from=date(2024, 6, 3))
    doc = json.loads(render(env, make_briefing(thread)).json)
    assert briefing_to_dict(make_briefing(thread)) == doc
    assert doc["date"] == "2024-06-05"
    assert doc["generated_at"] == "2024-06-05T05:00:00Z"
    assert (doc["timezone"], doc["title"]) == ("UTC", "Morning briefing")
    assert doc["stats"] == {"threads": 1, "articles": 2, "outlets": 2}
    (t,) = doc["threads"]
    assert set(t) >= {"id", "headline", "status", "continues_from", "first_seen", "last_updated"}
    assert set(t) >= {"outlets", "summary", "quotes", "articles"}
    assert (t["status"], t["continues_from"]) == ("continuing", "2024-06-03")
    assert t["outlets"] == ["Harbour Post", "Island FM"]
    assert t["summary"][0] == {
        "text": "The island ferry sailed again on Tuesday morning.",
        "outlets": ["Harbour Post", "Island FM"],
        "independent_outlets": ["Harbour Post", "Island FM"],
        "copy_outlets": [],
        "article_ids": ["a1", "a2"],
        "new": False,
    }
    assert t["quotes"][1] == {
        "text": "Timetables will follow",
        "speaker": None,
        "outlet": "Harbour Post",
        "article_id": "",
    }
    assert t["articles"][0] == {
        "id": "a1",
        "title": "Ferry back in service",
        "outlet": "Harbour Post",
        "url": "https://harbour.example/ferry",
        "published": "2024-06-05T06:30:00Z",
        "copy_of": None,
    }
    assert t["corroboration"] == {
        "independent_reports": 2,
        "independent_outlets": 2,
        "copies": 0,
        "copy_outlets": 0,
    }
    assert doc["sources"][1]["status"] == "error"
    assert "error" not in doc["sources"][1]  # the error text is for the operator (#12)
    assert doc["edition"] is None  # not an edition: a bare briefing


def test_json_is_stable_and_keeps_unicode(env):
    thread = make_thread(headline="Café “quotes” — ok")
    text = render(env, make_briefing(thread)).json
    assert "Café “quotes” — ok" in text
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# ── archive templates ─────────────────────────────────────────────────────────────────────


def test_feed_keeps_at_most_30_entries(env):
    entries = [
        ArchiveEntry(day=date(2024, 5, d), title="Daily", generated_at=at(1, 5), thread_count=1)
        for d in range(1, 32)
    ]
    _, feed = render_index(env, entries)
    assert feed.count("<entry>") == 30
    assert ANONYMOUS_SITE.entry_id("2024-05-31") in feed
    assert ANONYMOUS_SITE.entry_id("2024-05-01") not in feed


# ── template contract ─────────────────────────────────────────────────────────────────────


TEMPLATE_MODELS = (
    Briefing,
    ThreadSummary,
    SummarySentence,
    Quote,
    SourceRef,
    Report,
    Basis,
    Credit,  # digest.syndication
    EditionRef,
    Step,
    OutletReport,
    ThreadHistory,  # digest.history
)


@pytest.mark.parametrize("model", TEMPLATE_MODELS, ids=lambda m: m.__name__)
def test_template_models_document_every_field(model):
    undocumented = [f.name for f in dataclasses.fields(model) if not f.metadata.get("help")]
    assert undocumented == []


def test_templates_use_only_documented_fields():
    """Every ``thing.attribute`` the templates read is a documented field or a property."""
    documented = {f.name for model in TEMPLATE_MODELS for f in dataclasses.fields(model)}
    allowed = documented | {"outlets", "article_count", "outlet_count", "isoformat"}
    allowed |= {"folder", "new_sources", "new_outlets"}  # Briefing/ThreadSummary properties
    allowed |= {"name", "kind", "status", "error"}  # SourceStatus, listed in the footer
    allowed |= {"attention", "failures", "last_success", "quiet_since"}  # source health
    allowed |= {"day", "title", "generated_at", "thread_count", "headlines"}  # ArchiveEntry
    allowed |= {f.name for f in dataclasses.fields(ArchiveEntry)}
    allowed |= {"copy_outlets", "more"}  # Report/Credit properties (digest.syndication)
    allowed |= {"latest"}  # ThreadHistory property (digest.history)
    names = {"briefing", "thread", "s", "q", "ref", "e", "latest", "r", "c", "b"}
    names |= {"history", "step", "o"}
    pattern = re.compile(r"\b(" + "|".join(names) + r")\.([a-z_]+)")
    used = set()
    for path in Path(DEFAULT_TEMPLATES_DIR).rglob("*"):
        if path.is_file() and path.suffix in {".html", ".md", ".txt", ".xml"}:
            used |= {m.group(2) for m in pattern.finditer(path.read_text(encoding="utf-8"))}
    assert used - allowed == set()


def test_readers_see_failed_sources_by_name_and_nothing_of_their_errors_or_paths(env):
    """#12: error text, hints and local paths are the operator's (digest sources, status, log)."""
    failing = (
        SourceStatus(name="city-desk", kind="feed", status="error", error="fetch failed: DNS"),
        SourceStatus(
            name="/home/ana/dumps/wire.jsonl",
            kind="dump",
            status="error",
            error="invalid JSON: /home/ana/dumps/wire.jsonl:3",
        ),
    )
    rendered = render(env, make_briefing(sources=failing))
    for part in ("html", "markdown", "json", "email_html", "email_text"):
        text = getattr(rendered, part)
        assert "/home/ana" not in text, part
        assert "invalid JSON" not in text, part
        assert "fetch failed" not in text, part
        assert "wire.jsonl" in text, part
    assert "2 sources could not be read today: city-desk, wire.jsonl." in rendered.html
    assert "2 sources could not be read today: city-desk, wire.jsonl." in rendered.email_text
    doc = json.loads(rendered.json)
    assert [s["name"] for s in doc["sources"]] == ["city-desk", "wire.jsonl"]
    assert all("error" not in s for s in doc["sources"])
