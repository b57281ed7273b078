"""Benchmark: `digest worker`s on a PostgreSQL store, 1, 2 and 4 of them, against generated
feeds on 127.0.0.1, and a growth run (consecutive rounds into one store).

    python -m bench.scale                               # both profiles, 1/2/4 workers, growth
    python -m bench.scale --feeds 60 --latency 0.3      # network-bound: 300 ms per response
    python -m bench.scale --profile extract             # extraction-bound: teasers + pages
    python -m bench.scale --growth 30 --workers 1 2     # 30 rounds into one store

Each measurement starts a throwaway PostgreSQL cluster (tests/pgserver.py; Debian's
postgresql-15), serves ``--feeds`` generated RSS feeds (bench/fetch.py's generator, in a child
process, with ``--latency`` seconds before every response), runs ``digest round`` and N
``digest worker --until-idle`` subprocesses, and prints per worker count:

* wall time of the round (fetch + cluster + publish; the workers are up before it starts),
  feeds/s and articles/s
* refetches: feed requests beyond one per feed (a retried job fetches again)
* queue wait p50/p95: from a fetch job's deferral to its start (procrastinate's events)
* the workers' peak RSS

* db %: the database's share of the workers' time in jobs (each job logs its time and the
  time its store queries took, client-side: round trip included; summed over all jobs)

The growth run serves new items every round (the feeds' items shift with the round number)
and prints per round: wall time, articles stored so far and the workers' peak RSS.
Everything stops by itself; the cluster is removed at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import fetch as generator

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-03-02T22:00:00+00:00"


class _Handler(generator._Handler):
    latency = 0.0
    counts: Any = None  # multiprocessing.Array: feed requests, page requests
    round_no: Any = None  # multiprocessing.Value: shifts the items of every feed

    def do_GET(self) -> None:
        time.sleep(self.latency)
        kind = 0 if self.path.startswith("/feed/") else 1
        with self.counts.get_lock():
            self.counts[kind] += 1
        if kind == 0:
            feed = int(self.path.strip("/").removesuffix(".rss").split("/")[1])
            shifted = feed + 1000 * int(self.round_no.value)
            body = generator.feed_xml(shifted, self.items, self.teasers)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def _serve(
    port_queue: Any, items: int, teasers: float, latency: float, counts: Any, round_no: Any
) -> None:
    _Handler.items, _Handler.teasers, _Handler.latency = items, teasers, latency
    _Handler.counts, _Handler.round_no = counts, round_no
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _config(folder: Path, port: int, feeds: int, items: int) -> Path:
    sources = "".join(
        f'[[sources]]\nname = "feed-{n}"\nkind = "feed"\nurl = "http://127.0.0.1:{port}/feed/{n}.rss"\n'
        for n in range(feeds)
    )
    path = folder / "digest.toml"
    path.write_text(
        '[inputs]\ndump_dirs = []\n[store]\npath = "var/digest.sqlite3"\n[output]\n'
        'dir = "out"\n[fetch]\nallow_private_addresses = true\nread_timeout_seconds = 30.0\n'
        f"total_timeout_seconds = 120.0\nmax_pages_per_source = {items}\n"
        # every feed is on 127.0.0.1: per-host politeness (one lane per allowed request)
        # would otherwise cap the workers at 2 fetch jobs at once
        "per_host_concurrency = 64\n" + sources,
        encoding="utf-8",
    )
    return path


def _env(config: Path, url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DIGEST_CONFIG": str(config),
        "DIGEST_STORE__URL": url,
    }


_JOB_LINE = re.compile(r"job digest\.\w+ took ([\d.]+) s, database ([\d.]+) s")


def _db_share(logs: list[Path]) -> float:
    """The database's share of the workers' job time, from their logs (0..1)."""
    job = db = 0.0
    for path in logs:
        for m in _JOB_LINE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            job, db = job + float(m[1]), db + float(m[2])
    return db / job if job else 0.0


def _round(env: dict[str, str], workers: int, now: str, url: str) -> tuple[float, list[int], float]:
    """One round on ``workers`` running workers (started first, so their start-up is not
    timed): (seconds from the round's start to its edition, each worker's peak RSS in KB,
    the database's share of their job time)."""
    folder = Path(env["DIGEST_CONFIG"]).parent
    logs = [folder / f"worker-{now[:13]}-{n}.log" for n in range(workers)]
    children = []
    for path in logs:
        with path.open("wb") as log:
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "digest", "worker", "--keep-jobs"],
                    env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log,
                )
            )  # fmt: skip
    try:
        _wait_for_workers(url, workers)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "digest", "round", "--now", now, "--date", now[:10],
             "--wait", "900"],
            env=env, cwd=REPO, check=True, capture_output=True, timeout=1000,
        )  # fmt: skip
        wall = time.perf_counter() - started
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
    peaks = []
    for child in children:
        _pid, _status, usage = os.wait4(child.pid, 0)
        child.returncode = 0
        peaks.append(int(usage.ru_maxrss))
    return wall, peaks, _db_share(logs)


