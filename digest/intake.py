"""Stage 4 of a run: store the new articles and their event threads (``run_once`` calls it).

The operator's corrections (``digest.overrides``) are carried out first, so clustering meets
the threads as the operator wants them and never joins what they split; then the new
articles are clustered with the open threads (``digest.cluster``), and the articles, their
copies, the plan (new threads, extensions, merges, reasons) and the running vocabulary are
written in one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from digest.cluster import ClusterParams, LinkParams, plan_clusters, read_articles, stored_terms
from digest.config import Settings
from digest.logs import stage
from digest.models import ClusterPlan, DedupeResult
from digest.overrides import Overrides
from digest.store import Store
from digest.threadstore import ThreadStore, apply_overrides

log = logging.getLogger("digest.pipeline")
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


def store_and_cluster(
    store: Store,
    deduped: DedupeResult,
    *,
    day: date,
    run_id: int,
    settings: Settings,
    now: datetime,
    overrides: Overrides = NO_OVERRIDES,
) -> Clustered:
    """Apply the operator's corrections, cluster the new articles with the open threads,
    and store the articles, their copies and the plan in one transaction (a crash before
    the commit loses nothing; a re-run redoes it)."""
    new = deduped.new
    params = cluster_params(settings)
    plan = ClusterPlan(new_threads=(), extensions=())
    with stage("cluster", total=len(new), unit="articles"), store.transaction():
        corrections = apply_overrides(store, overrides, now=now, params=params)
        for line in corrections:
            log.info("%s", line)
        if new:  # planned first, so every article row is written once, with its thread
            latest = max(a.published for a in new)
            read = read_articles(new, params)
            plan = plan_clusters(
                new,
                store.open_threads(
                    since=latest - timedelta(days=params.window_days),
                    first_since=params.first_seen_since(latest),
                ),
                now=latest,
                params=params,
                vocabulary=store.vocabulary(stored_terms(read)),  # the batch's terms only
                apart=ThreadStore(store).kept_apart(),
                read=read,
            )
            del read
        store.save_articles(
            new,
            day=day,
            run_id=run_id,
            fingerprints={f.article_id: f for f in deduped.fingerprints},
            threads={a: t.id for t in plan.new_threads for a in t.article_ids}
            | {a: e.thread_id for e in plan.extensions for a in e.article_ids},
        )
        store.save_duplicates(deduped.duplicates, day=day, run_id=run_id)
        store.apply_plan(plan, run_id=run_id, at=now)
        if new:
            store.add_vocabulary(Counter(plan.document_frequencies), len(new))
    log.info(
        "stored %d new articles, %d duplicates; %d new threads, %d extended, %d merged",
        len(new),
        len(deduped.duplicates),
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
