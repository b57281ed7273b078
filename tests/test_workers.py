"""Distributed runs (digest worker, digest round) on a real PostgreSQL cluster, with worker
subprocesses against the loopback feed server: the same threads as `digest run`, and a
SIGKILLed worker loses nothing and stores nothing twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.store import Store
from digest.store.postgres import PostgresStore
from tests.conftest import REPO
from tests.httpserver import LoopbackServer, Reply

pytestmark = pytest.mark.slow
NOW = "2026-03-02T09:00:00+00:00"
DAY = "2026-03-02"
FEEDS = ("gazette.atom", "full.rss", "aggregator.rss", "rdf.rss", "hosted.rss")


def _config(tmp_path: Path, server: LoopbackServer, feeds: dict[str, str]) -> Path:
    sources = "".join(
        f'\n[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{server.url(path)}"\n'
        for name, path in feeds.items()
    )
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
[inputs]
dump_dirs = []
[store]
path = "var/digest.sqlite3"
[output]
dir = "out"
[fetch]
allow_private_addresses = true
connect_timeout_seconds = 2.0
read_timeout_seconds = 30.0
total_timeout_seconds = 60.0
{sources}""",
        encoding="utf-8",
    )
    return path


def _env(config: Path, url: str | None, out: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DIGEST_CONFIG": str(config)}
    env["DIGEST_OUTPUT__DIR"] = str(config.parent / out)
    if url:
        env["DIGEST_STORE__URL"] = url
    return env


def _digest(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "digest", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """A `digest worker` subprocess; its log goes to worker-N.log beside the config."""
    folder = Path(env["DIGEST_CONFIG"]).parent
    with (folder / f"worker-{len(list(folder.glob('worker-*')))}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "digest", "worker", "--stalled-after", "2", *args],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _logs(tmp_path: Path, tail: int = 2000) -> str:
    return "\n".join(p.read_text(encoding="utf-8")[-tail:] for p in tmp_path.glob("worker-*"))


def _threads(store: Store) -> list[tuple[str, str, tuple[str, ...]]]:
    found = store.threads_where("SELECT id FROM threads", ())
    return sorted((t.id, t.title, t.article_ids) for t in found.values())


def _woken_up(log: str) -> int:
    return log.count("fetched slow") + log.count("slow fetched again after the round moved on")


def _served(server: LoopbackServer) -> dict[str, str]:
    """Source name -> path of each test feed on the loopback server."""
    feeds = {}
    for i, name in enumerate(FEEDS):
        feeds[f"feed-{i}"] = f"/f{i}/{name}"
        server.route(feeds[f"feed-{i}"], Reply(file=f"feeds/{name}"))
    return feeds


def test_two_workers_make_the_same_threads_as_digest_run(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    config = _config(tmp_path, http_server, _served(http_server))
    _digest(_env(config, None, "out-run"), "run", "--now", NOW, "--date", DAY, "--no-email")
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    workers = [_worker(env, "--until-idle", "--name", f"w{i}") for i in range(2)]
    for w in workers:
        assert w.wait(timeout=120) == 0, _logs(tmp_path)
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        assert _threads(pg) == _threads(lite)
        assert len(_threads(pg)) > 3
        lite_counts, pg_counts = lite.counts(), pg.counts()
        assert pg_counts["articles"] == lite_counts["articles"]
        assert pg_counts["seen_keys"] == lite_counts["seen_keys"]
        (state,) = pg.db.execute("SELECT state FROM digest_rounds WHERE id = ?", (round_id,))
        assert state == ("done",)
        assert pg.db.execute("SELECT COUNT(*) FROM digest_intake").fetchone() == (0,)
    assert (tmp_path / "out-workers" / DAY / "briefing.md").is_file()

    # the same threads, in the same order, on the edition
    def headlines(out: str) -> list[str]:
        text = (tmp_path / out / DAY / "briefing.md").read_text(encoding="utf-8")
        return [line for line in text.splitlines() if line.startswith("## ")]

    assert headlines("out-workers") == headlines("out-run")
    # a second round finds nothing new: nothing is stored twice
    _worker_round(env, "2026-03-02T10:00:00+00:00")
    with PostgresStore(pg_url) as pg:
        assert pg.counts()["articles"] == pg_counts["articles"]


def _worker_round(env: dict[str, str], now: str) -> None:
    _digest(env, "round", "--now", now, "--date", DAY)
    worker = _worker(env, "--until-idle")
    assert worker.wait(timeout=120) == 0


def test_a_killed_worker_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    feeds = _served(http_server)
    fast, hang = Reply(file="feeds/teasers.rss"), Reply(file="feeds/teasers.rss", hang_seconds=20)
    http_server.route("/slow.atom", fast, hang, fast)  # digest run, the doomed worker, the rescue
    feeds["slow"] = "/slow.atom"
    config = _config(tmp_path, http_server, feeds)
    _digest(_env(config, None, "out-run"), "run", "--now", NOW, "--date", DAY, "--no-email")
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    doomed = _worker(env, "--queue", "fetch", "--name", "doomed")
    deadline = time.monotonic() + 60
    while sum(seen.path == "/slow.atom" for seen in http_server.log) < 2:
        assert time.monotonic() < deadline, "the worker never asked for the slow feed"
        time.sleep(0.1)
    doomed.send_signal(signal.SIGKILL)  # mid-job: the slow feed's fetch is in flight
    doomed.wait(timeout=10)
    time.sleep(3)  # longer than --stalled-after: its heartbeat is now stale
    rescuer = _worker(env, "--until-idle", "--name", "rescuer")
    deadline = time.monotonic() + 120
    with PostgresStore(pg_url) as pg:
        while True:
            row = pg.db.execute("SELECT state FROM digest_rounds WHERE id = ?", (round_id,))
            if row.fetchone() == ("done",):
                break
            assert time.monotonic() < deadline, "the round never finished"
            time.sleep(0.5)
    assert rescuer.wait(timeout=60) == 0, _logs(tmp_path)
    assert "retrying job" in _logs(tmp_path)  # the killed worker's job, taken over
    assert sum(seen.path == "/slow.atom" for seen in http_server.log) == 3
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        assert _threads(pg) == _threads(lite)  # every article once, every thread intact
        assert pg.counts()["articles"] == lite.counts()["articles"]
        (dupes,) = pg.db.execute(
            "SELECT COUNT(*) FROM (SELECT canonical_url FROM articles"
            " WHERE canonical_url IS NOT NULL GROUP BY canonical_url HAVING COUNT(*) > 1) d"
        ).fetchone()
        assert dupes == 0
        editions = pg.db.execute("SELECT COUNT(*) FROM editions").fetchone()
        assert editions == (1,)


def test_two_daemons_firing_one_slot_make_one_edition(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    """Each daemon defers the slot's round; the round's id is the slot, so the second finds
    it started, and the workers publish one edition for the slot."""
    from datetime import UTC, datetime

    from digest.workers import defer_slot

    config = _config(tmp_path, http_server, _served(http_server))
    env = _env(config, pg_url, "out-workers")
    settings = load_settings(config, environ=env)
    slot = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    now = datetime(2026, 3, 2, 6, 30, 1, tzinfo=UTC)
    assert defer_slot(settings, slot=slot, late=False, now=now) == "slot:2026-03-02T06:30:00+00:00"
    assert defer_slot(settings, slot=slot, late=False, now=now) is None  # the other daemon
    workers = [_worker(env, "--until-idle") for _ in range(2)]
    for w in workers:
        assert w.wait(timeout=120) == 0, _logs(tmp_path)
    with PostgresStore(pg_url) as pg:
        rows = pg.db.execute("SELECT number, scheduled_for FROM editions").fetchall()
        assert rows == [(1, "2026-03-02T06:30:00+00:00")]
        assert pg.counts()["articles"] > 0


def test_a_frozen_worker_is_taken_over_and_changes_nothing_when_it_wakes(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    """SIGSTOP mid-fetch: its heartbeat stops, the other worker retries the job and
    finishes the round; woken (SIGCONT) after the round, it stores nothing."""
    feeds = _served(http_server)
    fast, hang = Reply(file="feeds/teasers.rss"), Reply(file="feeds/teasers.rss", hang_seconds=8)
    http_server.route("/slow.atom", fast, hang, fast)  # digest run, the frozen worker, the rescue
    feeds["slow"] = "/slow.atom"
    config = _config(tmp_path, http_server, feeds)
    _digest(_env(config, None, "out-run"), "run", "--now", NOW, "--date", DAY, "--no-email")
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    frozen = _worker(env, "--queue", "fetch", "--name", "frozen")
    try:
        deadline = time.monotonic() + 60
        while sum(seen.path == "/slow.atom" for seen in http_server.log) < 2:
            assert time.monotonic() < deadline, "the worker never asked for the slow feed"
            time.sleep(0.1)
        frozen.send_signal(signal.SIGSTOP)
        time.sleep(3)  # longer than --stalled-after
        rescuer = _worker(env, "--until-idle", "--name", "rescuer")
        assert rescuer.wait(timeout=120) == 0, _logs(tmp_path)
        with PostgresStore(pg_url) as pg:
            row = pg.db.execute("SELECT state FROM digest_rounds WHERE id = ?", (round_id,))
            assert row.fetchone() == ("done",), _logs(tmp_path)
            counts = pg.counts()
        frozen.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 60
        while _woken_up(_logs(tmp_path, tail=10**6)) < 2:  # the rescue's fetch, then its
            assert time.monotonic() < deadline, _logs(tmp_path)
            time.sleep(0.5)
    finally:
        frozen.send_signal(signal.SIGCONT)
        frozen.kill()
        frozen.wait(timeout=30)
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        assert pg.counts() == counts
        assert _threads(pg) == _threads(lite)
        assert pg.db.execute("SELECT COUNT(*) FROM digest_intake").fetchone() == (0,)
        assert pg.db.execute("SELECT COUNT(*) FROM editions").fetchone() == (1,)


def test_a_second_clustering_writer_for_one_language_stores_and_triggers_nothing(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    """The round's cluster job run again after its commit (a retry whose success was not
    recorded, a second writer): it finds the batch stored and triggers no second publish."""
    from digest.workers import make_app

    config = _config(tmp_path, http_server, _served(http_server))
    _digest(_env(config, None, "out-run"), "run", "--now", NOW, "--date", DAY, "--no-email")
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    workers = [_worker(env, "--until-idle", "--keep-jobs") for _ in range(2)]
    for w in workers:
        assert w.wait(timeout=120) == 0, _logs(tmp_path)
    settings = load_settings(config, environ=env)
    app = make_app(settings)
    with app.open():  # the same job again (its queueing lock is free: the first one is done)
        app.tasks["digest.cluster"].configure(lock="cluster:en").defer(round_id=round_id, lang="en")
    assert _worker(env, "--until-idle", "--keep-jobs").wait(timeout=120) == 0, _logs(tmp_path)
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        assert _threads(pg) == _threads(lite)
        assert pg.counts()["articles"] == lite.counts()["articles"]
        jobs = pg.db.execute(
            "SELECT task_name, COUNT(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
            " AND task_name <> 'digest.fetch' GROUP BY task_name ORDER BY task_name"
        ).fetchall()
        assert jobs == [("digest.cluster", 2), ("digest.publish", 1)]
        assert pg.db.execute("SELECT COUNT(*) FROM editions").fetchone() == (1,)
        (state,) = pg.db.execute("SELECT state FROM digest_rounds WHERE id = ?", (round_id,))
        assert state == ("done",)
        clustered = pg.db.execute("SELECT COUNT(*) FROM runs WHERE status = 'clustered'")
        assert clustered.fetchone() == (1,)


def test_a_clustering_writer_killed_between_plan_and_commit_is_redone_exactly(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    """The cluster job is held just before its commit (the vocabulary's document count is
    its last write: the test holds that row) and SIGKILLed there, with the batch's
    articles and threads written but not committed; the retry redoes exactly that batch."""
    import psycopg

    config = _config(tmp_path, http_server, _served(http_server))
    _digest(_env(config, None, "out-run"), "run", "--now", NOW, "--date", DAY, "--no-email")
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    assert _worker(env, "--until-idle", "--queue", "fetch").wait(timeout=120) == 0
    with psycopg.connect(pg_url) as holder:  # one transaction, rolled back at the end
        holder.execute("INSERT INTO meta (key, value) VALUES ('n_docs', '0')")
        doomed = _worker(env, "--queue", "cluster", "--name", "doomed")
        deadline = time.monotonic() + 60
        while True:
            with psycopg.connect(pg_url, autocommit=True) as probe:
                waiting = probe.execute(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE 'INSERT INTO meta%%'"
                ).fetchone()
            if waiting == (1,):
                break
            assert time.monotonic() < deadline, _logs(tmp_path)
            time.sleep(0.2)
        with psycopg.connect(pg_url, autocommit=True) as probe:  # written, not committed
            assert probe.execute("SELECT COUNT(*) FROM articles").fetchone() == (0,)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        holder.rollback()
    time.sleep(3)  # longer than --stalled-after
    rescuer = _worker(env, "--until-idle", "--name", "rescuer")
    assert rescuer.wait(timeout=120) == 0, _logs(tmp_path)
    assert "retrying job" in _logs(tmp_path, tail=10**6)
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        (state,) = pg.db.execute("SELECT state FROM digest_rounds WHERE id = ?", (round_id,))
        assert state == ("done",)
        assert _threads(pg) == _threads(lite)
        assert pg.counts()["articles"] == lite.counts()["articles"]
        assert pg.counts()["seen_keys"] == lite.counts()["seen_keys"]
        assert pg.vocabulary() == lite.vocabulary()
        assert pg.db.execute("SELECT COUNT(*) FROM editions").fetchone() == (1,)


def test_a_round_fetches_the_due_sources_and_skips_the_others(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    """Each feed's next check is kept in the store: a round fetches the due ones only, and
    `digest sources` says which are not due; `digest round --all` fetches every one."""
    feeds = dict(list(_served(http_server).items())[:2])
    config = _config(tmp_path, http_server, feeds)
    env = _env(config, pg_url, "out-workers")
    _worker_round(env, NOW)  # both new: both fetched, next checks in min_check_minutes
    later = "2026-03-02T09:20:00+00:00"
    with PostgresStore(pg_url) as pg:
        rows = pg.db.execute("SELECT name, next_check_at FROM sources ORDER BY name").fetchall()
        assert [(name, at[:16]) for name, at in rows] == [
            ("feed-0", "2026-03-02T09:15"),
            ("feed-1", "2026-03-02T09:15"),
        ]
        pg.db.execute("UPDATE sources SET next_check_at = ? WHERE name = 'feed-1'", (later,))
    _worker_round(env, "2026-03-02T09:16:00+00:00")
    assert [len(http_server.hits(feeds[n])) for n in ("feed-0", "feed-1")] == [2, 1]
    with PostgresStore(pg_url) as pg:
        (sources,) = pg.db.execute(
            "SELECT sources FROM digest_rounds WHERE now LIKE '2026-03-02T09:16%'"
        ).fetchone()
        assert sources == '["feed-0"]'

    def status(now: str) -> str:
        (line,) = [x for x in _digest(env, "sources", "--now", now).splitlines() if "feed-1" in x]
        return line

    assert "not due" in status("2026-03-02T09:17:00+00:00")
    assert " ok " in status("2026-03-02T09:21:00+00:00")
    _digest(env, "round", "--all", "--now", "2026-03-02T09:18:00+00:00", "--date", DAY)
    assert _worker(env, "--until-idle").wait(timeout=120) == 0
    assert [len(http_server.hits(feeds[n])) for n in ("feed-0", "feed-1")] == [3, 2]


def test_two_workers_never_ask_one_host_twice_at_once(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str
) -> None:
    """Politeness across machines: with per_host_concurrency = 1, two workers fetch two
    hosts (127.0.0.1 and localhost: one server) in parallel, never one host twice at once."""
    feeds = {}
    for i, name in enumerate(FEEDS[:4]):
        path = f"/f{i}/{name}"
        http_server.route(path, Reply(file=f"feeds/{name}", hang_seconds=0.6))
        feeds[f"a-{i}"] = path
        feeds[f"b-{i}"] = path
    config = _config(tmp_path, http_server, {})
    text = config.read_text(encoding="utf-8").replace(
        "[fetch]", "[fetch]\nper_host_concurrency = 1"
    )
    for name, path in sorted(feeds.items()):  # a-* first: defer order favours one host
        base = http_server.url(path)
        url = base if name.startswith("a-") else base.replace("127.0.0.1", "localhost")
        text += f'\n[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{url}"\n'
    config.write_text(text, encoding="utf-8")
    env = _env(config, pg_url, "out-workers")
    _digest(env, "round", "--now", NOW, "--date", DAY)
    workers = [_worker(env, "--until-idle", "--name", f"w{i}") for i in range(2)]
    for w in workers:
        assert w.wait(timeout=120) == 0, _logs(tmp_path)
    hosts = [seen.headers["host"].split(":")[0] for seen in http_server.log]
    assert hosts.count("127.0.0.1") >= 4  # its 4 feeds (and teaser pages)
    assert hosts.count("localhost") >= 4
    assert http_server.most_in_flight == {"127.0.0.1": 1, "localhost": 1}
    # each job logs its time and its store queries' (bench/scale.py's database share)
    assert re.search(r"job digest\.fetch took [\d.]+ s, database [\d.]+ s", _logs(tmp_path))
