"""Our HTML readers against trafilatura alone, on the same pages.

    python -m bench.html                 # 200 generated article pages, best of 3
    python -m bench.html --pages 500 --repeat 5
    python -m bench.html --instructions --pages 40   # counted, not timed (valgrind)

The pages are generated here (``bench.corpus`` texts in a news site's layout: head
metadata, navigation, a teaser sidebar, related links, comments, a footer; one page in
five carries a results table, one in ten lays its body out in a table), so nothing is
downloaded. Three ways of reading each page, timed over all pages:

- trafilatura alone: ``trafilatura.bare_extraction`` with our options (metadata, no
  comments, no tables), on the page's bytes
- dump reader: ``digest.sources.dumps.read_dump`` of the page saved as ``.html``
- page reader: ``digest.sources.pages.extract``, what ``kind = "page"`` sources and feed
  teasers use (a page with a ``<table>`` is also read with its tables)

On a shared machine CPU times of the same code differ by 20-30 % from run to run, more than
the margin the readers are held to (1.1x); ``--instructions`` counts what each reader
executes instead, under valgrind, which gives the same figure whatever else runs.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from bench.corpus import articles

NOW = datetime(2026, 3, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
_NAV = " ".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in
                "world politics business tech science sport culture opinion".split())  # fmt: skip


def _table(rng: random.Random, rows: int) -> str:
    cells = "".join(
        f"<tr><td>Team {rng.randint(1, 99)}</td><td>{rng.randint(0, 40)}</td>"
        f"<td>{rng.randint(0, 40)}</td><td>{rng.randint(0, 90)}</td></tr>"
        for _ in range(rows)
    )
    return f"<table><tr><th>Team</th><th>W</th><th>L</th><th>Pts</th></tr>{cells}</table>"


def page(doc: dict[str, str], others: list[dict[str, str]], rng: random.Random) -> str:
    """One article page in a news site's layout."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in doc["text"].split("\n\n"))
    layout = rng.random()
    if layout < 0.1:  # the body laid out in a table
        body = f"<table><tr><td><h1>{escape(doc['title'])}</h1>{paragraphs}</td></tr></table>"
    else:
        body = f"<h1>{escape(doc['title'])}</h1>{paragraphs}"
        if layout < 0.3:
            body += _table(rng, rng.randint(4, 12))
    teasers = "".join(
        f'<li><a href="{escape(o["url"])}">{escape(o["title"])}</a>'
        f"<p>{escape(o['text'][:140])}</p></li>"
        for o in others
    )
    comments = "".join(
        f'<div class="comment"><b>reader{i}</b><p>{escape(o["text"][:200])}</p></div>'
        for i, o in enumerate(others[:3])
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(doc["title"])} | {escape(doc["outlet"])}</title>
<meta property="og:title" content="{escape(doc["title"])}">
<meta property="og:site_name" content="{escape(doc["outlet"])}">
<meta property="article:published_time" content="{doc["published"]}">
<meta name="author" content="Staff Reporter">
<link rel="canonical" href="{escape(doc["url"])}">
<style>body {{ font-family: serif; }} .nav li {{ display: inline; }}</style>
<script>window.analytics = {{ page: "{escape(doc["url"])}" }};</script>
</head><body>
<header><a href="/">{escape(doc["outlet"])}</a><nav><ul class="nav">{_NAV}</ul></nav></header>
<main><article><div class="byline">By Staff Reporter,
<time datetime="{doc["published"]}">{doc["published"][:10]}</time></div>
{body}
<div class="share"><a href="#">Share</a> <a href="#">Print</a></div></article>
<aside><h2>Most read</h2><ul>{teasers}</ul></aside>
<section class="comments"><h2>Comments</h2>{comments}</section></main>
<footer><p>&copy; 2026 {escape(doc["outlet"])}. All rights reserved.</p>
<ul><li><a href="/about">About</a></li><li><a href="/privacy">Privacy</a></li></ul></footer>
</body></html>
"""


def write_pages(n: int, folder: Path, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    docs = articles(n + 5, seed)
    paths = []
    for i, doc in enumerate(docs[:n]):
        path = folder / f"page{i:04d}.html"
        path.write_text(page(doc, rng.sample(docs, 5), rng), encoding="utf-8")
        paths.append(path)
    return paths


def _best(
    readers: dict[str, Callable[[Path], object]], paths: list[Path], repeat: int
) -> dict[str, float]:
    """Each reader's best CPU time over all pages; the readers take turns (a loaded
    machine slows them alike)."""
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(repeat):
        for name, read in readers.items():
            started = time.process_time()  # CPU time: other processes' load left out
            for path in paths:
                read(path)
            best[name] = min(best[name], time.process_time() - started)
    return best


def _readers() -> dict[str, Callable[[Path], object]]:
    import trafilatura

    from digest.sources.dumps import read_dump
    from digest.sources.pages import _DATE_PARAMS, PageDoc, extract

    def alone(path: Path) -> object:
        return trafilatura.bare_extraction(
            path.read_bytes(),
            url=None,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params=_DATE_PARAMS,
        )

    def dump(path: Path) -> object:
        return read_dump(path, source="bench", outlet=None, captured_at=NOW, now=NOW)

    def page_reader(path: Path) -> object:
        return extract(PageDoc(url=f"https://bench.example/{path.stem}", body=path.read_bytes()))

    return dict(zip(READERS, (alone, dump, page_reader), strict=True))


READERS = ("trafilatura alone", "dump reader", "page reader")


def _child(reader: str, folder: Path, count: int) -> None:
    """Warm every reader on the first page, then read the next ``count`` with ``reader``."""
    readers, paths = _readers(), sorted(folder.glob("page*.html"))
    for read in readers.values():
        read(paths[0])
    for path in paths[1 : 1 + count]:
        readers[reader](path)


def _instructions(reader: str, folder: Path, count: int) -> int:
    """The instructions a child reading ``count`` pages executes (valgrind's callgrind)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += ["-m", "bench.html", "--child", reader, str(folder), str(count)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind: {out.stderr[-300:]}")
    return int(found.group(1))


def _count_instructions(folder: Path, pages: int) -> None:
    """Per reader: the instructions of reading ``pages`` pages, less those of a child that
    only starts and warms up (so imports and caches are left out), in two processes at a
    time."""
    runs = [(reader, n) for reader in READERS for n in (0, pages)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(
            zip(runs, pool.map(lambda r: _instructions(r[0], folder, r[1]), runs), strict=True)
        )
    per = {reader: (counts[reader, pages] - counts[reader, 0]) / pages for reader in READERS}
    base = per["trafilatura alone"]
    print(f"{pages} generated pages, instructions counted by valgrind (callgrind)")
    print(f"{'reader':<20} {'M instr/page':>12} {'vs trafilatura':>15}")
    for name, each in per.items():
        print(f"{name:<20} {each / 1e6:>12.2f} {each / base:>14.3f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="generated pages (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many (default 3)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under valgrind instead of timing (the same on a busy"
        " machine; ~2 minutes for 40 pages)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # reader, folder, count
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_pages(args.pages + 1 if args.instructions else args.pages, Path(tmp))
        if args.instructions:
            _count_instructions(Path(tmp), args.pages)
            return
        readers = _readers()
        for read in readers.values():
            read(paths[0])  # imports and caches warmed
        best = _best(readers, paths, args.repeat)
    base = best["trafilatura alone"]
    print(f"{len(paths)} generated pages, best of {args.repeat}")
    print(f"{'reader':<20} {'CPU s/page':>10} {'vs trafilatura':>15}")
    for name, spent in best.items():
        print(f"{name:<20} {spent / len(paths):>10.4f} {spent / base:>14.2f}x")


if __name__ == "__main__":
    main()
