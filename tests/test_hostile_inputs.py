"""Hostile inputs never stop the edition (#13 items 1, 6, 8): impossible dates, JSON that
nests 200,000 deep, odd types, dump files that are menus, loops, UTF-16, too big, file names
with escape sequences, bidi overrides in titles and an address with a line break in it.

Real dump files in tmp_path, real feeds from the loopback server, the real CLI where the
promise is about what an operator sees: the edition is published from every good input, one
line names the bad one, and the run goes on.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest.config import Settings
from digest.models import RawItem, RunReport, SourceSpec
from digest.normalize import MAX_ARTICLE_CHARS, normalize
from digest.pipeline import RunOptions, run_once
from digest.sources.dumps import list_dump_files, read_dump
from digest.store import Store
from tests.conftest import NOW, REPO
from tests.httpserver import LoopbackServer, Reply

DAY = date(2026, 3, 2)
SettingsFactory = Callable[..., Settings]
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
GOOD_TEXT = (
    "The city council approved a new harbour budget on Monday after a long debate about "
    "dredging, ferries and the future of the old fish market. Councillors voted 31 to 9 for "
    "the plan, which the mayor said would keep the port open to larger ships. "
) * 3
LONG_TEXT = (
    "Ferry crews in Fenmouth voted to strike from Thursday over rotas and pay, their union "
    "said, after talks with the operator ended without a deal late on Sunday night. "
) * 3


def good_json(title: str = "Council approves new harbour budget for spring", **extra: object):
    doc = {
        "outlet": "Good Wire",
        "title": title,
        "url": "https://goodwire.example/harbour-budget",
        "published": "2026-03-02T10:00:00Z",
        "text": GOOD_TEXT,
    }
    return json.dumps({**doc, **extra})


def hostile_json(**extra: object) -> str:
    doc = {"outlet": "Bad Wire", "title": "Ferry crews vote to strike", "text": LONG_TEXT}
    return json.dumps({**doc, **extra})


PAGE_DUMP_3000_YEARS = """\
Ferry crews vote to strike over rotas
Harbourline Daily3000 years ago
Ferry crews in Fenmouth voted to strike from Thursday over rotas and pay, their union said.
Talks with the operator ended without a deal late on Sunday night, both sides said.
Comments
No comments yet...
"""

HTML_YEAR_ONE = f"""<!doctype html><html><head><title>Ferry crews vote to strike</title>
<meta property="article:published_time" content="0001-01-01T00:00:00Z"></head><body>
<article><h1>Ferry crews vote to strike</h1><p>{LONG_TEXT}</p><p>{LONG_TEXT[::-1]}</p>
</article></body></html>"""


def run(settings: Settings, *inputs: Path) -> RunReport:
    with Store(settings.store.path) as store:
        options = RunOptions(day=DAY, inputs=inputs)
        return run_once(settings, now=NOW, store=store, options=options)


def stored(settings: Settings) -> dict[str, tuple[str, int]]:
    """title -> (published, dated) of every stored article."""
    with Store(settings.store.path) as store:
        rows = store.db.execute("SELECT title, published, dated FROM articles").fetchall()
    return {t: (p, d) for t, p, d in rows}


def briefing_md(settings: Settings) -> str:
    return (settings.output.dir / DAY.isoformat() / "briefing.md").read_text(encoding="utf-8")


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def digest_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


def cli_run(folder: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return digest_cli(
        "run",
        str(folder),
        "--date",
        DAY.isoformat(),
        "--now",
        NOW.isoformat(),
        "--db",
        str(tmp_path / "digest.sqlite3"),
        "--output",
        str(tmp_path / "site"),
        *extra,
        cwd=tmp_path,
    )


# ── item 1: one bad value never stops the run ───────────────────────────────────────────

HOSTILE_FILES: dict[str, tuple[str, str | bytes, str]] = {
    # case: (file name, content, what the one line says)
    "json-year-1": ("year1.json", hostile_json(published="0001-01-01T00:00:00+00:00"), "1990"),
    "json-year-1-offset": (
        "offset.json",
        hostile_json(published="0001-01-01T00:00:00+05:00"),
        "1990",
    ),
    "page-dump-3000-years": ("page.txt", PAGE_DUMP_3000_YEARS, "1990"),
    "html-year-1": ("page.html", HTML_YEAR_ONE, "1990"),
    "json-nested-200000": ("deep.json", "[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "json-authors-5": ("authors.json", hostile_json(authors=5), "authors is not a name"),
    "json-huge-integer": ("number.json", '{"title": "x", "text": ' + "9" * 5000 + "}", "JSON"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_cli_run_goes_on_past_one_hostile_file(case: str, tmp_path: Path) -> None:
    name, content, reason = HOSTILE_FILES[case]
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "good.json").write_text(good_json(), encoding="utf-8")
    mode = "wb" if isinstance(content, bytes) else "w"
    with (folder / name).open(mode) as f:
        f.write(content)
    done = cli_run(folder, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    output = (done.stdout + done.stderr).splitlines()
    about = [line for line in output if name in line and reason in line]
    assert len(about) == 1, output  # one line names the bad file and says why
    assert "edition No. 1" in done.stdout
    md = (tmp_path / "site" / DAY.isoformat() / "briefing.md").read_text(encoding="utf-8")
    assert "Council approves new harbour budget for spring" in md


def rss(pub_date: str) -> bytes:
    return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Courier</title>
<link>https://courier.example/</link>
<item><title>Ferry crews vote to strike</title><link>https://courier.example/ferry</link>
<guid>ferry-1</guid><pubDate>{pub_date}</pubDate><description>{LONG_TEXT}</description></item>
<item><title>Valley rail line reopens</title><link>https://courier.example/rail</link>
<guid>rail-1</guid><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate>
<description>{GOOD_TEXT.replace("harbour budget", "rail line")}</description></item>
</channel></rss>""".encode()


