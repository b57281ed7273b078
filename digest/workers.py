"""Work spread over machines: procrastinate jobs on the PostgreSQL store (``digest worker``).

A *round* is what one ``digest run`` does, cut into jobs that any worker on any machine
takes (``FOR UPDATE SKIP LOCKED`` inside procrastinate):

1. ``digest.fetch`` (queue ``fetch``), one job per source: fetch, parse, extract and
   normalise it; its articles are staged in ``digest_intake`` and its health state saved, in
   one transaction (``ON CONFLICT DO NOTHING``: a retried job stores nothing twice).
2. ``digest.cluster`` (queue ``cluster``), one job per language, with the procrastinate
   lock ``cluster:<lang>`` (one writer per language at a time): the round's staged
   articles in ``(published, id)`` order are deduplicated and clustered exactly as ``digest
   run`` does (``digest.intake``), and stored with their threads in the transaction that
   empties their staging rows, so a crash redoes exactly the uncommitted batch.
3. ``digest.publish`` (queue ``publish``), one job per round: the edition, as ``digest run``
   makes it after storing (``run_once`` with nothing left to ingest, its messages queued in
   the outbox but not sent); a slot's edition is unique in the ledger.
4. ``digest.mail`` (queue ``mail``), one job per round that left mail queued, under the
   procrastinate lock ``mail`` (editions go out in order): the outbox flushed as ``digest
   run`` flushes it (``digest.mailer.flush_outbox``: each row claimed before its SMTP
   transaction, so each message goes at most once, however many jobs or workers try). It
   sends what is queued, this round's edition and any message an earlier failure left
   queued; a message that could not go (the server down) stays queued, the job fails, and
   the next round's mail job sends it, as the next ``digest run`` would.

Each step's last job defers the next: the round's row is locked (``FOR UPDATE``) while a job
records that its part is done, so of two jobs finishing together exactly one sees the round
complete. A round has an id (a schedule slot's is the slot itself), so two daemons firing one
slot start one round. A worker that dies mid-job (SIGKILL, a lost machine) leaves its job
``doing``: the other workers retry jobs of workers whose heartbeat stopped
(``stalled_after_seconds``); what the dead job had not committed is redone, what it had
committed is not stored twice.

The worker tables (``digest_rounds``, ``digest_round_parts``, ``digest_intake``) and
procrastinate's own are created by ``prepare()`` under the migrations' advisory lock; they
exist only in PostgreSQL stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued

from digest.clusterstate import ClusterState
from digest.config import Settings
from digest.errors import DeliveryError, StoreError
from digest.health import LIVE_KINDS, current, due, plan_health, schedule
from digest.intake import Handover, cluster_params, store_and_cluster
from digest.ledger import Ledger
from digest.mailer import FlushResult, flush_outbox
from digest.models import DedupeResult, RunReport, SourceOk
from digest.normalize import normalize
from digest.overrides import read_overrides
from digest.pipeline import RunOptions, _dedupe, health_params, input_specs, run_once
from digest.rows import ARTICLE_COLUMNS, article_from_row, article_row, from_iso, iso
from digest.sources import IngestContext, expand, ingest_all
from digest.statuses import source_statuses
from digest.store import open_store
from digest.store.postgres import MIGRATION_LOCK, PgWriterLock, PostgresStore, QueryClock

log = logging.getLogger("digest.workers")

QUEUES = ("fetch", "cluster", "publish", "mail")
_INTAKE_COLUMNS = ARTICLE_COLUMNS.replace(" dated", " dated, round")
_WORKER_TABLES = (
    """CREATE TABLE IF NOT EXISTS digest_rounds (
        id TEXT PRIMARY KEY, now TEXT NOT NULL, day TEXT NOT NULL, slot TEXT,
        late INTEGER NOT NULL DEFAULT 0, sources TEXT NOT NULL, langs TEXT,
        state TEXT NOT NULL DEFAULT 'fetching', -- fetching|clustering|publishing|mailing|done
        edition INTEGER                         -- the number of the edition it published
    )""",
    """CREATE TABLE IF NOT EXISTS digest_round_parts (
        round TEXT NOT NULL,
        part TEXT NOT NULL,                     -- fetch:<source> | cluster:<lang>
        PRIMARY KEY (round, part)
    )""",
    """CREATE TABLE IF NOT EXISTS digest_intake (
        id TEXT NOT NULL, canonical_url TEXT, outlet TEXT NOT NULL,
        title TEXT NOT NULL, text TEXT NOT NULL, published TEXT NOT NULL,
        fetched_at TEXT NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL,
        authors TEXT NOT NULL, lang TEXT NOT NULL, content_hash TEXT NOT NULL,
        dated INTEGER NOT NULL, round TEXT NOT NULL,
        PRIMARY KEY (round, id)
    )""",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    id: str
    now: datetime
    day: date
    slot: datetime | None
    late: bool
    sources: tuple[str, ...]


def postgres_url(settings: Settings) -> str:
    if not settings.store.url:
        raise StoreError("[store].url", "workers need a PostgreSQL store (set [store].url)")
    return settings.store.url


def make_app(settings: Settings) -> App:
    """The procrastinate app with digest's four tasks, on the store's database (its
    sessions, like the store's, end when idle in a transaction too long)."""
    idle_ms = round(settings.store.idle_transaction_timeout_seconds * 1000)
    connector = PsycopgConnector(
        conninfo=postgres_url(settings),
        kwargs={"options": f"-c idle_in_transaction_session_timeout={idle_ms}"},
    )
    app = App(connector=connector)

    @app.task(name="digest.fetch", queue="fetch", retry=2)
    def fetch(round_id: str, source: str) -> None:
        with _job_clock("digest.fetch"):
            fetch_source(app, settings, round_id, source)

    @app.task(name="digest.cluster", queue="cluster", retry=2)
    def cluster(round_id: str, lang: str) -> None:
        with _job_clock("digest.cluster"):
            cluster_language(app, settings, round_id, lang)

    @app.task(name="digest.publish", queue="publish", retry=2)
    def publish(round_id: str) -> None:
        with _job_clock("digest.publish"):
            publish_round(app, settings, round_id)

    # no retry: what could not be sent stays queued for the next round's mail job (the
    # outbox is the retry, as for `digest run`), and a retry now would meet the same server
    @app.task(name="digest.mail", queue="mail")
    def mail(round_id: str) -> None:
        with _job_clock("digest.mail"):
            mail_round(settings, round_id)

    return app


@contextlib.contextmanager
def _job_clock(task: str) -> Iterator[None]:
    """Log a job's time and the part of it spent in store queries (``bench/scale.py``)."""
    started, in_queries = time.perf_counter(), QueryClock.seconds
    try:
        yield
    finally:
        log.info(
            "job %s took %.3f s, database %.3f s",
            task,
            time.perf_counter() - started,
            QueryClock.seconds - in_queries,
        )


def prepare(settings: Settings) -> None:
    """Create procrastinate's schema and the worker tables once (under the advisory lock)."""
    with _store(settings) as store:
        store.db.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
        try:
            found = store.db.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found[0] is None:
                app = make_app(settings)
                with app.open():
                    app.schema_manager.apply_schema()
            with store.transaction():
                for statement in _WORKER_TABLES:
                    store.db.execute(statement)
        finally:
            store.db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))


