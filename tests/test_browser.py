"""The published site in a real headless Chromium (Debian's ``chromium``) via Playwright.

Serves output/ from a local http.server on 127.0.0.1, loads the front page, the archive and
an edition at a phone and a desktop width, and checks: no console errors, no request to any
other host, the key elements visible, no sideways scrolling. Screenshots go to
test-artifacts/ (git-ignored). ``make test`` installs Debian's chromium when it is missing.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from digest.config import Settings
from digest.ledger import Ledger
from digest.mailer import email_parts
from digest.pipeline import RunOptions, edition_briefing, run_once
from digest.render import make_environment
from digest.store import Store
from tests.conftest import NOW, REPO
from tests.test_pipeline import BRIDGE, STRIKE_1, STRIKE_2, _jsonl

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
VIEWPORTS = {"phone": (375, 800), "desktop": (1280, 900)}
SCHEMES = ("light", "dark")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Two editions: the samples + a strike, then the strike continuing + a new story."""
    from digest.config import load_settings

    root = tmp_path_factory.mktemp("site")
    settings: Settings = load_settings(
        None,
        environ={},
        overrides=[
            f"store.path='{root / 'digest.sqlite3'}'",
            f"output.dir='{root / 'output'}'",
            "output.timezone='Europe/Berlin'",
        ],
    )
    day1 = _jsonl(root / "in1" / "a.jsonl", _article("Velmora dockers walk out", STRIKE_1, 2))
    day2 = _jsonl(
        root / "in2" / "b.jsonl",
        _article("Velmora strike enters day two", STRIKE_2, 3, outlet="Coast Courier"),
        _article("Trelleby opens Asker bridge", BRIDGE, 3, outlet="Coast Courier"),
    )
    runs = [((REPO / "samples" / "dumps", day1), date(2026, 3, 2), NOW)]
    runs.append(((day2,), date(2026, 3, 3), NOW + timedelta(days=1)))
    for inputs, day, now in runs:
        with Store(settings.store.path) as store:
            run_once(settings, now=now, store=store, options=RunOptions(day=day, inputs=inputs))
    return settings


@pytest.fixture(scope="module")
def site(built: Settings) -> Path:
    return built.output.dir


def _article(title: str, text: str, day: int, *, outlet: str = "Harbour Times") -> dict:
    return {"title": title, "text": text, "outlet": outlet, "published": f"2026-03-0{day}T08:00Z"}


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    yield from _serve(site)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "front": ("index.html", ("h1", ".thread h2", ".attr", ".sources li", ".since")),
    "archive": ("archive.html", ("h1", ".latest h2", ".archive li.entry")),
    "edition": ("2026-03-02/index.html", ("h1", ".thread h2", ".attr", ".sources li")),
    "skim": ("index.html", (".toc li a", ".since-edition", ".fresh-label", ".tag.new")),
}


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
@pytest.mark.parametrize("page_name", PAGES, ids=str)
def test_pages_render_cleanly(
    browser, server: str, page_name: str, viewport: str, scheme: str
) -> None:
    path, selectors = PAGES[page_name]
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    errors: list[str] = []
    hosts: list[str | None] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: hosts.append(urlsplit(r.url).hostname or urlsplit(r.url).scheme))
    response = page.goto(server + path, wait_until="load")
    assert response is not None
    assert response.status == 200
    for selector in selectors:
        assert page.locator(selector).first.is_visible(), f"{selector} not visible on {path}"
    page.locator(".nav a").first.wait_for()
    assert errors == []
    assert set(hosts) - {"data"} == {"127.0.0.1"}  # nothing leaves the machine
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{page_name}-{viewport}-{scheme}.png"), full_page=True)
    page.close()


def test_links_between_pages_work(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "index.html")
    page.get_by_role("link", name="Archive").click()
    assert page.url.endswith("/archive.html")
    page.locator(".archive li.entry a.entry-title").first.click()
    assert page.url.endswith("/2026-03-02/index.html")
    assert "No. 1" in page.locator(".dateline").inner_text()
    page.get_by_role("link", name="Latest").click()
    assert page.url.endswith("/index.html")
    assert "No. 2" in page.locator(".dateline").inner_text()
    page.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_the_email_reads_well(browser, built: Settings, viewport: str) -> None:
    """The HTML part as a mail client would show it: nothing fetched, no errors."""
    with Store(built.store.path) as store:
        edition = Ledger(store).latest_published()
        briefing = edition_briefing(store, built, edition, now=edition.produced_at)
    env = make_environment(built.output.templates_dir)
    parts = email_parts(env, briefing, max_html_bytes=100_000, site_url="https://news.example/")
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.set_content(parts.html, wait_until="load")
    assert page.locator("h2").first.is_visible()
    assert page.get_by_text("New since the last edition:").first.is_visible()
    assert (errors, requests) == ([], [])
    preheader = page.locator(".preheader")
    assert not preheader.is_visible()  # the inbox preview, not part of the message
    headlines = [t.headline for t in briefing.threads]
    assert preheader.inner_text().startswith(" · ".join(headlines[:2]))
    assert page.locator(".toc li a").all_inner_texts() == headlines
    found = marker_contrasts(page)  # the email is light only: clients invert it themselves
    assert set(found) >= {".since-edition", ".since", ".fresh-label", ".summary p.fresh"} - {
        ".summary p.fresh"
    }
    low = {s: round(r, 2) for s, r in found.items() if r < MARKERS[s][1]}
    assert low == {}, low
    bar = contrast(*_bar(page))
    assert bar >= 3.0
    ARTIFACTS.mkdir(exist_ok=True)
    figures = {**found, "p.fresh (bar)": bar}
    (ARTIFACTS / f"contrast-email-{viewport}.txt").write_text(
        "".join(f"{s}\t{r:.2f}\n" for s, r in sorted(figures.items())), encoding="utf-8"
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"email-{viewport}.png"), full_page=True)
    page.close()


