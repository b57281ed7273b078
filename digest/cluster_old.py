"""Event clustering: new articles + open threads -> a ClusterPlan (pure).

Single pass, incremental, in publication order (as a stream clusterer must be):

1. vectorise   each article as sublinear TF-IDF over stemmed content words, with the title
               and lead weighted up and capitalised names/numbers (the "who/where/how many"
               that separate two events of the same kind) weighted up again; the names
               also as a vector of their own, and the years of title and lead apart
               (``digest.vectors``)
2. retrieve    candidate threads through an inverted index on their salient terms (no
               all-pairs matrix), restricted to threads active within the time window
3. score       cosine against each candidate's centroid, raised for larger threads (a
               centroid of many members is a surer estimate of the event, while a short
               text's cosine to it shrinks as it grows), decayed by the time gap, and
               lowered when both sides name years and their main years differ; a thread
               that shares no names with an article that has some is not a candidate
4. assign      join the best thread above the threshold, else start a new thread
5. merge       small threads started in this batch join a larger candidate thread when
               their centroids agree and, when both name people or places, so do their
               names (a second look within candidate sets, not all pairs); every
               ``sweep_articles`` articles and at the end of the batch, so a long run
               behaves like a series of short ones
6. plan        new threads and extensions of stored threads, for the store to apply
"""

from __future__ import annotations

import hashlib
import itertools
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digest.models import Article, ClusterPlan, EventThread, ThreadExtension
from digest.vectors import (
    NAME_MARK,
    YEAR_MARK,
    Doc,
    Terms,
    Vector,
    article_terms,
    doc_vectors,
    document_frequencies,
    dot,
    idf_of,
    term_counts,
)

__all__ = [
    "ClusterParams",
    "Vocabulary",
    "article_terms",
    "document_frequencies",
    "plan_clusters",
    "term_counts",
]

