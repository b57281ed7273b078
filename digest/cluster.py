"""Event clustering: new articles + open threads -> a ClusterPlan (pure).

Single pass, incremental, in publication order (as a stream clusterer must be):

1. vectorise   each article as sublinear TF-IDF over stemmed content words, with the title
               and lead weighted up and capitalised names/numbers (the "who/where/how many"
               that separate two events of the same kind) weighted up again
2. retrieve    candidate threads through an inverted index on their salient terms (no
               all-pairs matrix), restricted to threads active within the time window
3. score       cosine against each candidate's centroid, raised for larger threads (a
               centroid of many members is a surer estimate of the event, while a short
               text's cosine to it shrinks as it grows), decayed by the time gap
4. assign      join the best thread above the threshold, else start a new thread
5. merge       small threads started in this batch join a larger candidate thread when
               their centroids agree (a second look within candidate sets, not all pairs)
6. plan        new threads and extensions of stored threads, for the store to apply
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import operator
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digest.models import Article, ClusterPlan, EventThread, ThreadExtension
from digest.text import STOPWORDS, content_terms, stem

Vector = dict[str, float]
_BY_WEIGHT_THEN_ID = operator.itemgetter(1, 0)

# a capitalised word not opening a sentence, or a number (\b first: the lookbehinds run
# only at word starts, which halves the time)
_NAME = re.compile(r"\b(?:(?<![.!?]\s)(?<!^)[A-Z][a-zA-Z'’-]+|\d[\d.,]*\b)")


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    """Document frequencies seen before this batch (from the store)."""

    df: Mapping[str, int] = field(default_factory=dict)
    n_docs: int = 0


def article_terms(article: Article, params: ClusterParams) -> Counter[str]:
    """Weighted term counts of one article (before IDF)."""
    counts: Counter[str] = Counter()
    body = article.text.split()
    lead, rest = (
        " ".join(body[: params.lead_words]),
        " ".join(body[params.lead_words : params.body_words]),
    )
    for text, weight in (
        (article.title, params.title_weight),
        (lead, params.lead_weight),
        (rest, 1.0),
    ):
        for term, n in Counter(content_terms(text)).items():
            counts[term] += n * weight
        names = Counter(_NAME.findall(text))
        for name, n in names.items():
            word = name.lower().replace("’", "'")
            if word not in STOPWORDS and len(word) > 1:
                counts[stem(word)] += n * params.name_weight * weight
    return counts


def term_counts(articles: Iterable[Article], params: ClusterParams) -> dict[str, Counter[str]]:
    """``article_terms`` of each article, by id (computed once, for clustering and df)."""
    return {a.id: article_terms(a, params) for a in articles}


def document_frequencies(
    articles: Iterable[Article],
    params: ClusterParams,
    *,
    terms: Mapping[str, Counter[str]] | None = None,
) -> Counter[str]:
    """How many of ``articles`` contain each term (for the store's running vocabulary)."""
    df: Counter[str] = Counter()
    for article in articles:
        counts = terms[article.id] if terms is not None else article_terms(article, params)
        df.update(counts.keys())
    return df


def _idf(df: Mapping[str, int], n_docs: int) -> Mapping[str, float]:
    return {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}


def _vectorise(
    counts: Counter[str], idf: Mapping[str, float], default_idf: float, keep: int
) -> Vector:
    weights = {t: (1.0 + math.log(c)) * idf.get(t, default_idf) for t, c in counts.items() if c > 0}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: w / norm for t, w in top}


def _dot(a: Vector, b: Vector) -> float:
    common = a.keys() & b.keys()  # the intersection and the products run in C
    return sum(map(operator.mul, map(a.__getitem__, common), map(b.__getitem__, common)))


def _top(vector: Vector, keep: int) -> tuple[Vector, float]:
    top = heapq.nlargest(keep, vector.items(), key=_BY_WEIGHT_THEN_ID)
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

    def refresh(self, keep: int) -> None:
        self.centroid, self.norm = _top(self.centroid, keep)

    def absorb(self, vector: Vector, when: datetime, keep: int) -> None:
        for term, weight in vector.items():
            self.centroid[term] = self.centroid.get(term, 0.0) + weight
        self.refresh(keep)
        self.last_updated = max(self.last_updated, when)

    def unit(self) -> Vector:
        return {t: w / (self.norm or 1.0) for t, w in self.centroid.items()}


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
        top = heapq.nlargest(limit, shared.items(), key=_BY_WEIGHT_THEN_ID)
        return [self.active[cid] for cid, _ in top if cid in self.active]