# ── a wire-heavy day (#14): copies counted, attribution short ────────────────────────────


@pytest.fixture(scope="module")
def wire_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An edition of the bench corpus on a wire-heavy day (2,000 articles, about half of
    them newswire copies)."""
    from bench.corpus import START, write_dumps
    from digest.config import load_settings

    root = tmp_path_factory.mktemp("wire")
    dumps = write_dumps(2_000, root / "corpus", wire=0.3)
    settings = load_settings(
        None,
        environ={},
        overrides=[f"store.path='{root / 'digest.sqlite3'}'", f"output.dir='{root / 'output'}'"],
    )
    now = START + timedelta(days=2)
    with Store(settings.store.path) as store:
        run_once(
            settings, now=now, store=store, options=RunOptions(day=now.date(), inputs=(dumps,))
        )
    return settings.output.dir


@pytest.fixture(scope="module")
def wire_server(wire_site: Path) -> Iterator[str]:
    yield from _serve(wire_site)


def _serve(root: Path) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


# every .attr's height in lines of its own line height
_ATTRIBUTION_LINES = """
() => Array.from(document.querySelectorAll('.attr')).map(e => {
  const r = e.getBoundingClientRect();
  return [e.textContent.trim(), r.height / parseFloat(getComputedStyle(e).lineHeight)];
})
"""


def test_a_wire_heavy_edition_keeps_every_attribution_on_one_line_on_a_phone(
    browser, wire_server: str
) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(wire_server + "index.html")
    lines = page.evaluate(_ATTRIBUTION_LINES)
    assert len(lines) > 100  # the edition's summaries: 40 threads, 3-5 sentences each
    too_long = [(text, round(n, 2)) for text, n in lines if n >= 1.5]
    assert too_long == [], too_long  # under two lines: one, in fact
    assert any("copies" in text for text, _ in lines)  # copies are counted ...
    assert any(" more" in text for text, _ in lines)  # ... and so are the reports not named
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    carried = page.locator("details.copies summary").first
    assert carried.inner_text().startswith("carried by ")
    assert not page.locator("details.copies li").first.is_visible()  # folded away
    carried.click()
    assert page.locator("details.copies li").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "wire-edition-phone.png"), full_page=False)
    page.close()


# ── the skim layer (#14): index, "new since the last edition", contrast, prev/next ───────

# The colours a reader sees for each marker: its text colour, its left border (the bar
# beside fresh sentences) and the first opaque background behind it.
_COLOURS = """
(selector) => Array.from(document.querySelectorAll(selector)).map(e => {
  let back = 'rgb(255, 255, 255)';
  for (let el = e; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (c && c !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(c)) { back = c; break; }
  }
  const s = getComputedStyle(e);
  return {text: s.color, bar: s.borderLeftColor, back: back, shown: e.offsetParent !== null};
})
"""
# marker -> (what to measure, WCAG AA minimum: 4.5:1 text, 3:1 for the bar, 1.4.11)
MARKERS = {
    ".since-edition": ("text", 4.5),
    ".since": ("text", 4.5),
    ".fresh-label": ("text", 4.5),
    ".summary p.fresh": ("bar", 3.0),
    ".tag.new": ("text", 4.5),
    ".tag.continuing": ("text", 4.5),
    ".badge.new": ("text", 4.5),
    ".badge.continuing": ("text", 4.5),
    ".toc-meta": ("text", 4.5),
    ".basis": ("text", 4.5),
    ".attr": ("text", 4.5),
}


def _rgb(css: str) -> tuple[float, float, float]:
    values = [float(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
    return values[0], values[1], values[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two CSS rgb() colours."""

    def luminance(css: str) -> float:
        def channel(v: float) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in _rgb(css))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _bar(page: object) -> tuple[str, str]:
    """(bar colour, background) of the email's first fresh sentence."""
    (first, *_) = page.evaluate(_COLOURS, "p.fresh")  # type: ignore[attr-defined]
    return first["bar"], first["back"]


