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
}


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
@pytest.mark.parametrize("page_name", PAGES, ids=str)
def test_pages_render_cleanly(browser, server: str, page_name: str, viewport: str) -> None:
    path, selectors = PAGES[page_name]
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height})
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
    page.screenshot(path=str(ARTIFACTS / f"{page_name}-{viewport}.png"), full_page=True)
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
    assert page.get_by_text("New since the last edition:").is_visible()
    assert (errors, requests) == ([], [])
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