@contextlib.contextmanager
def _store(settings: Settings) -> Iterator[PostgresStore]:
    with open_store(settings.store) as store:
        if not isinstance(store, PostgresStore):
            raise StoreError("[store].url", "workers need a PostgreSQL store")
        yield store


def round_sources(
    settings: Settings, store: PostgresStore | None = None, *, now: datetime | None = None
) -> tuple[str, ...]:
    """The names of the sources a round fetches (as ``digest run`` would, dumps included);
    given the store and the time, only those due (``next_check_at``, ``digest.health``)."""
    specs = expand(input_specs(settings, RunOptions()))
    if store is None or now is None:
        return tuple(s.name for s in specs)
    states = store.source_states()
    return tuple(s.name for s in specs if due(current(s, states.get(s.name)), now))


def start_round(
    app: App,
    settings: Settings,
    *,
    now: datetime,
    day: date | None = None,
    slot: datetime | None = None,
    late: bool = False,
    round_id: str | None = None,
    every_source: bool = False,
) -> str | None:
    """Record a round and defer its fetch jobs, for the sources due at ``now`` (all of
    them with ``every_source``); None when the round exists (a slot that another daemon
    already started)."""
    rid = round_id or (f"slot:{iso(slot)}" if slot else f"run:{iso(now)}")
    with _store(settings) as store, store.transaction():
        sources = round_sources(settings, None if every_source else store, now=now)
        waiting = len(round_sources(settings)) - len(sources)
        cur = store.db.execute(
            "INSERT OR IGNORE INTO digest_rounds (id, now, day, slot, late, sources)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                rid,
                iso(now),
                (day or now.astimezone(settings.tz).date()).isoformat(),
                iso(slot) if slot else None,
                int(late),
                json.dumps(sources),
            ),
        )
        if cur.rowcount == 0:
            log.info("round %s already started", rid)
            return None
    fetch = app.tasks["digest.fetch"]
    for name, lane in host_lanes(settings, sources).items():
        _defer(fetch, f"fetch:{rid}:{name}", lock=lane, round_id=rid, source=name)
    if not sources:
        _defer_publish(app, rid)
    log.info("round %s: %d fetch jobs deferred, %d sources not due", rid, len(sources), waiting)
    return rid


