"""Benchmark: what hostile servers cost a run (seconds held, peak memory), issue #13.

A server on 127.0.0.1 (a separate process, so its memory is not counted) answers:

* ``/drip-headers``: a status line, then a header line one byte every 0.5 s, for ``--drip`` s
* ``/drip-body``: the headers at once, then the body one byte every 0.5 s, for ``--drip`` s
* ``/bomb-N``: 1 GB of zeros, gzip-compressed (about 1 MB on the wire)
* ``/flat``: a flat page of ``--page-mb`` MB (one long run of ``<div>`` lines, no structure)

Each case runs in a fresh child process, so its peak RSS is its own, and prints one line:

* baseline: the peak RSS of a child that only imports digest (the floor of the others)
* drip-headers / drip-body: seconds one fetch was held, with ``total_timeout_seconds`` =
  ``--deadline``
* bombs: peak RSS for ``--bombs`` bombs fetched at once (``concurrency`` = that many)
* extract-flat: seconds and peak RSS to fetch and extract the flat page as a ``page`` source
  (``ingest_live``, with the default extraction settings; ``--extract-mb`` raises
  ``extract_max_bytes`` so the page reaches the extractor and meets its deadline,
  ``--extract-seconds``)

Peak RSS is the case's own process (``ru_maxrss``) and, sampled every 20 ms from /proc, the
process with all its descendants (the extraction workers).

Usage: .venv/bin/python -m bench.hostile [--deadline 5] [--drip 30] [--bombs 8] [--page-mb 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import threading
import time
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from digest.config_sources import FetchSettings
from digest.errors import SourceError
from digest.models import SourceSpec
from digest.sources.http import HostLimiter, make_client
from digest.sources.live import _Request, fetch_all, ingest_live

NOW = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
CASES = ("baseline", "drip-headers", "drip-body", "bombs", "extract-flat")


# ── the hostile server (a child process) ─────────────────────────────────────────────────


def bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * 64_000_000
    return b"".join(packer.compress(block) for _ in range(16)) + packer.flush()


def flat_page(megabytes: float) -> bytes:
    words = "harbour council ferry island bridge market school library storm tide".split()
    paragraph = " ".join(words[i % len(words)] for i in range(60)).capitalize() + "."
    body = f"<div>{paragraph}</div>\n" * int(megabytes * 1_000_000 / (len(paragraph) + 12))
    return f"<html><head><title>Flat</title></head><body>{body}</body></html>".encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bomb = b""
    page = b""
    drip = 30.0

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        try:
            if self.path.startswith("/drip-"):
                self._drip(headers=self.path == "/drip-headers")
            elif self.path.startswith("/bomb"):
                self._send(self.bomb, {"Content-Encoding": "gzip"})
            else:
                self._send(self.page, {"Content-Type": "text/html; charset=utf-8"})
        except OSError:
            return  # the client gave up: that is the point

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, *, headers: bool) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        if not headers:
            self.wfile.write(b"Content-Type: application/rss+xml\r\n")
            self.wfile.write(b"Content-Length: 100000\r\n\r\n")
        self.wfile.write(b"X-Drip: " if headers else b"")
        started = time.monotonic()
        while time.monotonic() - started < self.drip:
            self.wfile.write(b"a" if headers else b"<")
            self.wfile.flush()
            time.sleep(0.5)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (size cap, deadline) are the point; anything else is loud."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def serve(ports: multiprocessing.Queue, drip: float, page_mb: float) -> None:
    Handler.bomb, Handler.page, Handler.drip = bomb(), flat_page(page_mb), drip
    httpd = Server(("127.0.0.1", 0), Handler)
    ports.put(httpd.server_address[1])
    httpd.serve_forever()


# ── the cases (each in its own process) ──────────────────────────────────────────────────


def settings_for(args: argparse.Namespace, **changes: object) -> FetchSettings:
    """The fetch settings of a case (keys this checkout does not have are left out, so the
    same script measures older code)."""
    changes = {k: v for k, v in changes.items() if k in FetchSettings.__dataclass_fields__}
    return FetchSettings(
        allow_private_addresses=True,
        total_timeout_seconds=args.deadline,
        **changes,  # type: ignore[arg-type]
    )


def fetch_many(base: str, paths: list[str], settings: FetchSettings) -> list[str]:
    requests = [_Request(url=base + p, validators=None, subject=f"feed {p}") for p in paths]
    with make_client(settings) as client:
        done = fetch_all(client, HostLimiter(len(paths)), requests, settings, "bench")
    return [str(d) if isinstance(d, SourceError) else f"{len(d.body)} bytes" for d in done]


def tree_rss_mb(root: int) -> float:
    """The resident memory of ``root`` and all its descendants (extraction workers are the
    fork server's children, which ``RUSAGE_CHILDREN`` does not see), from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], rss[pid] = int(fields[1]), int(fields[21]) * resource.getpagesize()
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 2**20


class TreeSampler(threading.Thread):
    """The highest ``tree_rss_mb`` seen, sampled every 20 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))


def run_case(case: str, base: str, args: argparse.Namespace) -> dict[str, object]:
    sampler = TreeSampler()
    sampler.start()
    started = time.monotonic()
    if case == "baseline":
        outcome = ["imports only"]
    elif case.startswith("drip"):
        outcome = fetch_many(base, [f"/{case}"], settings_for(args))
    elif case == "bombs":
        paths = [f"/bomb-{n}" for n in range(args.bombs)]
        settings = settings_for(args, concurrency=args.bombs, per_host_concurrency=args.bombs)
        outcome = fetch_many(base, paths, settings)
    else:
        spec = SourceSpec(name="flat", kind="page", location=base + "/flat")
        changes: dict[str, object] = {"extract_timeout_seconds": args.extract_seconds}
        if args.extract_mb:
            changes["extract_max_bytes"] = int(args.extract_mb * 1e6)
        settings = settings_for(args, **changes)
        results = ingest_live([spec], now=NOW, settings=settings, states={})
        outcome = [str(results["flat"].value)[:120]]
    seconds = time.monotonic() - started
    sampler.done.set()
    sampler.join()
    return {
        "case": case,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_tree_rss_mb": round(sampler.peak),
        "outcome": sorted(set(outcome)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--deadline", type=float, default=5.0, help="total_timeout_seconds")
    parser.add_argument("--drip", type=float, default=30.0, help="seconds a drip lasts")
    parser.add_argument("--bombs", type=int, default=8)
    parser.add_argument("--page-mb", type=float, default=10.0)
    parser.add_argument("--extract-mb", type=float, help="extract_max_bytes, in MB")
    parser.add_argument("--extract-seconds", type=float, default=10.0)
    parser.add_argument("--case", choices=CASES, action="append", help="default: all")
    parser.add_argument("--base", help=argparse.SUPPRESS)  # a child: run --case against it
    args = parser.parse_args()
    if args.base:
        print(json.dumps(run_case(args.case[0], args.base, args)))
        return
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(ports, args.drip, args.page_mb), daemon=True
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=60)}"
        for case in args.case or CASES:
            child = [sys.executable, "-m", "bench.hostile", "--base", base, "--case", case]
            child += ["--deadline", str(args.deadline), "--bombs", str(args.bombs)]
            child += ["--extract-mb", str(args.extract_mb)] if args.extract_mb else []
            child += ["--extract-seconds", str(args.extract_seconds)]
            line = subprocess.run(child, capture_output=True, text=True, check=True).stdout
            got = json.loads(line.strip().splitlines()[-1])
            print(
                f"{got['case']:14} {got['seconds']:7.2f} s  peak RSS {got['peak_rss_mb']:5d} MB"
                f" (with workers {got['peak_tree_rss_mb']:5d} MB)"
                f"  {'; '.join(got['outcome'])}"
            )
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