def marker_contrasts(page: object) -> dict[str, float]:
    """The lowest contrast of every marker on the page, from its rendered colours."""
    found = {}
    for selector, (what, _) in MARKERS.items():
        colours = [c for c in page.evaluate(_COLOURS, selector) if c["shown"]]  # type: ignore[attr-defined]
        if colours:
            found[selector] = min(contrast(c[what], c["back"]) for c in colours)
    return found


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_every_new_since_marker_passes_wcag_aa(
    browser, server: str, viewport: str, scheme: str
) -> None:
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    page.goto(server + "index.html")  # No. 2: a continuing thread and a new one
    found = marker_contrasts(page)
    assert set(found) >= {".since-edition", ".since", ".fresh-label", ".summary p.fresh"}
    assert set(found) >= {".tag.new", ".tag.continuing", ".badge.new", ".badge.continuing"}
    low = {s: round(r, 2) for s, r in found.items() if r < MARKERS[s][1]}
    assert low == {}, f"below WCAG AA ({scheme}): {low}"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"contrast-{viewport}-{scheme}.txt").write_text(
        "".join(f"{s}\t{r:.2f}\n" for s, r in sorted(found.items())), encoding="utf-8"
    )
    page.close()


def test_new_since_the_last_edition_is_said_in_words(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(server + "index.html")
    since = page.locator(".since-edition")
    assert since.inner_text() == (
        "New since the last edition: 1 new story, 1 continuing story with new reports."
    )
    fresh = page.locator(".summary p.fresh").first
    assert fresh.inner_text().startswith("NEW:")  # a word in the page, not only a bar
    assert "New:" in page.content()  # (upper case by CSS only)
    page.close()


def test_the_index_lists_every_headline_and_leads_to_its_thread(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(server + "index.html")
    items = page.locator(".toc li")
    headlines = page.locator(".thread h2").all_inner_texts()
    assert items.count() == len(headlines) >= 2
    assert [a.inner_text() for a in page.locator(".toc li a").all()] == headlines
    metas = page.locator(".toc-meta").all_inner_texts()
    assert any(m.startswith("CONTINUING · 1 new article · ") for m in metas), metas
    assert any(m.startswith("NEW · ") for m in metas), metas
    assert all(m.endswith(("outlet", "outlets")) for m in metas)
    last = page.locator(".toc li a").last
    target = last.get_attribute("href")
    assert target is not None
    last.click()
    assert page.url.endswith(target)
    box = page.locator(target).bounding_box()
    assert box is not None
    assert 0 <= box["y"] < 800  # the thread is on the screen ...
    assert page.evaluate("window.scrollY") > 0  # ... which moved down to it
    page.close()


def test_a_first_edition_has_no_new_badges(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "2026-03-02/index.html")  # No. 1: every thread is new
    assert page.locator(".toc li").count() >= 2
    for noise in (".badge", ".tag", ".since-edition", ".fresh-label"):
        assert page.locator(noise).count() == 0, noise
    assert "NEW" not in page.locator("main").inner_text()
    page.close()


def test_previous_and_next_editions_link_to_each_other(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(server + "2026-03-02/index.html")
    assert page.locator(".edition-nav a[rel=prev]").count() == 0  # the first edition
    page.locator(".masthead .edition-nav a[rel=next]").click()
    assert page.url.endswith("/2026-03-03/index.html")
    assert "No. 2" in page.locator(".dateline").inner_text()
    assert page.locator(".edition-nav a[rel=next]").count() == 0  # the newest
    page.locator("main > .edition-nav a[rel=prev]").click()  # the one after the stories
    assert page.url.endswith("/2026-03-02/index.html")
    page.goto(server + "index.html")  # the front page is the newest edition
    page.locator(".masthead .edition-nav a[rel=prev]").click()
    assert page.url.endswith("/2026-03-02/index.html")
    page.close()


def test_archive_headlines_lead_to_their_threads(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "archive.html")
    link = page.locator(".archive ul.headlines a").first
    headline = link.inner_text()
    link.click()
    assert "/threads/" in page.url
    assert page.locator("h1").inner_text() == headline  # the thread's own page
    page.close()


# ── a page per thread (#14) ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_a_thread_page_tells_the_story_edition_by_edition(
    browser, server: str, viewport: str, scheme: str
) -> None:
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "index.html")
    strike = page.locator(".thread").first  # No. 2's continuing strike
    headline = strike.locator("h2").inner_text()
    strike.get_by_role("link", name="The story so far, edition by edition").click()
    assert "/threads/" in page.url
    assert page.url.endswith("/index.html")
    assert page.locator("h1").inner_text() == headline
    steps = page.locator(".timeline .step h3")
    assert steps.all_inner_texts() == [
        "No. 2 · Tuesday 3 March 2026",
        "No. 1 · Monday 2 March 2026",
    ]
    outlets = page.locator(".reporters tbody th").all_inner_texts()
    assert outlets == ["Harbour Times", "Coast Courier"]  # by their first report
    assert page.locator('link[rel=alternate][href="feed.xml"]').count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    low = {s: round(r, 2) for s, r in marker_contrasts(page).items() if r < MARKERS[s][1]}
    assert low == {}
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"thread-{viewport}-{scheme}.png"), full_page=True)
    steps.last.locator("a").click()  # back to the first edition, at the thread
    assert "/2026-03-02/index.html#thread-" in page.url
    page.close()