def host_lanes(settings: Settings, names: Sequence[str]) -> dict[str, str | None]:
    """Each source's procrastinate lock: politeness across machines. The sources of one
    host are dealt over ``[fetch].per_host_concurrency`` lanes (``host:<name>:<n>``) and a
    lane's jobs run one at a time, whichever workers take them, so no more than that many
    fetch jobs ask one host at once; a worker skips a busy lane's jobs for other hosts'.
    Dump files have no host (None: no lock)."""
    specs = expand(input_specs(settings, RunOptions()))
    hosts = {s.name: urlsplit(s.location).hostname for s in specs if s.kind in LIVE_KINDS}
    lanes = max(1, settings.fetch.per_host_concurrency)
    dealt: dict[str, int] = {}
    out: dict[str, str | None] = {}
    for name in names:
        host = hosts.get(name)
        if not host:
            out[name] = None
            continue
        n = dealt[host] = dealt.get(host, -1) + 1
        out[name] = f"host:{host.lower()}:{n % lanes}"
    return out


def defer_slot(settings: Settings, *, slot: datetime, late: bool, now: datetime) -> str | None:
    """``digest daemon`` on a PostgreSQL store: start the slot's round (once, whichever
    daemon fires first); the workers fetch, cluster and publish it."""
    prepare(settings)
    app = make_app(settings)
    with app.open():
        rid = start_round(app, settings, now=now, slot=slot, late=late)
    if rid:
        log.info("round %s deferred to the workers", rid)
    return rid


def _defer(task: Any, queueing_lock: str, *, lock: str | None = None, **kwargs: Any) -> None:
    try:
        task.configure(queueing_lock=queueing_lock, lock=lock).defer(**kwargs)
    except AlreadyEnqueued:  # the same job is already waiting: it does this work
        log.debug("%s already queued", queueing_lock)


def _load_round(store: PostgresStore, round_id: str, *, lock: bool = False) -> Round:
    query = "SELECT id, now, day, slot, late, sources FROM digest_rounds WHERE id = ?"
    row = store.db.execute(query + (" FOR UPDATE" if lock else ""), (round_id,)).fetchone()
    if row is None:
        raise StoreError(round_id, "no such round")
    return Round(
        id=row[0],
        now=from_iso(row[1]),
        day=date.fromisoformat(row[2]),
        slot=from_iso(row[3]) if row[3] else None,
        late=bool(row[4]),
        sources=tuple(json.loads(row[5])),
    )


def _mark_done(store: PostgresStore, round_id: str, part: str) -> tuple[bool, set[str]]:
    """Record ``part`` done (inside the caller's transaction, round row locked): (whether it
    was not done before, the parts of that kind done so far). A job run twice (a retry
    after its commit, a second job for one language) triggers the next step only once."""
    cur = store.db.execute(
        "INSERT OR IGNORE INTO digest_round_parts (round, part) VALUES (?, ?)", (round_id, part)
    )
    kind = part.split(":", 1)[0] + ":"
    rows = store.db.execute("SELECT part FROM digest_round_parts WHERE round = ?", (round_id,))
    return cur.rowcount > 0, {p.removeprefix(kind) for (p,) in rows if p.startswith(kind)}


