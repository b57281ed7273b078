"""A clustering writer's state kept in memory between batches (#15, ``digest worker``).

Every batch that ``digest.intake.store_and_cluster`` clusters meets the store's open threads,
the document frequencies of its terms and the pairs of threads an operator split. A
clustering writer that lives on (one per language in a worker process) keeps them here
instead of reloading them for every batch:

- the threads that may still take articles, by id (their signatures, members and times),
  pruned as they fall out of the window (``ClusterParams.is_open``), so what it holds is
  bounded by the time window, not by the store's history;
- the document frequencies of the terms it has looked up (a batch's new terms are still
  one batch lookup, ``Store.vocabulary(missing)``) and the number of documents, dropped
  for terms no batch used within the window;
- the pairs kept apart;
- the store's clustering version it reflects (``Store.clustering_version``).

It is exact or it is not used. After a slice's plan is stored, the state takes the plan as
the store did (new threads, extensions, merges, the slice's term counts). A batch uses it
only if the version row is the one the state's last transaction left; any other writer
(an operator's correction, another writer, ``digest run``) bumps the row, and a new process
starts empty, so those batches reload from the store first. A transaction that fails
leaves the state unusable (it may hold what was rolled back): the next batch reloads.

The state is mutable and belongs to one writer (one procrastinate job at a time per
language): it is not shared between threads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from digest.cluster import ClusterParams, Vocabulary
from digest.models import Article, ClusterPlan, EventThread, PackedSignature
from digest.store import ClusteringVersion, Store
from digest.threadstore import ThreadStore

log = logging.getLogger("digest.pipeline")

# A batch whose newest article is up to this much older than the newest one met so far is
# still served without a reload (a round that fetched only a few sources): threads are kept
# this long past the point they stopped taking articles.
REACH_BACK = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """What a slice is clustered with (as ``digest.intake._plan`` reads it from the store)."""

    threads: tuple[EventThread, ...]
    vocabulary: Vocabulary
    apart: frozenset[frozenset[str]]


@dataclass(slots=True, kw_only=True)
class ClusterState:
    """One clustering writer's view of the store, kept between its batches (mutable)."""

    params: ClusterParams
    threads: dict[str, EventThread] = field(default_factory=dict)
    df: dict[str, int] = field(default_factory=dict)  # 0: looked up, not in the store
    used: dict[str, datetime] = field(default_factory=dict)  # term -> latest batch using it
    n_docs: int = 0
    apart: frozenset[frozenset[str]] = frozenset()
    # complete for slices whose newest article is at least this (None: nothing loaded)
    horizon: datetime | None = None
    reflects: ClusteringVersion | None = None  # None: not known to match the store
    loads: int = 0  # loads from the store so far (logs, tests)
    _read: ClusteringVersion | None = None  # the version row as this transaction began

    def meet(self, store: Store, params: ClusterParams) -> None:
        """At the start of a batch (inside its transaction, after the operator's
        corrections): forget everything unless the store is as the state last left it."""
        read = store.clustering_version()
        if self.horizon is not None and self.reflects != store.clustering_after_commit(read):
            log.info("clustering state: the store changed since the last batch, reloading")
            self.forget()
        if params != self.params:
            self.forget()
            self.params = params
        self._read, self.reflects = read, None  # in flux until committed()

    def inputs(self, store: Store, new: Sequence[Article], terms: Iterable[str]) -> Inputs:
        """What the slice ``new`` is clustered with: the same threads, document
        frequencies and pairs as ``store.open_threads``, ``store.vocabulary(terms)`` and
        ``kept_apart()`` would give."""
        latest = max(a.published for a in new)
        if self.horizon is None or latest < self.horizon:
            self._load(store, latest)
        wanted = set(terms)
        missing = [t for t in wanted if t not in self.df]
        if missing:
            found = store.vocabulary(missing).df
            self.df.update((t, found.get(t, 0)) for t in missing)
        used = self.used
        for term in wanted:
            if used.get(term, latest) <= latest:  # a late slice does not age a term
                used[term] = latest
        open_now = (t for t in self.threads.values() if self.params.is_open(t, latest))
        return Inputs(
            threads=tuple(sorted(open_now, key=lambda t: t.id)),
            vocabulary=Vocabulary(
                df={t: self.df[t] for t in wanted if self.df[t]}, n_docs=self.n_docs
            ),
            apart=self.apart,
        )

    def _load(self, store: Store, latest: datetime) -> None:
        self.forget()
        self.threads = {
            t.id: t
            for t in store.open_threads(
                since=latest - timedelta(days=self.params.window_days),
                first_since=self.params.first_seen_since(latest),
            )
        }
        self.n_docs = store.vocabulary(()).n_docs
        self.apart = ThreadStore(store).kept_apart()
        self.horizon = latest
        self.loads += 1
        log.info("clustering state: loaded %d open threads from the store", len(self.threads))

    def stored(self, store: Store, plan: ClusterPlan, new: Sequence[Article]) -> None:
        """Take a slice's plan as ``store.apply_plan`` and ``add_vocabulary`` stored it,
        then drop what fell out of the window."""
        # signatures packed: a daemon keeps ~6k open threads between its runs
        for thread in plan.new_threads:
            self.threads[thread.id] = replace(
                thread, signature=PackedSignature.of(thread.signature)
            )
        reread = set()  # threads to read back as the store now has them
        for e in plan.extensions:
            old = self.threads.get(e.thread_id)
            if old is None:  # not one the slice met (never planned so): the store knows
                reread.add(e.thread_id)
                continue
            self.threads[e.thread_id] = replace(
                old,
                article_ids=old.article_ids + e.article_ids,
                signature=PackedSignature.of(e.signature),
                last_updated=max(old.last_updated, e.last_updated),
            )
        merges = [m for m in plan.merges if m.merged_id != m.into_id]
        for m in merges:  # the survivor's members and first time change; pairs re-pointed
            self.threads.pop(m.merged_id, None)
            reread.add(m.into_id)
        if reread:
            ids = sorted(reread)
            marks = ",".join("?" * len(ids))
            query = f"SELECT id FROM threads WHERE id IN ({marks})"  # noqa: S608 - marks only
            self.threads.update(store.threads_where(query, ids))
        if merges:
            self.apart = ThreadStore(store).kept_apart()
        for term, n in plan.document_frequencies.items():
            if term in self.df:  # every slice term was looked up before it was clustered
                self.df[term] += n
        self.n_docs += len(new)
        self._prune(max(a.published for a in new))

    def _prune(self, latest: datetime) -> None:
        """Drop threads that no slice from ``latest - REACH_BACK`` on can meet, and the
        terms no slice used within the window before that."""
        at = latest - REACH_BACK
        if self.horizon is None or at <= self.horizon:
            return
        self.threads = {i: t for i, t in self.threads.items() if self.params.is_open(t, at)}
        stale = at - timedelta(days=self.params.window_days)
        for term in [t for t, when in self.used.items() if when < stale]:
            del self.used[term], self.df[term]
        self.horizon = at

    def committed(self, store: Store) -> None:
        """At the end of the batch's work, inside its transaction: the version the store
        will have once it commits, if no other writer commits in between (then the row
        says otherwise, and the next batch reloads)."""
        if self.horizon is not None and self._read is not None:
            self.reflects = store.clustering_after_commit(self._read)
        self._read = None

    def forget(self) -> None:
        self.threads, self.df, self.used = {}, {}, {}
        self.n_docs, self.apart, self.horizon, self.reflects = 0, frozenset(), None, None
