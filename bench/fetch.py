"""Benchmark: fetch + parse + extract throughput and peak memory for live sources.

Serves N generated RSS feeds with M items each on 127.0.0.1 (a separate process; all text is
generated here from a small word list), half the items full text and half teasers whose
linked pages (with navigation, ads and comments) must be fetched and extracted. Then runs
``digest.sources.live.ingest_live`` over all feeds exactly as ``digest run`` would and prints:

* end to end: items/s and wall time for fetch + parse + teaser pages + extraction
* a breakdown: feed fetch, feed parse, page fetch, extraction in-process vs. worker processes
* peak memory: this process's max RSS, the max RSS of any child process (extraction workers,
  and the server), and optionally the Python heap peak (``--tracemalloc``, slower)

Usage: .venv/bin/python bench/fetch.py [--feeds 100] [--items 50] [--teasers 0.5]
It stops by itself (the server is terminated; a watchdog ends a run after --limit seconds).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import signal
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from digest.config_sources import FetchSettings
from digest.models import Fetched, SourceOk, SourceSpec
from digest.sources.feeds import parse_feed
from digest.sources.http import HostLimiter, make_client
from digest.sources.live import _Request, fetch_all, ingest_live
from digest.sources.pages import extract, extract_many, page_doc

NOW = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
_WORD_LIST = (
    "harbour council ferry island bridge market school library storm tide road rail budget"
    " union crew strike dredging fares weather lifeboat quay village mayor report plan vote"
    " repair fishing boats night timetable residents county river farm festival museum pool"
    " hospital clinic nurses teachers pupils builders engineers police court judge company"
    " workers jobs prices fuel winter spring summer autumn north south east west coast hill"
)
WORDS = _WORD_LIST.split()


# ── generated site (served by a child process) ───────────────────────────────────────────


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 22))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def feed_xml(feed: int, items: int, teasers: float) -> bytes:
    rng = random.Random(feed)
    entries = []
    for item in range(items):
        when = (NOW - timedelta(minutes=feed * 7 + item * 13)).strftime(
            "%a, %d %b %Y %H:%M:%S +0000"
        )
        link = f"/page/{feed}/{item}.html"
        if rng.random() < teasers:
            body = escape(sentence(rng)) + " Read more"
        else:
            body = escape("".join(f"<p>{paragraph(rng)}</p>" for _ in range(5)))
        entries.append(
            f"<item><title>{escape(sentence(rng))}</title><link>{link}</link>"
            f"<guid>bench-{feed}-{item}</guid><pubDate>{when}</pubDate>"
            f"<description>{body}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Bench outlet {feed}</title><link>/</link>{''.join(entries)}</channel></rss>"
    ).encode()


def page_html(feed: int, item: int) -> bytes:
    """A news-page-sized document (~60 KB): big menus, scripts, ads, comments, an article."""
    rng = random.Random(feed * 100_003 + item)
    paragraphs = "".join(f"<p>{paragraph(rng, 5)}</p>" for _ in range(8))
    menu = "".join(
        f"<li><a href='/section/{n}'>{rng.choice(WORDS).title()}</a></li>" for n in range(150)
    )
    script = "<script>var config = {" + ",".join(f"k{n}: {n}" for n in range(2500)) + "};</script>"
    comments = "".join(
        f"<div class='comment'><p>COMMENT: {sentence(rng)}</p></div>" for _ in range(20)
    )
    footer = "".join(f"<a href='/about/{n}'>{rng.choice(WORDS)}</a> " for n in range(120))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{sentence(rng)}</title>"
        "<meta property='og:site_name' content='Bench outlet'>"
        f"<meta property='article:published_time' content='{NOW.isoformat()}'>{script}</head>"
        f"<body><header><nav><ul>{menu}</ul></nav></header>"
        "<div class='advert'><p>ADVERT: buy generated paint today</p></div>"
        f"<main><article><h1>{sentence(rng)}</h1>{paragraphs}</article>"
        f"<aside class='related'><ul>{menu[:3000]}</ul></aside>"
        f"<section id='comments'>{comments}</section></main>"
        f"<footer><p>{footer}</p></footer></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms ACK stalls)
    items = 50
    teasers = 0.5

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        parts = self.path.strip("/").removesuffix(".html").removesuffix(".rss").split("/")
        if parts[0] == "feed":
            body, kind = feed_xml(int(parts[1]), self.items, self.teasers), "application/rss+xml"
        else:
            body, kind = page_html(int(parts[1]), int(parts[2])), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(port_queue: multiprocessing.Queue, items: int, teasers: float) -> None:
    _Handler.items, _Handler.teasers = items, teasers
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


# ── measurements ─────────────────────────────────────────────────────────────────────────


def settings_for(args: argparse.Namespace) -> FetchSettings:
    return FetchSettings(
        allow_private_addresses=True,
        concurrency=args.concurrency,
        per_host_concurrency=args.concurrency,  # one host serves every feed here
        max_pages_per_source=args.items,
        extract_workers=args.workers,
    )


def end_to_end(base: str, args: argparse.Namespace) -> tuple[int, int, float]:
    specs = [
        SourceSpec(name=f"feed-{n}", kind="feed", location=f"{base}/feed/{n}.rss")
        for n in range(args.feeds)
    ]
    started = time.perf_counter()
    results = ingest_live(specs, now=NOW, settings=settings_for(args), states={})
    elapsed = time.perf_counter() - started
    ok = [r.value for r in results.values() if isinstance(r.value, SourceOk)]
    items = sum(len(v.items) for v in ok)
    long_items = sum(1 for v in ok for i in v.items if len(i.text.split()) >= 80)
    return items, long_items, elapsed


def breakdown(base: str, args: argparse.Namespace) -> None:
    settings = settings_for(args)
    limiter = HostLimiter(settings.per_host_concurrency)
    feeds = [
        _Request(url=f"{base}/feed/{n}.rss", validators=None, subject=f"feed {n}")
        for n in range(args.feeds)
    ]
    pages = [
        _Request(url=f"{base}/page/{n}/{i}.html", validators=None, subject=f"page {n}/{i}")
        for n in range(args.feeds)
        for i in range(int(args.items * args.teasers))
    ]
    with make_client(settings) as client:
        t0 = time.perf_counter()
        bodies = [
            f for f in fetch_all(client, limiter, feeds, settings, "") if isinstance(f, Fetched)
        ]
        t1 = time.perf_counter()
        spec = SourceSpec(name="b", kind="feed", location=base)
        parsed = sum(len(parse_feed(spec, f, now=NOW, subject="b")) for f in bodies)
        t2 = time.perf_counter()
        fetched = [
            f for f in fetch_all(client, limiter, pages, settings, "") if isinstance(f, Fetched)
        ]
        t3 = time.perf_counter()
    docs = [page_doc(f) for f in fetched]
    sample = docs[: max(len(docs) // 5, 1)]
    t4 = time.perf_counter()
    for doc in sample:
        extract(doc)
    t5 = time.perf_counter()
    extract_many(docs, workers=2, pool_min=2, timeout_seconds=60.0, max_bytes=10**9)
    t6 = time.perf_counter()
    row("feed fetch", len(bodies), "feeds", t1 - t0)
    row("feed parse", parsed, "items", t2 - t1)
    row("page fetch", len(fetched), "pages", t3 - t2)
    row("extract, in-process", len(sample), "pages", t5 - t4)
    row("extract, 2 workers", len(docs), "pages", t6 - t5)


def burn(n: int) -> float:
    started, total = time.perf_counter(), 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - started


def cpu_check() -> None:
    """How much two CPU-bound processes get done compared with one (2.0 = two real cores)."""
    n = 10_000_000
    one = burn(n)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        times = pool.map(burn, [n, n], chunksize=1)  # each timed inside its own process
    print(f"  cpu check: two processes at once do {2 * one / max(times):.2f}x the work of one")


def row(label: str, count: int, unit: str, seconds: float) -> None:
    print(f"  {label:<20} {count:6d} {unit}  {seconds:7.2f} s  {count / seconds:8.1f} {unit}/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--teasers", type=float, default=0.5, help="share of teaser-only items")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="extraction processes (1: none)")
    parser.add_argument("--limit", type=int, default=900, help="watchdog: stop after this many s")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report the Python heap peak"
    )
    parser.add_argument("--no-breakdown", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"stopped by the {args.limit} s watchdog"))
    signal.alarm(args.limit)

    context = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = context.Queue()
    server = context.Process(target=serve, args=(ports, args.items, args.teasers), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=30)}"
        print(
            f"digest fetch benchmark: {args.feeds} feeds x {args.items} items, "
            f"{args.teasers:.0%} teasers, concurrency {args.concurrency},"
            f" {args.workers} extraction worker(s), {os.cpu_count()} CPUs"
        )
        if args.tracemalloc:
            tracemalloc.start()
        items, long_items, elapsed = end_to_end(base, args)
        heap = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        tracemalloc.stop()
        print(
            f"end to end: {items} items ({long_items} with 80+ words) in {elapsed:.2f} s = "
            f"{items / elapsed:.1f} items/s"
        )
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: this process {self_rss:.0f} MiB", end="")
        if heap is not None:
            print(f"; Python heap peak {heap / 2**20:.0f} MiB", end="")
        print()
        if not args.no_breakdown:
            print("breakdown (separate passes):")
            breakdown(base, args)
            cpu_check()
    finally:
        server.terminate()
        server.join(10)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of any child process (extraction workers, server): {children:.0f} MiB")


if __name__ == "__main__":
    main()