def atom(published: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour Gazette</title>
<id>urn:gazette</id><updated>2026-03-02T08:00:00Z</updated>
<entry><title>Ferry crews vote to strike</title><id>urn:ferry</id>
<link href="https://gazette.example/ferry"/><published>{published}</published>
<updated>{published}</updated><content type="text">{LONG_TEXT}</content></entry>
</feed>""".encode()


FEEDS = {
    "rss-year-1": (rss("Mon, 01 Jan 0001 00:00:00 GMT"), "application/rss+xml"),
    "rss-1989": (rss("Fri, 01 Dec 1989 10:00:00 GMT"), "application/rss+xml"),
    "rss-next-year": (rss("Tue, 02 Mar 2027 08:00:00 GMT"), "application/rss+xml"),
    "atom-year-1": (atom("0001-01-01T00:00:00Z"), "application/atom+xml"),
    "atom-year-10000": (atom("9999-12-31T23:59:59-05:00"), "application/atom+xml"),
}


@pytest.mark.parametrize("case", sorted(FEEDS))
def test_a_feed_entry_with_an_implausible_date_is_kept_undated(
    case: str,
    http_server: LoopbackServer,
    make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, kind = FEEDS[case]
    url = http_server.route("/feed", Reply(body=body, headers={"Content-Type": kind}))
    settings = replace(
        make_settings("fetch.allow_private_addresses=true", "fetch.extract_teasers=false"),
        sources=(SourceSpec(name="courier", kind="feed", location=url),),
    )
    with caplog.at_level(logging.WARNING):
        report = run(settings)
    assert report.outputs  # the edition is published
    lines = [w for w in warnings(caplog) if "Ferry crews vote to strike" in w]
    assert len(lines) == 1, warnings(caplog)
    assert "courier" in lines[0]
    assert "kept undated" in lines[0]
    articles = stored(settings)
    assert articles["Ferry crews vote to strike"][1] == 0  # undated ("time unknown")
    assert "Ferry crews vote to strike" in briefing_md(settings)


def test_a_plausible_date_is_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "a.json"
    path.write_text(hostile_json(published="1990-01-02T00:00:00Z"), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        (item,) = read_dump(path, source="a", outlet=None, captured_at=None, now=NOW)
    assert item.published == datetime(1990, 1, 2, tzinfo=UTC)
    assert normalize(item).dated


def test_a_sidecar_capture_time_of_year_1_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "good.json").write_text(good_json(), encoding="utf-8")
    (folder / "page.txt").write_text(PAGE_DUMP_3000_YEARS.replace("3000", "2"), encoding="utf-8")
    (folder / "page.txt.meta.json").write_text('{"captured_at": "0001-01-01T00:00:00+05:00"}')
    done = cli_run(folder, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    about = [line for line in done.stdout.splitlines() if "page.txt" in line]
    assert len(about) == 1
    assert "implausible captured_at in sidecar (before 1990)" in about[0]


# ── item 6: dump files ───────────────────────────────────────────────────────────────────

MENU_HTML = """<!doctype html><html><head><title>Harbour Courier - Home</title></head><body>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<main><h1>Harbour Courier - Home</h1><p>Welcome to the Harbour Courier.</p>
<p>News, sport and weather from the coast.</p></main></body></html>"""


def test_an_html_dump_with_no_article_text_is_not_an_article(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "good.json").write_text(good_json(), encoding="utf-8")
    (folder / "menu.html").write_text(MENU_HTML, encoding="utf-8")
    done = cli_run(folder, tmp_path)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if "menu.html" in line)
    assert "error" in line
    assert "no article found in the page" in line
    md = (tmp_path / "site" / DAY.isoformat() / "briefing.md").read_text(encoding="utf-8")
    assert "Welcome to the Harbour Courier" not in md
    assert "Council approves new harbour budget" in md


def test_symlink_loops_are_skipped_with_one_line_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "dumps"
    (root / "sub").mkdir(parents=True)
    (root / "good.json").write_text(good_json(), encoding="utf-8")
    (root / "sub" / "up").symlink_to(root)  # a folder that contains itself
    (root / "a.json").symlink_to(root / "b.json")
    (root / "b.json").symlink_to(root / "a.json")  # a -> b -> a
    with caplog.at_level(logging.WARNING):
        files = list_dump_files(root)
    assert files == (root / "good.json",)
    lines = warnings(caplog)
    assert len(lines) == 3, lines
    assert sum("sub/up: symlink loop" in w for w in lines) == 1
    assert sum("a.json: symlink loop" in w for w in lines) == 1
    assert sum("b.json: symlink loop" in w for w in lines) == 1


NO_READ_ANYWHERE = "-dac_override,-dac_read_search"  # what lets root read a mode-000 folder


def test_an_unreadable_sub_folder_is_skipped_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    (folder / "locked").mkdir(parents=True)
    (folder / "good.json").write_text(good_json(), encoding="utf-8")
    (folder / "locked" / "other.json").write_text(good_json("Never read"), encoding="utf-8")
    (folder / "locked").chmod(0o000)
    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads every folder: run the CLI without that capability
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: no folder is unreadable")
        prefix = ["setpriv", f"--inh-caps={NO_READ_ANYWHERE}", f"--bounding-set={NO_READ_ANYWHERE}"]
    store = ["--db", str(tmp_path / "d.sqlite3"), "--output", str(tmp_path / "site")]
    when = ["--date", str(DAY), "--now", NOW.isoformat()]
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "digest", "run", str(folder), *when, *store],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
            check=False,
        )
    finally:
        (folder / "locked").chmod(0o755)
    assert done.returncode == 0, done.stderr
    about = [line for line in (done.stdout + done.stderr).splitlines() if "locked" in line]
    assert len(about) == 1, done.stdout + done.stderr
    assert "cannot read the folder (PermissionError" in about[0]
    assert "edition No. 1" in done.stdout


@pytest.mark.parametrize(
    ("codec", "suffix"),
    [("utf-16-le", ".json"), ("utf-16-be", ".txt"), ("utf-32-le", ".json"), ("utf-16-le", ".html")],
)
def test_utf16_and_utf32_text_with_a_bom_is_read(tmp_path: Path, codec: str, suffix: str) -> None:
    text = {
        ".json": hostile_json(title="Fähren: Streik ab Donnerstag"),
        ".txt": "Fähren: Streik ab Donnerstag\n\n" + LONG_TEXT,
        ".html": HTML_YEAR_ONE.replace("0001-01-01", "2026-03-02").replace(
            "Ferry crews vote to strike", "Fähren: Streik ab Donnerstag"
        ),
    }[suffix]
    path = tmp_path / f"article{suffix}"
    path.write_bytes("\ufeff".encode(codec) + text.encode(codec))
    (item,) = read_dump(path, source="a", outlet="Wire", captured_at=None, now=NOW)
    assert item.title == "Fähren: Streik ab Donnerstag"
    assert "Ferry crews in Fenmouth" in item.text


def test_a_file_over_the_size_cap_is_skipped_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "good.json").write_text(good_json(), encoding="utf-8")
    big = hostile_json(text=LONG_TEXT * 400)  # ~70 kB
    (folder / "big.json").write_text(big, encoding="utf-8")
    done = cli_run(folder, tmp_path, "--set", "inputs.max_file_bytes=20000")
    assert done.returncode == 0, done.stderr
    about = [line for line in done.stdout.splitlines() if "big.json" in line]
    assert len(about) == 1
    assert f"file too large ({len(big)} bytes, limit 20000" in about[0]
    assert "Council approves new harbour budget" in (
        tmp_path / "site" / DAY.isoformat() / "briefing.md"
    ).read_text(encoding="utf-8")


def test_one_huge_article_is_cut_at_the_documented_cap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paragraph = "Ferry crews in Fenmouth voted to strike from Thursday over rotas and pay. " * 10
    path = tmp_path / "huge.txt"
    path.write_text("Ferry crews vote to strike\n\n" + "\n\n".join([paragraph] * 3000))
    assert path.stat().st_size > 2_000_000
    with caplog.at_level(logging.WARNING):
        (item,) = read_dump(path, source="huge", outlet="Wire", captured_at=None, now=NOW)
    assert len(item.text) <= MAX_ARTICLE_CHARS
    assert item.text.endswith("pay.")  # cut at a paragraph break, not mid-word
    assert [w for w in warnings(caplog) if "huge.txt" in w] == [
        f"{path}: article 'Ferry crews vote to strike' is longer than {MAX_ARTICLE_CHARS}"
        " characters; its text is cut there"
    ]
    feed_item = RawItem(
        source="feed",
        outlet="Wire",
        origin="x",
        url=None,
        title="t",
        text=paragraph * 3000,
        published=None,
        fetched_at=NOW,
    )
    assert len(normalize(feed_item).text) <= MAX_ARTICLE_CHARS  # every source, not just dumps


HOSTILE_NAMES = {
    "newline": ("two\nlines.json", "two\\nlines.json"),
    "escape": ("red\x1b[31m\x1b]0;owned\x07.json", "red\\x1b[31m\\x1b]0;owned\\x07.json"),
    "bidi": ("report\u202enosj.json", "report\\u202enosj.json"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_NAMES))
def test_file_names_are_printed_escaped(case: str, tmp_path: Path) -> None:
    raw, shown = HOSTILE_NAMES[case]
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "good.json").write_text(good_json(), encoding="utf-8")
    (folder / raw).write_text(hostile_json(text=""), encoding="utf-8")  # a failing file
    done = cli_run(folder, tmp_path)
    assert done.returncode == 0, done.stderr
    everything = done.stdout + done.stderr
    assert "\x1b" not in everything
    assert "\u202e" not in everything
    assert "\x07" not in everything
    about = [line for line in everything.splitlines() if shown in line]
    assert about, everything
    assert all(line.endswith(("new, 0 seen", shown)) or "error" in line for line in about)


# ── item 8: injection ────────────────────────────────────────────────────────────────────


def test_bidi_controls_never_reach_titles_outlets_authors_or_text(
    http_server: LoopbackServer, make_settings: SettingsFactory
) -> None:
    body = f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Harbour\u202e Courier</title><link>https://courier.example/</link>
<item><title>Invoice attached: report\u202eGNP.exe for the port</title>
<link>https://courier.example/invoice</link><guid>inv-1</guid>
<author>x@courier.example (Mara\u2067 Okonkwo\u2069)</author>
<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate>
<description>{BIDI.join(LONG_TEXT.split(" "))}</description></item></channel></rss>"""
    url = http_server.route(
        "/feed.rss", Reply(body=body.encode(), headers={"Content-Type": "application/rss+xml"})
    )
    settings = replace(
        make_settings("fetch.allow_private_addresses=true", "fetch.extract_teasers=false"),
        sources=(SourceSpec(name="courier", kind="feed", location=url),),
    )
    report = run(settings)
    assert report.outputs
    with Store(settings.store.path) as store:
        rows = store.db.execute("SELECT title, outlet, text, authors FROM articles").fetchall()
    assert rows
    for row in rows:
        for value in row:
            assert not set(BIDI) & set(str(value)), value
    assert rows[0][:2] == ("Invoice attached: reportGNP.exe for the port", "Harbour Courier")
    published = [p.read_text(encoding="utf-8") for p in report.outputs if p.suffix != ".svg"]
    assert all("\u202e" not in page for page in published)


def test_bidi_controls_are_stripped_from_dump_articles(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        hostile_json(title="Budget\u202egnp.exe", outlet="Wire\u2066", authors=["Ann\u200f Lee"]),
        encoding="utf-8",
    )
    (item,) = read_dump(path, source="a", outlet=None, captured_at=None, now=NOW)
    article = normalize(item)
    assert (article.title, article.outlet, article.authors) == (
        "Budgetgnp.exe",
        "Wire",
        ("Ann Lee",),
    )


@pytest.mark.parametrize(
    "address",
    [
        "me@example.org\r\nBcc: everyone@example.org",
        "me@example.org\nX-Injected: yes",
        "me@example.org, other@example.org",
        "me@example.org,",
        "not an address",
        "",
    ],
)
def test_send_test_checks_its_address_like_to_addresses(address: str, tmp_path: Path) -> None:
    done = digest_cli(
        "send-test",
        address,
        "--db",
        str(tmp_path / "digest.sqlite3"),
        "--set",
        "email.from_address='digest@example.org'",
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: send-test ADDRESS: not an email address: ")
    assert "\r" not in lines[0]
    refused = digest_cli(
        "config", "--set", f"email.to_addresses=[{json.dumps(address)}]", cwd=tmp_path
    )
    if address:  # the same rule as the setting (an empty entry is left out there)
        assert refused.returncode == 2
        assert "not an email address" in refused.stderr


def test_send_test_takes_a_quoted_name_with_a_comma(tmp_path: Path) -> None:
    done = digest_cli(
        "send-test", '"Doe, Jo" <jo@example.org>', "--db", str(tmp_path / "d.sqlite3"), cwd=tmp_path
    )
    assert "not an email address" not in done.stderr  # it gets as far as the missing sender
