"""Stage 4 of a run: store the new articles and their event threads (``run_once`` calls it).

The operator's corrections (``digest.overrides``) are carried out first, so clustering meets
the threads as the operator wants them and never joins what they split; then the new
articles are clustered with the open threads (``digest.cluster``), and the articles, their
copies, the plan (new threads, extensions, merges, reasons) and the running vocabulary are
written in one transaction. A batch bigger than ``SLICE_ARTICLES`` (a first run over a
big archive) is clustered slice by slice in publication order, each slice meeting the
threads the slices before it stored, as successive runs would: the clustering state is
bounded by a slice and the window, not by the batch, and the next slice's articles are read
meanwhile in a second process (``digest.readahead``). A clustering writer that lives on
(``digest worker``) passes its ``ClusterState`` (``digest.clusterstate``): the threads,
document frequencies and pairs kept apart come from memory while the store's clustering
version says nothing else changed them, with the same plan as reading them from the store.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from digest import collector
from digest.cluster import ClusterParams, LinkParams, plan_clusters, stored_terms
from digest.cluster.features import Features
from digest.clusterstate import ClusterState
from digest.config import Settings
from digest.dates import shifted
from digest.logs import stage
from digest.models import Article, ClusterPlan, DedupeResult
from digest.overrides import Overrides
from digest.readahead import read_slices
from digest.store import Store
from digest.threadstore import ThreadStore, apply_overrides

log = logging.getLogger("digest.pipeline")
SLICE_ARTICLES = 20_000  # the clustering state of 20k articles is ~0.2 GB
NO_OVERRIDES = Overrides(path="")


@dataclass(frozen=True, slots=True, kw_only=True)
class Clustered:
    plan: ClusterPlan
    corrections: tuple[str, ...]  # what each operator correction did


def cluster_params(settings: Settings) -> ClusterParams:
    c = settings.cluster
    return ClusterParams(
        link=LinkParams(
            threshold=c.similarity_threshold,
            attach_threshold=c.attach_threshold,
            decay_days=c.decay_days,
            names_threshold=c.names_threshold,
            year_penalty=c.year_penalty,
        ),
        window_days=c.window_days,
        max_thread_days=c.max_thread_days,
    )


class Handover:
    """A deduplicated batch given to ``store_and_cluster`` with no reference kept by the
    caller, so that each slice's articles (their texts: ~0.25 GB for a first run of 100k
    over an archive) and fingerprints are released once stored. Taken once; what a run
    reports of it (``new_articles``, ``duplicates``: counts) stays."""

    __slots__ = ("_result", "duplicates", "new_articles")

    def __init__(self, result: DedupeResult) -> None:
        self._result: DedupeResult | None = result
        self.new_articles, self.duplicates = len(result.new), len(result.duplicates)

    def take(self) -> DedupeResult:
        result, self._result = self._result, None
        if result is None:
            raise ValueError("a handed-over batch is taken once")
        return result


@collector.paused()  # (millions of small containers, no cycles: digest.collector)
def store_and_cluster(
    store: Store,
    deduped: DedupeResult | Handover,
    *,
    day: date,
    run_id: int,
    settings: Settings,
    now: datetime,
    overrides: Overrides = NO_OVERRIDES,
    slice_articles: int | None = None,
    state: ClusterState | None = None,
) -> Clustered:
    """Apply the operator's corrections, cluster the new articles with the open threads,
    and store the articles, their copies and the plan in one transaction (a crash before
    the commit loses nothing; a re-run redoes it). ``state``: the writer's kept state, met
    and updated in the same transaction (None: everything is read from the store)."""
    result = deduped.take() if isinstance(deduped, Handover) else deduped
    del deduped
    count, duplicates = len(result.new), result.duplicates
    params = cluster_params(settings)
    slice_articles = slice_articles or SLICE_ARTICLES
    plans: list[ClusterPlan] = []
    fingerprints = {f.article_id: f for f in result.fingerprints}
    # dedupe looks back recent_days from a batch's oldest article: what is older than that
    # before the newest new article (and a day more, for batches that reach back) is never
    # looked up again; the run's clock bounds it (an article dated in the future prunes
    # nothing the present needs), and a batch of copies only prunes nothing
    newest = max((a.published for a in result.new), default=None)
    forget_before = (
        shifted(min(now, newest), -timedelta(days=settings.dedupe.recent_days + 1))
        if newest is not None
        else None
    )
    ordered = sorted(result.new, key=lambda a: (a.published, a.id))
    # slices taken as they are stored: handed over, the batch's texts go slice by slice
    slices = deque(ordered[i : i + slice_articles] for i in range(0, count, slice_articles))
    del result, ordered
    with stage("cluster", total=count, unit="articles"), store.transaction():
        corrections = apply_overrides(store, overrides, now=now, params=params)
        for line in corrections:
            log.info("%s", line)
        if state is not None:
            state.meet(store, params)
        for part, read in read_slices(slices, params):  # the next slice read meanwhile
            plan = _plan(store, part, read, params, state)
            # planned first, so every article row is written once, with its thread
            store.save_articles(
                part,
                day=day,
                run_id=run_id,
                fingerprints=fingerprints,
                threads={a: t.id for t in plan.new_threads for a in t.article_ids}
                | {a: e.thread_id for e in plan.extensions for a in e.article_ids},
            )
            store.apply_plan(plan, run_id=run_id, at=now)
            store.add_vocabulary(Counter(plan.document_frequencies), len(part))
            if state is not None:
                state.stored(store, plan, part)
            plans.append(_slim(plan) if count > slice_articles else plan)
            for article in part:
                fingerprints.pop(article.id, None)
            del plan, part, read
        store.save_duplicates(duplicates, day=day, run_id=run_id)
        if forget_before is not None:
            store.prune_fingerprints(before=forget_before)
        if state is not None:
            state.committed(store)
    plan = _joined(plans)
    log.info(
        "stored %d new articles, %d duplicates; %d new threads, %d extended, %d merged",
        count,
        len(duplicates),
        len(plan.new_threads),
        len(plan.extensions),
        len(plan.merges),
    )
    for merge in plan.merges:
        log.info("thread %s merged into %s (%s)", merge.merged_id, merge.into_id, merge.score)
    for thread in plan.new_threads:
        log.debug(
            "new thread %s (%d articles): %s", thread.id, len(thread.article_ids), thread.title
        )
    for extension in plan.extensions:
        log.debug(
            "thread %s continued: +%d articles", extension.thread_id, len(extension.article_ids)
        )
    return Clustered(plan=plan, corrections=corrections)


def _plan(
    store: Store,
    new: Sequence[Article],
    read: dict[str, Features],
    params: ClusterParams,
    state: ClusterState | None,
) -> ClusterPlan:
    """Cluster ``new`` (``read``: its features, consumed) with the threads open in the
    store at its latest article."""
    latest = max(a.published for a in new)
    if state is not None:
        kept = state.inputs(store, new, stored_terms(read))
        return plan_clusters(
            new,
            kept.threads,
            now=latest,
            params=params,
            vocabulary=kept.vocabulary,
            apart=kept.apart,
            read=read,
        )
    return plan_clusters(
        new,
        iter(  # (let go once they are nodes, wrapped or not: see plan_clusters)
            store.open_threads(
                since=latest - timedelta(days=params.window_days),
                first_since=params.first_seen_since(latest),
            )
        ),
        now=latest,
        params=params,
        vocabulary=store.vocabulary(stored_terms(read)),  # the batch's terms only
        apart=ThreadStore(store).kept_apart(),
        read=read,
    )


def _slim(plan: ClusterPlan) -> ClusterPlan:
    """What the run's report and log keep of a stored slice's plan: not the threads'
    signatures, the reasons or the term counts (they are in the store)."""
    return ClusterPlan(
        new_threads=tuple(replace(t, signature=()) for t in plan.new_threads),
        extensions=tuple(replace(e, signature=()) for e in plan.extensions),
        merges=plan.merges,
    )


def _joined(plans: Sequence[ClusterPlan]) -> ClusterPlan:
    """One plan for the run's report from its slices' plans: a thread a slice started and a
    later slice extended counts as new, once."""
    if len(plans) == 1:
        return plans[0]
    started = {t.id for p in plans for t in p.new_threads}
    return ClusterPlan(
        new_threads=tuple(t for p in plans for t in p.new_threads),
        extensions=tuple(e for p in plans for e in p.extensions if e.thread_id not in started),
        merges=tuple(m for p in plans for m in p.merges),
        reasons=tuple(r for p in plans for r in p.reasons),
    )
