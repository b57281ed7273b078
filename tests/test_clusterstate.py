"""A clustering writer's state kept between batches (digest.clusterstate, #15): the same
threads as reading everything from the store for every batch, a reload after anyone else
changed threads (an operator's split or move, another writer, a rolled-back batch), and
memory bounded by the time window over many simulated days. On both store backends."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest.cluster import ClusterParams
from digest.clusterstate import REACH_BACK, ClusterState
from digest.config import Settings
from digest.intake import NO_OVERRIDES, Handover, cluster_params, store_and_cluster
from digest.models import Article, RawItem
from digest.normalize import normalize
from digest.overrides import Override, Overrides, parse_overrides
from digest.pipeline import _dedupe
from digest.store import Store
from digest.threadstore import ThreadStore
from tests.conftest import NOW

BRIDGE = (
    "Halvorsen and Dukov spoke by phone for an hour on Thursday about the Varnia conflict and"
    " a prisoner exchange, without progress. Dukov kept his demands over Varnia, aide Petra"
    " Lind said after the call; Halvorsen said he was disappointed."
)
NOW_MINUS_WEEK = NOW - timedelta(days=7)
NEWS_DAYS = Path(__file__).parent / "data" / "news-days" / "jsonl"
Opener = Callable[[str], Store]


@pytest.fixture
def open_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Opener:
    """Opens the store called ``name`` on ``backend`` (the same one each call)."""
    if backend == "sqlite":
        return lambda name: Store(tmp_path / f"{name}.sqlite3")
    from digest.store.postgres import PostgresStore

    server = request.getfixturevalue("pg_server")
    request.getfixturevalue("pg_url")  # closes this test's pools at its end
    urls: dict[str, str] = {}

    def opener(name: str) -> Store:
        if name not in urls:
            urls[name] = server.new_database()
        return PostgresStore(urls[name])

    return opener


def _article(title: str, text: str, outlet: str, url: str, published: datetime) -> Article:
    return normalize(
        RawItem(
            source="test",
            outlet=outlet,
            origin=url,
            url=url,
            title=title,
            text=text,
            published=published,
            fetched_at=published,
        )
    )


def news_days() -> list[Article]:
    """The 91 articles of the news-days fixture, in publication order."""
    docs = [
        json.loads(line)
        for path in sorted(NEWS_DAYS.glob("day*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    found = [
        _article(
            d["title"], d["text"], d["outlet"], d["url"], datetime.fromisoformat(d["published"])
        )
        for d in docs
    ]
    return sorted(found, key=lambda a: (a.published, a.id))


def in_batches(articles: Sequence[Article], size: int) -> list[list[Article]]:
    return [list(articles[i : i + size]) for i in range(0, len(articles), size)]


def cluster(
    store: Store,
    batch: Sequence[Article],
    settings: Settings,
    state: ClusterState | None,
    overrides: Overrides = NO_OVERRIDES,
) -> None:
    """One clustering writer's batch, as a worker's cluster job does it."""
    now = max(a.published for a in batch) + timedelta(hours=1)
    with store.transaction():
        run_id = store.begin_run(started=now, day=now.date())
        deduped = _dedupe(store, batch, settings)
        store_and_cluster(
            store,
            deduped,
            day=now.date(),
            run_id=run_id,
            settings=settings,
            now=now,
            overrides=overrides,
            state=state,
        )


def threads(store: Store) -> list[tuple[object, ...]]:
    """Every stored thread, completely, and every article's thread and join reason."""
    found = store.threads_where("SELECT id FROM threads", ())
    rows = [
        (t.id, t.title, t.first_seen, t.last_updated, t.article_ids, t.signature)
        for t in found.values()
    ]
    reasons = store.db.execute(
        "SELECT article_id, thread_id, via, score FROM thread_reasons ORDER BY article_id"
    ).fetchall()
    redirects = store.db.execute("SELECT old_id, new_id FROM thread_redirects").fetchall()
    return [*sorted(rows), *[tuple(r) for r in reasons], *sorted(tuple(r) for r in redirects)]