_BY_WEIGHT_THEN_ID = operator.itemgetter(1, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterParams:
    similarity_threshold: float = 0.36
    window_days: float = 3.0  # a thread quiet for longer than this is closed to new articles
    decay_days: float = 2.0  # similarity halves over this gap between article and thread
    title_weight: float = 3.0
    lead_weight: float = 1.5
    name_weight: float = 2.0  # extra weight for capitalised names and numbers
    lead_words: int = 80
    body_words: int = 600  # text beyond this is not read (speed; leads carry the event)
    article_terms: int = 120  # terms kept per article vector
    thread_terms: int = 100  # terms kept per thread centroid
    probe_terms: int = 12  # top article terms used to retrieve candidate threads
    size_boost: float = 0.15  # the score grows by this times ln(thread size)
    merge_threshold: float = 0.22  # a small new thread merges at this centroid similarity
    merge_max_size: int = 4  # "small": at most this many articles
    max_candidates: int = 16  # candidates scored in full, by shared probe-term weight
    index_terms: int = 30  # heaviest centroid terms a thread is found by
    name_terms: int = 30  # names/numbers kept per article and thread "who/where" vector
    merge_name_threshold: float = 0.2  # a merge also needs this names' cosine (both have names)
    # joining needs at least this names' cosine (both have names): a big thread no longer
    # takes in an article of its kind that shares none of its people, places or numbers
    join_name_threshold: float = 0.05
    year_penalty: float = 0.8  # score factor when both name years but not the same main ones
    sweep_articles: int = 500  # articles between second looks (and window sweeps) in a run


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    """Document frequencies seen before this batch (from the store)."""

    df: Mapping[str, int] = field(default_factory=dict)
    n_docs: int = 0


def _top(vector: Vector, keep: int) -> tuple[Vector, float]:
    # sorted() with a C key beats heapq.nlargest here (a few hundred items); ids are unique,
    # so the order is the same
    top = sorted(vector.items(), key=_BY_WEIGHT_THEN_ID, reverse=True)[:keep]
    return dict(top), math.sqrt(sum(w * w for _, w in top))


@dataclass(slots=True)
class _Cluster:
    id: str
    title: str
    members: list[str]
    first_seen: datetime
    last_updated: datetime
    centroid: Vector  # sum of member vectors, cut to the top ``thread_terms``
    stored: bool
    added: list[str] = field(default_factory=list)
    norm: float = 0.0
    posted: set[str] = field(default_factory=set)  # terms the index lists it under
    names: Vector = field(default_factory=dict)  # sum of member name vectors, cut likewise
    names_norm: float = 0.0
    years: Vector = field(default_factory=dict)  # year -> members naming it up front
    offered_at: int = 0  # its size when last offered to the merge (new clusters)

    def refresh(self, params: ClusterParams) -> None:
        self.centroid, self.norm = _top(self.centroid, params.thread_terms)
        self.names, self.names_norm = _top(self.names, params.name_terms)

    def absorb(self, doc: Doc, when: datetime, params: ClusterParams) -> None:
        for own, new in (
            (self.centroid, doc.vec),
            (self.names, doc.names),
            (self.years, doc.years),
        ):
            for term, weight in new.items():
                own[term] = own.get(term, 0.0) + weight
        self.refresh(params)
        self.last_updated = max(self.last_updated, when)

    def doc(self, *, unit: bool = False) -> Doc:
        """The cluster as one document (centroids scaled to length 1 if ``unit``)."""
        if not unit:
            return Doc(self.centroid, self.names, self.years)
        return Doc(
            _scaled(self.centroid, self.norm), _scaled(self.names, self.names_norm), self.years
        )


def _scaled(vector: Vector, norm: float) -> Vector:
    return {t: w / (norm or 1.0) for t, w in vector.items()}


_COMMON = 200  # active clusters per term beyond which a probe term is too common to use


class _Index:
    """Inverted index over the *active* clusters (those still inside the time window):
    term -> ids of clusters whose centroid holds (or held) the term."""

    def __init__(self, depth: int) -> None:
        self.depth = depth  # the heaviest ``depth`` centroid terms are indexed
        self.postings: defaultdict[str, set[str]] = defaultdict(set)
        self.clusters: dict[str, _Cluster] = {}  # every cluster, for the plan
        self.active: dict[str, _Cluster] = {}

    def add(self, cluster: _Cluster) -> None:
        self.clusters[cluster.id] = cluster
        self.active[cluster.id] = cluster
        self.post(cluster)

    def post(self, cluster: _Cluster) -> None:
        for term in itertools.islice(cluster.centroid, self.depth):  # heaviest first
            if term not in cluster.posted:
                cluster.posted.add(term)
                self.postings[term].add(cluster.id)

    def remove(self, cluster: _Cluster) -> None:
        """Forget a cluster (merged into another)."""
        del self.clusters[cluster.id]
        self.retire((cluster,))

    def retire(self, clusters: Iterable[_Cluster]) -> None:
        """Close clusters to new members (they stay in the plan)."""
        for cluster in clusters:
            self.active.pop(cluster.id, None)
            for term in cluster.posted:
                self.postings[term].discard(cluster.id)
            cluster.posted.clear()

    def candidates(self, vec: Vector, probe: int, limit: int) -> list[_Cluster]:
        """Active clusters sharing the most weight with ``vec``'s ``probe`` heaviest terms.
        A term posted by more than ``_COMMON`` clusters says little about which event this
        is; it is passed over while rarer probe terms remain."""
        shared: defaultdict[str, float] = defaultdict(float)
        lists = [(vec[t], self.postings.get(t, ())) for t in itertools.islice(vec, probe)]
        rare = [(w, ids) for w, ids in lists if len(ids) <= _COMMON]
        for weight, ids in rare or sorted(lists, key=lambda wi: len(wi[1]))[:1]:
            for cid in ids:
                shared[cid] += weight
        top = sorted(shared.items(), key=_BY_WEIGHT_THEN_ID, reverse=True)[:limit]
        return [self.active[cid] for cid, _ in top if cid in self.active]


def _thread_id(first_article_id: str) -> str:
    return "t" + hashlib.sha256(first_article_id.encode()).hexdigest()[:12]


def _from_thread(thread: EventThread, params: ClusterParams) -> _Cluster:
    cluster = _Cluster(
        id=thread.id,
        title=thread.title,
        members=list(thread.article_ids),
        first_seen=thread.first_seen,
        last_updated=thread.last_updated,
        centroid={t: w for t, w in thread.signature if t[0] not in _MARKS},
        names={t: w for t, w in thread.signature if t[0] == NAME_MARK},
        years={t: w for t, w in thread.signature if t[0] == YEAR_MARK},
        stored=True,
    )
    cluster.refresh(params)
    return cluster


_MARKS = frozenset((NAME_MARK, YEAR_MARK))


def _main(years: Vector) -> set[str]:
    """The years named by at least half as many members as the most named one."""
    top = max(years.values())
    return {y for y, n in years.items() if n * 2 >= top}


def _similarity(doc: Doc, when: datetime, cluster: _Cluster, params: ClusterParams) -> float:
    """The score of ``cluster`` for an article (or a small cluster)."""
    gap_days = abs((when - cluster.last_updated).total_seconds()) / 86400
    if gap_days > params.window_days:
        return 0.0
    cosine = dot(doc.vec, cluster.centroid) / (cluster.norm or 1.0)
    if doc.years and cluster.years and not _main(doc.years) & _main(cluster.years):
        cosine *= params.year_penalty
    boost = 1.0 + params.size_boost * math.log(len(cluster.members))
    decay: float = 0.5 ** (gap_days / params.decay_days)
    return cosine * boost * decay


def _names_disagree(doc: Doc, cluster: _Cluster, bar: float) -> bool:
    """Both name people, places or numbers, and their names' cosine is under ``bar``
    (either side without names is no evidence either way)."""
    if not doc.names or not cluster.names:
        return False
    return dot(doc.names, cluster.names) / cluster.names_norm < bar


def _best(
    doc: Doc,
    when: datetime,
    index: _Index,
    params: ClusterParams,
    skip: _Cluster | None = None,
) -> tuple[float, _Cluster | None]:
    """The most similar candidate whose names do not disagree (``skip``: a small cluster
    looking for a larger one, held to the merge's higher bar on names)."""
    bar = params.join_name_threshold if skip is None else params.merge_name_threshold
    best: tuple[float, str] = (0.0, "")
    for cluster in index.candidates(doc.vec, params.probe_terms, params.max_candidates):
        if skip is not None and (cluster is skip or len(cluster.members) < len(skip.members)):
            continue
        scored = (_similarity(doc, when, cluster, params), cluster.id)
        if scored > best and not _names_disagree(doc, cluster, bar):
            best = scored
    return best[0], index.active.get(best[1])


def plan_clusters(
    new: Sequence[Article],
    open_threads: Sequence[EventThread],
    *,
    now: datetime,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
    terms: Mapping[str, Terms] | None = None,
) -> ClusterPlan:
    """Assign each new article to an open thread or a new one; return the plan.
    ``terms``: ``term_counts(new, params)`` when the caller has them already."""
    counts = terms if terms is not None else term_counts(new, params)
    df: Counter[str] = Counter(vocabulary.df)
    for c in counts.values():
        df.update(c.keys())
    n_docs = vocabulary.n_docs + len(new)
    idf = idf_of(df, n_docs)
    default_idf = math.log(1 + n_docs) + 1.0
    index = _Index(params.index_terms)
    for thread in open_threads:
        if (now - thread.last_updated) <= timedelta(days=params.window_days) or not new:
            index.add(_from_thread(thread, params))
    pending: dict[str, _Cluster] = {}  # new clusters not yet offered to the merge
    for n, article in enumerate(sorted(new, key=lambda a: (a.published, a.id)), 1):
        doc = doc_vectors(counts[article.id], idf, default_idf, params)
        score, cluster = _best(doc, article.published, index, params)
        if cluster is None or score < params.similarity_threshold:
            cluster = _new_cluster(article)
            pending[cluster.id] = cluster
            index.add(cluster)
        cluster.absorb(doc, article.published, params)
        cluster.members.append(article.id)
        cluster.added.append(article.id)
        index.post(cluster)
        if n % params.sweep_articles == 0:
            _second_look(pending, index, params)
            _retire(article.published - timedelta(days=params.window_days), index, pending, params)
    _merge_small(list(pending.values()), index, params)
    return _to_plan(index.clusters.values())


def _second_look(pending: dict[str, _Cluster], index: _Index, params: ClusterParams) -> None:
    """Offer the small new threads that grew since their last offer to the merge; those
    merged away or grown past ``merge_max_size`` leave ``pending``. Each offer follows
    growth, so the offers in a run are bounded by its articles."""
    grown = [c for c in pending.values() if c.offered_at != len(c.members)]
    for cluster in grown:
        cluster.offered_at = len(cluster.members)
    _merge_small(grown, index, params)
    for cid in [
        cid
        for cid, c in pending.items()
        if cid not in index.clusters or len(c.members) > params.merge_max_size
    ]:
        del pending[cid]


def _retire(
    before: datetime, index: _Index, pending: dict[str, _Cluster], params: ClusterParams
) -> None:
    """Clusters quiet since ``before`` can take no more articles: offer the small new ones
    to the merge while their partners are still indexed, then close them all."""
    quiet = [c for c in index.active.values() if c.last_updated < before]
    if quiet:
        _merge_small([pending.pop(c.id) for c in quiet if c.id in pending], index, params)
        index.retire(c for c in quiet if c.id in index.clusters)


def _new_cluster(article: Article) -> _Cluster:
    return _Cluster(
        id=_thread_id(article.id),
        title=article.title,
        members=[],
        first_seen=article.published,
        last_updated=article.published,
        centroid={},
        stored=False,
    )


def _merge_small(fresh: Sequence[_Cluster], index: _Index, params: ClusterParams) -> None:
    """Small threads of this batch join a larger candidate thread whose centroid agrees."""
    for cluster in sorted(fresh, key=lambda c: len(c.members)):
        if len(cluster.members) > params.merge_max_size:
            continue  # not small, or grown past it by the merges before: a thread of its own
        score, target = _best(cluster.doc(unit=True), cluster.last_updated, index, params, cluster)
        if target is None or score < params.merge_threshold:
            continue
        index.remove(cluster)
        target.absorb(cluster.doc(), cluster.last_updated, params)
        target.members.extend(cluster.members)
        target.added.extend(cluster.members)
        target.first_seen = min(target.first_seen, cluster.first_seen)
        index.post(target)


def _signature(cluster: _Cluster) -> tuple[tuple[str, float], ...]:
    items = itertools.chain(cluster.centroid.items(), cluster.names.items(), cluster.years.items())
    return tuple((t, round(w, 6)) for t, w in items)


def _to_plan(clusters: Iterable[_Cluster]) -> ClusterPlan:
    new_threads, extensions = [], []
    for c in clusters:
        if not c.stored:
            new_threads.append(
                EventThread(
                    id=c.id,
                    title=c.title,
                    article_ids=tuple(c.members),
                    first_seen=c.first_seen,
                    last_updated=c.last_updated,
                    signature=_signature(c),
                )
            )
        elif c.added:
            extensions.append(
                ThreadExtension(
                    thread_id=c.id,
                    article_ids=tuple(c.added),
                    signature=_signature(c),
                    last_updated=c.last_updated,
                )
            )
    return ClusterPlan(new_threads=tuple(new_threads), extensions=tuple(extensions))