def fetch_source(app: App, settings: Settings, round_id: str, name: str) -> None:
    """Job 1: one source's articles staged and its health saved, in one transaction."""
    with _store(settings) as store:
        rnd = _load_round(store, round_id)
        specs = [s for s in expand(input_specs(settings, RunOptions())) if s.name == name]
        states = store.source_states()
        context = IngestContext(
            now=rnd.now, captured_at=None, fetch=settings.fetch, states=states,
            seen=store.seen_among,
        )  # fmt: skip
        results = ingest_all(specs, context)
        articles = [
            normalize(item)
            for r in results
            if isinstance(r.value, SourceOk)
            for item in r.value.items
        ]
        staged = DedupeResult(new=tuple(articles), duplicates=())
        params = health_params(settings)
        planned, _statuses = plan_health(
            states, results, source_statuses(results, staged), now=rnd.now, params=params
        )
        health = [schedule(states.get(s.name), s, now=rnd.now, params=params) for s in planned]
        with store.transaction():
            _load_round(store, round_id, lock=True)
            state = store.db.execute(
                "SELECT state FROM digest_rounds WHERE id = ?", (round_id,)
            ).fetchone()[0]
            if state != "fetching":  # a worker that was frozen: its retry did this already
                log.warning("round %s: %s fetched again after the round moved on", round_id, name)
                return
            marks = ",".join("?" * (len(_INTAKE_COLUMNS.split(","))))
            store.db.executemany(
                f"INSERT OR IGNORE INTO digest_intake ({_INTAKE_COLUMNS})"  # noqa: S608
                f" VALUES ({marks})",
                [_intake_row(a, round_id) for a in articles],
            )
            store.save_source_states(health)
            first, done = _mark_done(store, round_id, f"fetch:{name}")
            complete = first and done >= set(rnd.sources)
            langs: list[str] = []
            if complete:
                langs = [
                    lang
                    for (lang,) in store.db.execute(
                        "SELECT DISTINCT lang FROM digest_intake WHERE round = ? ORDER BY lang",
                        (round_id,),
                    )
                ]
                store.db.execute(
                    "UPDATE digest_rounds SET state = 'clustering', langs = ? WHERE id = ?",
                    (json.dumps(langs), round_id),
                )
                # deferred before the commit: a crash after it cannot lose the next step
                # (the cluster job waits on this round's row lock, then sees our commit)
                _defer_next(app, round_id, langs)
    log.info("round %s: fetched %s (%d articles)", round_id, name, len(articles))


def _defer_publish(app: App, round_id: str) -> None:
    """One publish job per round, one at a time (edition numbers are given in order)."""
    _defer(app.tasks["digest.publish"], f"publish:{round_id}", lock="publish", round_id=round_id)


def _defer_next(app: App, round_id: str, langs: Sequence[str]) -> None:
    if not langs:
        _defer_publish(app, round_id)
    for lang in langs:
        _defer(
            app.tasks["digest.cluster"],
            f"cluster:{round_id}:{lang}",
            lock=f"cluster:{lang}",
            round_id=round_id,
            lang=lang,
        )


def _intake_row(a: Any, round_id: str) -> tuple[object, ...]:
    row = article_row(a, date.min, 0, None, None, None)
    # article_row: id .. content_hash, day, run_id, thread_id, duplicate_of, minhash, dated
    return (*row[:12], row[-1], round_id)


# Each language's clustering state in this worker process, kept from one of its cluster jobs
# to the next (store URL, language) -> state; a job uses it only while the store's
# clustering version says nobody else changed threads or vocabulary (digest.clusterstate).
CLUSTER_STATES: dict[tuple[str, str], ClusterState] = {}