def _wait_for_workers(url: str, workers: int) -> None:
    import psycopg

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url) as db:
                row = db.execute("SELECT COUNT(*) FROM procrastinate_workers").fetchone()
            if row and row[0] >= workers:
                return
        except psycopg.Error:
            pass  # the first worker is still creating the tables
        time.sleep(0.2)
    raise RuntimeError("the workers did not start")


def _queue_waits(url: str) -> list[float]:
    import psycopg

    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT EXTRACT(EPOCH FROM MIN(s.at) - MIN(d.at)) FROM procrastinate_events d"
            " JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started'"
            " WHERE d.type = 'deferred' GROUP BY d.job_id"
        ).fetchall()
    return sorted(float(r[0]) for r in rows)


def _articles(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as db:
        row = db.execute("SELECT COUNT(*) FROM articles").fetchone()
    return int(row[0]) if row else 0


def _start_site(args: argparse.Namespace, teasers: float) -> tuple[Any, int, Any, Any]:
    ctx = multiprocessing.get_context("spawn")
    counts, round_no, ports = ctx.Array("i", 2), ctx.Value("i", 0), ctx.Queue()
    server = ctx.Process(
        target=_serve,
        args=(ports, args.items, teasers, args.latency, counts, round_no),
        daemon=True,
    )
    server.start()
    return server, ports.get(timeout=30), counts, round_no


def scaling(args: argparse.Namespace, pg: Any, profile: str) -> None:
    teasers = 0.5 if profile == "extract" else 0.0
    print(
        f"\n{profile}: {args.feeds} feeds x {args.items} items, {args.latency * 1000:g} ms per"
        f" response, teasers {teasers:g}"
    )
    print(f"{'workers':>7} {'wall s':>7} {'feeds/s':>8} {'articles/s':>10} {'refetches':>9}"
          f" {'wait p50':>8} {'wait p95':>8} {'db %':>5} {'peak MB':>8}")  # fmt: skip
    for workers in args.workers:
        server, port, counts, _round_no = _start_site(args, teasers)
        try:
            url = pg.new_database()
            with tempfile.TemporaryDirectory() as folder:
                env = _env(_config(Path(folder), port, args.feeds, args.items), url)
                wall, peaks, share = _round(env, workers, NOW, url)
            waits = _queue_waits(url)
            articles = _articles(url)
            p50 = statistics.median(waits) if waits else 0.0
            p95 = waits[int(0.95 * (len(waits) - 1))] if waits else 0.0
            print(
                f"{workers:>7} {wall:>7.1f} {args.feeds / wall:>8.1f} {articles / wall:>10.1f}"
                f" {counts[0] - args.feeds:>9} {p50:>8.2f} {p95:>8.2f} {share * 100:>5.1f}"
                f" {max(peaks) / 1024:>8.0f}"
            )
        finally:
            server.terminate()
            server.join(5)


def growth(args: argparse.Namespace, pg: Any) -> None:
    workers = args.workers[-1]
    print(f"\ngrowth: {args.growth} rounds into one store, {workers} workers, new items each")
    print(f"{'round':>5} {'wall s':>7} {'articles':>9} {'db %':>5} {'peak MB':>8}")
    server, port, _counts, round_no = _start_site(args, 0.0)
    try:
        url = pg.new_database()
        with tempfile.TemporaryDirectory() as folder:
            env = _env(_config(Path(folder), port, args.feeds, args.items), url)
            for n in range(args.growth):
                round_no.value = n
                now = f"2026-03-{2 + n // 24:02d}T{n % 24:02d}:00:00+00:00"
                wall, peaks, share = _round(env, workers, now, url)
                print(
                    f"{n + 1:>5} {wall:>7.1f} {_articles(url):>9} {share * 100:>5.1f}"
                    f" {max(peaks) / 1024:>8.0f}"
                )
    finally:
        server.terminate()
        server.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per response")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--profile", choices=["network", "extract", "both"], default="both")
    parser.add_argument("--growth", type=int, default=10, help="rounds in the growth run (0: none)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.pgserver import start_server

    pg = start_server()
    try:
        for profile in ("network", "extract"):
            if args.profile in (profile, "both"):
                scaling(args, pg, profile)
        if args.growth:
            growth(args, pg)
    finally:
        pg.stop()
        import shutil

        shutil.rmtree(pg.root, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis process peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