def _thread_id(first_article_id: str) -> str:
    return "t" + hashlib.sha256(first_article_id.encode()).hexdigest()[:12]


def _from_thread(thread: EventThread, keep: int) -> _Cluster:
    cluster = _Cluster(
        id=thread.id,
        title=thread.title,
        members=list(thread.article_ids),
        first_seen=thread.first_seen,
        last_updated=thread.last_updated,
        centroid=dict(thread.signature),
        stored=True,
    )
    cluster.refresh(keep)
    return cluster


def _similarity(vec: Vector, when: datetime, cluster: _Cluster, params: ClusterParams) -> float:
    gap_days = abs((when - cluster.last_updated).total_seconds()) / 86400
    if gap_days > params.window_days:
        return 0.0
    cosine = _dot(vec, cluster.centroid) / (cluster.norm or 1.0)
    boost = 1.0 + params.size_boost * math.log(len(cluster.members))
    return cosine * boost * 0.5 ** (gap_days / params.decay_days)


def _best(
    vec: Vector, when: datetime, index: _Index, params: ClusterParams, skip: _Cluster | None = None
) -> tuple[float, _Cluster | None]:
    """The most similar candidate (``skip``: a small cluster looking for a larger one)."""
    best: tuple[float, str] = (0.0, "")
    for cluster in index.candidates(vec, params.probe_terms, params.max_candidates):
        if skip is not None and (cluster is skip or len(cluster.members) < len(skip.members)):
            continue
        best = max(best, (_similarity(vec, when, cluster, params), cluster.id))
    return best[0], index.active.get(best[1])


def plan_clusters(
    new: Sequence[Article],
    open_threads: Sequence[EventThread],
    *,
    now: datetime,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
    terms: Mapping[str, Counter[str]] | None = None,
) -> ClusterPlan:
    """Assign each new article to an open thread or a new one; return the plan.
    ``terms``: ``term_counts(new, params)`` when the caller has them already."""
    counts = terms if terms is not None else term_counts(new, params)
    df: Counter[str] = Counter(vocabulary.df)
    for c in counts.values():
        df.update(c.keys())
    n_docs = vocabulary.n_docs + len(new)
    idf = _idf(df, n_docs)
    default_idf = math.log(1 + n_docs) + 1.0
    index = _Index(params.index_terms)
    for thread in open_threads:
        if (now - thread.last_updated) <= timedelta(days=params.window_days) or not new:
            index.add(_from_thread(thread, params.thread_terms))
    pending: dict[str, _Cluster] = {}  # new clusters not yet offered to the merge
    for n, article in enumerate(sorted(new, key=lambda a: (a.published, a.id)), 1):
        vec = _vectorise(counts[article.id], idf, default_idf, params.article_terms)
        score, cluster = _best(vec, article.published, index, params)
        if cluster is None or score < params.similarity_threshold:
            cluster = _new_cluster(article)
            pending[cluster.id] = cluster
            index.add(cluster)
        cluster.absorb(vec, article.published, params.thread_terms)
        cluster.members.append(article.id)
        cluster.added.append(article.id)
        index.post(cluster)
        if n % _RETIRE_EVERY == 0:
            _retire(article.published - timedelta(days=params.window_days), index, pending, params)
    _merge_small(list(pending.values()), index, params)
    return _to_plan(index.clusters.values())


_RETIRE_EVERY = 500  # articles between sweeps of clusters that left the time window


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
    small = [c for c in fresh if len(c.members) <= params.merge_max_size]
    for cluster in sorted(small, key=lambda c: len(c.members)):
        score, target = _best(cluster.unit(), cluster.last_updated, index, params, cluster)
        if target is None or score < params.merge_threshold:
            continue
        index.remove(cluster)
        target.absorb(cluster.centroid, cluster.last_updated, params.thread_terms)
        target.members.extend(cluster.members)
        target.added.extend(cluster.members)
        target.first_seen = min(target.first_seen, cluster.first_seen)
        index.post(target)


def _signature(cluster: _Cluster) -> tuple[tuple[str, float], ...]:
    return tuple((t, round(w, 6)) for t, w in cluster.centroid.items())


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