def cluster_language(app: App, settings: Settings, round_id: str, lang: str) -> None:
    """Job 2: the round's staged articles in ``lang``, deduplicated and clustered as one
    batch, stored with their threads in the transaction that empties the staging rows
    (with the language's kept clustering state: ``CLUSTER_STATES``)."""
    key = (postgres_url(settings), lang)
    state = CLUSTER_STATES.setdefault(key, ClusterState(params=cluster_params(settings)))
    with _store(settings) as store, store.transaction():
        rnd = _load_round(store, round_id, lock=True)
        rows = store.db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM digest_intake"  # noqa: S608
            " WHERE round = ? AND lang = ? ORDER BY published, id",
            (round_id, lang),
        ).fetchall()
        articles = [article_from_row(r) for r in rows]
        count = len(articles)
        del rows
        if articles:
            run_id = store.begin_run(started=rnd.now, day=rnd.day)
            deduped = _dedupe(store, articles, settings)
            del articles
            batch = Handover(deduped)  # (each stored slice's texts then let go)
            del deduped
            overrides = read_overrides(settings.cluster.overrides_file)
            clustered = store_and_cluster(
                store,
                batch,
                day=rnd.day,
                run_id=run_id,
                settings=settings,
                now=rnd.now,
                overrides=overrides,
                state=state,
            )
            store.finish_run(
                run_id,
                RunReport(
                    started=rnd.now,
                    finished=rnd.now,
                    day=rnd.day,
                    sources=(),
                    new_articles=batch.new_articles,
                    duplicates=batch.duplicates,
                    threads_new=len(clustered.plan.new_threads),
                    threads_extended=len(clustered.plan.extensions),
                ),
                status="clustered",
            )
            store.db.execute(
                "DELETE FROM digest_intake WHERE round = ? AND lang = ?", (round_id, lang)
            )
        first, done = _mark_done(store, round_id, f"cluster:{lang}")
        langs_row = store.db.execute(
            "SELECT langs FROM digest_rounds WHERE id = ?", (round_id,)
        ).fetchone()
        if first and langs_row[0] is not None and done >= set(json.loads(langs_row[0])):
            store.db.execute(
                "UPDATE digest_rounds SET state = 'publishing' WHERE id = ?", (round_id,)
            )
            _defer_publish(app, round_id)
    log.info("round %s: clustered %d %s articles", round_id, count, lang)


def publish_round(app: App, settings: Settings, round_id: str) -> None:
    """Job 3: the round's edition (``run_once`` with nothing left to ingest: its window
    holds the runs the cluster jobs recorded), its messages queued in the outbox; the mail
    job is deferred when anything is queued there."""
    quiet = replace(settings, sources=(), inputs=replace(settings.inputs, dump_dirs=()))
    lock = PgWriterLock(
        postgres_url(settings),
        "digest worker: publish",
        wait_seconds=settings.store.lock_wait_seconds,
    )
    with lock, _store(settings) as store:
        with store.transaction():
            rnd = _load_round(store, round_id, lock=True)
            state = store.db.execute(
                "SELECT state FROM digest_rounds WHERE id = ?", (round_id,)
            ).fetchone()[0]
        if state in ("mailing", "done"):
            return
        options = RunOptions(day=rnd.day, slot=rnd.slot, late=rnd.late, send_mail=False)
        report = run_once(quiet, now=rnd.now, store=store, options=options)
        edition = report.edition
        number = edition.number if edition else None
        if report.email_error:  # a message that could not be built (the others are queued)
            log.error("round %s: email: %s", round_id, report.email_error)
        with store.transaction():
            _load_round(store, round_id, lock=True)
            mailing = settings.email.enabled and bool(_queued_mail(store))
            if mailing:  # deferred before the commit, as _defer_next: the mail job waits
                _defer_mail(app, round_id)  # on this row, then sees 'mailing'
            store.db.execute(
                "UPDATE digest_rounds SET state = ?, edition = ? WHERE id = ?",
                ("mailing" if mailing else "done", number, round_id),
            )
    log.info("round %s: edition %s", round_id, f"No. {number}" if number else "(nothing new)")


def _defer_mail(app: App, round_id: str) -> None:
    """One mail job per round (a publish job run twice defers one), one at a time."""
    _defer(app.tasks["digest.mail"], f"mail:{round_id}", lock="mail", round_id=round_id)