def mirrors(state: ClusterState, store: Store) -> None:
    """The state holds every thread the store has open at its horizon, each as stored
    (members in any order: clustering reads their number and ids), and no other."""
    assert state.horizon is not None
    params = state.params
    stored = {
        t.id: t
        for t in store.open_threads(
            since=state.horizon - timedelta(days=params.window_days),
            first_since=params.first_seen_since(state.horizon),
        )
    }
    assert set(state.threads) == set(stored)
    for tid, kept in state.threads.items():
        other = stored[tid]
        assert set(kept.article_ids) == set(other.article_ids)
        assert len(kept.article_ids) == len(other.article_ids)
        assert (kept.title, kept.first_seen, kept.last_updated, kept.signature) == (
            other.title,
            other.first_seen,
            other.last_updated,
            other.signature,
        )
    assert state.apart == ThreadStore(store).kept_apart()
    vocabulary = store.vocabulary(state.df)
    assert state.n_docs == vocabulary.n_docs
    assert {t: n for t, n in state.df.items() if n} == dict(vocabulary.df)


# ── the same threads ──────────────────────────────────────────────────────────────────────


def test_kept_state_makes_the_same_threads_as_reloading(
    open_store: Opener, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    state = ClusterState(params=cluster_params(settings))
    with open_store("reload") as reload, open_store("kept") as kept:
        for batch in in_batches(news_days(), 6):
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
            assert threads(kept) == threads(reload)
        mirrors(state, kept)
        assert state.loads == 1  # loaded for the first batch, kept for the 15 others
        assert len(reload.threads_where("SELECT id FROM threads", ())) > 20


def test_a_handed_over_batch_makes_the_same_threads_and_is_taken_once(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    batch = news_days()
    now = max(a.published for a in batch) + timedelta(hours=1)
    made = []
    for name, hand_over in (("given", False), ("handed", True)):
        with Store(tmp_path / f"{name}.sqlite3") as store, store.transaction():
            run_id = store.begin_run(started=now, day=now.date())
            deduped = _dedupe(store, batch, settings)
            handed = Handover(deduped) if hand_over else None
            store_and_cluster(
                store,
                handed or deduped,
                day=now.date(),
                run_id=run_id,
                settings=settings,
                now=now,
                slice_articles=30,  # in slices, each released once stored
            )
            if handed is not None:
                with pytest.raises(ValueError, match="taken once"):
                    handed.take()
            made.append(
                {
                    frozenset(t.article_ids)
                    for t in store.threads_where("SELECT id FROM threads", ()).values()
                }
            )
    assert made[0] == made[1]
    assert sum(map(len, made[0])) == len(deduped.new) > 80  # every new article, once


def test_a_state_with_other_params_starts_over(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    state = ClusterState(params=ClusterParams(window_days=1.0))
    with Store(tmp_path / "s.sqlite3") as store:
        cluster(store, news_days()[:10], settings, state)
        assert state.params == cluster_params(settings)
        mirrors(state, store)


def test_threads_that_clustering_merges_are_kept_as_the_store_has_them(
    open_store: Opener, make_settings: Callable[..., Settings], make_article: Callable[..., Article]
) -> None:
    """Two stored threads an article shows to be one event merge (the merged one's
    members, first time and kept-apart pairs go to the other): the state follows."""
    from tests.test_cluster import CALL_B, SUMMIT, TARIFF, _calls

    apart = make_settings("cluster.similarity_threshold=1.0", "cluster.attach_threshold=1.0")
    settings = make_settings()
    state = ClusterState(params=cluster_params(apart))
    a, b = _calls(make_article, hours=20)
    tariff = make_article("Ostrava strikes tariff deal with Halvorsen", TARIFF, hours=19)
    bridge = make_article("Halvorsen and Dukov phone call: no progress", BRIDGE)
    later = make_article("Dukov and Halvorsen call: no progress", CALL_B, outlet="Post", hours=-1)
    summit = make_article("Dukov and Amsel sign gas memorandum in Lindau", SUMMIT, hours=-2)
    with open_store("reload") as reload, open_store("kept") as kept:
        for store, kept_state in ((reload, None), (kept, state)):
            cluster(store, [a, b, tariff], apart, kept_state)
            found = {t.article_ids[0]: t.id for t in store.open_threads(since=NOW_MINUS_WEEK)}
            with store.transaction():
                for article in (a, b):
                    ThreadStore(store).keep_apart(found[article.id], found[tariff.id])
            cluster(store, [bridge], settings, kept_state)
        assert len(kept.db.execute("SELECT * FROM thread_redirects").fetchall()) == 1
        mirrors(state, kept)
        assert state.loads == 2  # other params: it started over
        for batch in ([later], [summit]):
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
        assert state.loads == 2
        assert threads(kept) == threads(reload)
        mirrors(state, kept)


# ── anyone else's change makes it reload ──────────────────────────────────────────────────


def _split_target(store: Store) -> tuple[str, str]:
    """A stored thread of several articles, and its latest article."""
    found = store.threads_where("SELECT id FROM threads", ())
    thread = max(found.values(), key=lambda t: (len(t.article_ids), t.id))
    assert len(thread.article_ids) >= 3
    return thread.id, thread.article_ids[-1]


def test_an_operators_split_between_batches_is_met_after_a_reload(
    open_store: Opener, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    params = cluster_params(settings)
    state = ClusterState(params=params)
    batches = in_batches(news_days(), 8)
    with open_store("reload") as reload, open_store("kept") as kept:
        for batch in batches[:5]:
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
        assert state.loads == 1
        source, article = _split_target(kept)
        split = Override(line=1, verb="split", args=(source, article))
        for store in (reload, kept):  # the ThreadStore API, as a correction does it
            with store.transaction():
                ThreadStore(store).split(split, now=batches[5][0].published, params=params)
        (pair,) = [p for p in ThreadStore(kept).kept_apart() if source in p]
        (new_id,) = pair - {source}
        assert article in state.threads[source].article_ids  # stale until the next batch
        for batch in batches[5:7]:
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
        assert state.loads == 2  # reloaded once, for the batch after the split
        assert threads(kept) == threads(reload)
        assert frozenset({source, new_id}) in state.apart
        assert article in kept.thread(new_id).article_ids
        assert article not in kept.thread(source).article_ids
        mirrors(state, kept)
        # a correction in the file, carried out by the batch's own transaction
        moved, target = kept.thread(new_id).article_ids[0], source
        overrides = parse_overrides(f"move {moved} {target}\n", "threads.txt")
        for batch in batches[7:8]:
            cluster(reload, batch, settings, None, overrides)
            cluster(kept, batch, settings, state, overrides)
        assert state.loads == 3
        assert threads(kept) == threads(reload)
        assert moved in state.threads[target].article_ids
        for batch in batches[8:]:  # the correction is in effect: nothing changes, kept
            cluster(reload, batch, settings, None, overrides)
            cluster(kept, batch, settings, state, overrides)
        assert state.loads == 3
        assert threads(kept) == threads(reload)
        mirrors(state, kept)


def killed_before_commit(
    store: Store, batch: Sequence[Article], settings: Settings, state: ClusterState
) -> None:
    with store.transaction():
        cluster(store, batch, settings, state)
        raise RuntimeError("killed before the commit")


def test_another_writer_or_a_rolled_back_batch_makes_it_reload(
    open_store: Opener, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    state = ClusterState(params=cluster_params(settings))
    batches = in_batches(news_days(), 10)
    with open_store("reload") as reload, open_store("kept") as kept:
        for batch in batches[:3]:
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
        for store in (reload, kept):  # another writer (`digest run`, another worker)
            cluster(store, batches[3], settings, None)
        cluster(reload, batches[4], settings, None)
        cluster(kept, batches[4], settings, state)
        assert state.loads == 2
        with pytest.raises(RuntimeError, match="killed"):  # stored, then rolled back
            killed_before_commit(kept, batches[5], settings, state)
        for batch in batches[5:]:
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
        assert state.loads == 3
        assert threads(kept) == threads(reload)
        mirrors(state, kept)


def test_every_thread_write_bumps_the_clustering_version(
    store_factory: Callable[[], Store], make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    params = cluster_params(settings)
    with store_factory() as store:
        start = store.clustering_version()
        cluster(store, news_days()[:20], settings, None)
        after_run = store.clustering_version()
        assert after_run.version == start.version + 1  # one bump for the whole transaction
        source, article = _split_target(store)
        now = datetime(2026, 5, 20, tzinfo=UTC)
        book = ThreadStore(store)
        writes = [
            lambda: book.split(Override(line=1, verb="split", args=(source, article)), now=now,
                               params=params),
            lambda: book.move(Override(line=2, verb="move", args=(article, source)), now=now,
                              params=params),
            lambda: book.keep_apart(source, "t0"),
            lambda: book.move_thread(source, "t1", at=now, why="test"),
            lambda: store.add_vocabulary(__import__("collections").Counter({"x": 1}), 1),
        ]  # fmt: skip
        seen = [after_run]
        for write in writes:
            with store.transaction():
                write()
            seen.append(store.clustering_version())
        assert [v.version for v in seen] == list(range(after_run.version, after_run.version + 6))
        assert len({v.writer for v in seen}) == len(seen)  # each names its transaction
        with store.transaction():  # a correction already in effect writes nothing
            book.move(Override(line=2, verb="move", args=(article, "t1")), now=now, params=params)
        assert store.clustering_version() == seen[-1]


# ── bounded by the window ─────────────────────────────────────────────────────────────────

_SYLLABLES = "ka lo mir ten vos rad pel zun gor bri sal dek nu fa tor vil hes qua"
_KINDS = {
    "strike": "dockers walkout union pay port pickets wages cranes",
    "flood": "river rain evacuated levee water rescue crest shelters",
    "vote": "ballot candidate polls turnout count recount coalition seats",
    "merger": "shares deal board acquisition bid regulators premium takeover",
    "quake": "tremor magnitude rubble aftershock epicentre collapsed rescuers seismic",
}
_FILLER = "officials said on the day while residents waited for news and updates"


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES.split()) for _ in range(3)).capitalize()


def simulated_days(days: int, seed: int = 7) -> list[Article]:
    """Three events a day for ``days`` days, each reported 3 to 6 times over a day and a
    half, with names of their own (their threads are told apart by them)."""
    rng = random.Random(seed)  # noqa: S311 - a test corpus, not a secret
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for day in range(days):
        for e in range(3):
            kind = rng.choice(sorted(_KINDS))
            words = _KINDS[kind].split()
            place, person, group = _name(rng), _name(rng), _name(rng)
            began = start + timedelta(days=day, hours=rng.uniform(0, 20))
            for n in range(rng.randint(3, 6)):
                when = began + timedelta(hours=rng.uniform(0, 36))
                said = [
                    f"{person} of the {group} spoke in {place} about the {kind}.",
                    " ".join(rng.sample(words, 5)) + f" in {place}.",
                    " ".join(rng.sample(_FILLER.split(), 8)) + ".",
                    f"The {group} said {' '.join(rng.sample(words, 4))} near {place}.",
                ]
                out.append(
                    _article(
                        f"{person} and the {place} {kind}: {' '.join(rng.sample(words, 3))}",
                        "\n\n".join(said),
                        f"Outlet {n}",
                        f"https://outlet{n}.example/{day}-{e}-{n}",
                        when,
                    )
                )
    return sorted(out, key=lambda a: (a.published, a.id))


def six_hour_batches(articles: Sequence[Article]) -> list[list[Article]]:
    """Articles by six-hour slot of publication, as rounds would meet them; and two late
    batches: one 8 hours behind the one before it (met from memory), one 2 days behind
    (older than the state keeps: a reload)."""
    slots: dict[int, list[Article]] = {}
    for a in articles:
        slots.setdefault(int(a.published.timestamp() // 21600), []).append(a)
    batches = [slots[k] for k in sorted(slots)]
    late = []
    for at, back in ((40, 2), (80, 8)):  # batch index, slots behind
        late.append((at, batches[at - back].pop()))
    for at, article in sorted(late, reverse=True):
        batches.insert(at + 1, [article])
    return [b for b in batches if b]


@pytest.mark.slow
def test_memory_stays_bounded_by_the_window_over_many_days(
    open_store: Opener, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    params = cluster_params(settings)
    state = ClusterState(params=params)
    batches = six_hour_batches(simulated_days(30))
    sizes = []
    with open_store("reload") as reload, open_store("kept") as kept:
        for batch in batches:
            cluster(reload, batch, settings, None)
            cluster(kept, batch, settings, state)
            assert state.horizon is not None
            assert all(params.is_open(t, state.horizon) for t in state.threads.values())
            stale = state.horizon - timedelta(days=params.window_days)
            assert all(when >= stale for when in state.used.values())
            assert set(state.df) == set(state.used)
            sizes.append((len(state.threads), len(state.df)))
        assert threads(kept) == threads(reload)
        mirrors(state, kept)
        stored = len(kept.threads_where("SELECT id FROM threads", ()))
        whole = len(kept.vocabulary().df)
    assert state.loads == 2  # the first batch, and the one 2 days late (8 hours: kept)
    assert timedelta(days=2) > REACH_BACK > timedelta(hours=8)
    # a window (3 days) + REACH_BACK of threads and terms, whatever the history's length
    threads_now, terms_now = max(n for n, _ in sizes[-40:]), max(n for _, n in sizes[-40:])
    threads_then, terms_then = max(n for n, _ in sizes[20:60]), max(n for _, n in sizes[20:60])
    assert threads_now <= 1.5 * threads_then
    assert terms_now <= 1.5 * terms_then
    assert threads_now < stored / 4
    assert terms_now < whole / 2


# ── the worker keeps one state per language ───────────────────────────────────────────────


def _round(store: Any, rid: str, now: datetime, articles: Sequence[Article]) -> None:
    from digest.rows import iso
    from digest.workers import _INTAKE_COLUMNS, _intake_row

    with store.transaction():
        store.db.execute(
            "INSERT INTO digest_rounds (id, now, day, slot, late, sources, langs, state)"
            " VALUES (?, ?, ?, NULL, 0, '[]', '[\"en\"]', 'clustering')",
            (rid, iso(now), now.date().isoformat()),
        )
        marks = ",".join("?" * len(_INTAKE_COLUMNS.split(",")))
        store.db.executemany(
            f"INSERT INTO digest_intake ({_INTAKE_COLUMNS}) VALUES ({marks})",  # noqa: S608
            [_intake_row(a, rid) for a in articles],
        )


@pytest.fixture
def two_databases(pg_server: Any, pg_url: str) -> tuple[str, str]:
    return pg_url, pg_server.new_database()


def test_the_worker_keeps_each_languages_state_between_its_jobs(
    two_databases: tuple[str, str], make_settings: Callable[..., Settings]
) -> None:
    from digest import workers
    from digest.store.postgres import PostgresStore

    found = []
    for url, keep in zip(two_databases, (False, True), strict=True):
        settings = make_settings(f"store.url='{url}'")
        workers.prepare(settings)
        app = workers.make_app(settings)
        workers.CLUSTER_STATES.clear()
        with app.open(), PostgresStore(url) as store:
            for i, batch in enumerate(in_batches(news_days(), 12)):
                now = max(a.published for a in batch) + timedelta(hours=1)
                _round(store, f"r{i}", now, batch)
                if not keep:
                    workers.CLUSTER_STATES.clear()
                workers.cluster_language(app, settings, f"r{i}", "en")
            found.append(threads(store))
            state = workers.CLUSTER_STATES[(url, "en")]
            assert state.loads == 1
            mirrors(state, store)
    workers.CLUSTER_STATES.clear()
    assert found[0] == found[1]


# ── one machine: the daemon keeps the state from run to run ──────────────────────────────


def _daily_run(settings: Settings, day_file: Path, state: ClusterState | None) -> None:
    from digest.pipeline import RunOptions, run_once

    last = max(
        datetime.fromisoformat(json.loads(line)["published"])
        for line in day_file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    now = last + timedelta(hours=1)
    options = RunOptions(day=now.date(), inputs=(day_file,), captured_at=now)
    with Store(settings.store.path) as store:
        run_once(settings, now=now, store=store, options=options, cluster_state=state)


def test_the_daemons_kept_state_makes_the_same_threads_and_a_manual_run_reloads_it(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    """Four daily runs, as ``digest daemon`` makes them (one state kept from run to run),
    give the threads of four runs that each read the store; a manual ``digest run`` between
    two daemon runs (no state: it changes threads behind the daemon's back) makes the next
    daemon run reload."""
    reload, kept = (
        make_settings(f"store.path='{tmp_path / name}.sqlite3'", f"output.dir='{tmp_path / name}'")
        for name in ("reload", "kept")
    )
    days = sorted(NEWS_DAYS.glob("day*.jsonl"))
    state = ClusterState(params=cluster_params(kept))
    for number, day_file in enumerate(days, start=1):
        _daily_run(reload, day_file, None)
        _daily_run(kept, day_file, None if number == 3 else state)  # day 3: a manual run
        with Store(reload.store.path) as a, Store(kept.store.path) as b:
            assert threads(b) == threads(a)
        assert state.loads == (1 if number < 4 else 2)
    with Store(kept.store.path) as store:
        mirrors(state, store)