def _queued_mail(store: PostgresStore) -> set[tuple[int, str]]:
    """(edition, recipient) of every message waiting in the outbox."""
    rows = store.db.execute("SELECT edition, recipient FROM outbox WHERE state = 'queued'")
    return {(int(edition), str(recipient)) for edition, recipient in rows}


_LEFT = "they stay queued; the next round's mail job sends them"


def mail_round(settings: Settings, round_id: str) -> None:
    """Job 4: the outbox flushed (``flush_outbox``, as ``digest run`` does: claimed before
    sending, so at most once). The round is done when nothing this flush tried is left
    queued, and so is any earlier round whose edition has nothing queued any more (its
    mail went with this one); otherwise the job fails, the messages stay queued, and the
    next round's mail job sends them."""
    with _store(settings) as store:
        with store.transaction():  # waits for the publish job's commit
            rnd = _load_round(store, round_id, lock=True)
        tried = _queued_mail(store)
        if settings.email.enabled:
            flushed = flush_outbox(Ledger(store), settings.email, now=rnd.now)
        else:  # as `digest run --no-email`: the outbox is kept as it is
            flushed = FlushResult(sent=(), error="[email].enabled is false on this worker")
        for d in flushed.sent:
            log.info("round %s: emailed No. %d -> %s", round_id, d.edition, d.recipient)
        left = tried & _queued_mail(store)
        if not left:
            with store.transaction():
                store.db.execute(
                    "UPDATE digest_rounds SET state = 'done' WHERE state = 'mailing' AND"
                    " (id = ? OR edition NOT IN (SELECT edition FROM outbox"
                    " WHERE state = 'queued'))",
                    (round_id,),
                )
    if flushed.error:  # also a refusal for good, or an uncertain one: never sent again
        log.error("round %s: email: %s", round_id, flushed.error)
    if left:
        raise DeliveryError(
            f"round {round_id}",
            f"{len(left)} message(s) still queued",
            hint=_LEFT,
        )


def round_state(settings: Settings, round_id: str) -> str | None:
    """fetching, clustering, publishing, mailing (its mail job has not sent everything it
    queued yet) or done; None when there is no such round."""
    with _store(settings) as store:
        row = store.db.execute(
            "SELECT state FROM digest_rounds WHERE id = ?", (round_id,)
        ).fetchone()
    return str(row[0]) if row else None


async def _retry_stalled(app: App, *, stalled_after: float) -> int:
    """Put the jobs of workers whose heartbeat stopped back in the queue."""
    jobs = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    count = 0
    for job in jobs:
        log.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        await app.job_manager.retry_job(job)
        count += 1
    return count


async def _serve(
    app: App,
    *,
    name: str,
    wait: bool,
    stalled_after: float,
    queues: Sequence[str],
    keep_jobs: bool,
) -> None:
    async with app.open_async():

        async def reaper() -> None:
            while True:
                await asyncio.sleep(max(stalled_after / 3, 0.5))
                await _retry_stalled(app, stalled_after=stalled_after)

        await _retry_stalled(app, stalled_after=stalled_after)  # before taking jobs

        task = asyncio.create_task(reaper())
        try:
            await app.run_worker_async(
                name=name,
                queues=list(queues),
                wait=wait,
                concurrency=1,
                update_heartbeat_interval=max(stalled_after / 3, 0.5),
                stalled_worker_timeout=stalled_after,
                fetch_job_polling_interval=1.0,
                delete_jobs="never" if keep_jobs else "successful",
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def run_worker(
    settings: Settings,
    *,
    name: str,
    wait: bool = True,
    stalled_after: float = 30.0,
    queues: Sequence[str] = QUEUES,
    keep_jobs: bool = False,
) -> None:
    """``digest worker``: take jobs until stopped (SIGTERM/SIGINT finish the current job).
    Finished jobs are deleted unless ``keep_jobs`` (then procrastinate's tables keep them
    and their events: timings for ``bench/scale.py``, an audit trail)."""
    prepare(settings)
    app = make_app(settings)
    serving = _serve(
        app,
        name=name,
        wait=wait,
        stalled_after=stalled_after,
        queues=queues,
        keep_jobs=keep_jobs,
    )
    asyncio.run(serving)
