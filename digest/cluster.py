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
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digest.models import Article, ClusterPlan, EventThread, ThreadExtension
from digest.text import STOPWORDS, content_terms, stem

Vector = dict[str, float]

_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’-]+|\b\d[\d.,]*\b")


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
        for term in content_terms(text):
            counts[term] += weight
        for name in _NAME.findall(text):
            word = name.lower().replace("’", "'")
            if word not in STOPWORDS and len(word) > 1:
                counts[stem(word)] += params.name_weight * weight
    return counts


def document_frequencies(articles: Iterable[Article], params: ClusterParams) -> Counter[str]:
    """How many of ``articles`` contain each term (for the store's running vocabulary)."""
    df: Counter[str] = Counter()
    for article in articles:
        df.update(article_terms(article, params).keys())
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
    small, large = (a, b) if len(a) < len(b) else (b, a)
    return sum(w * large.get(t, 0.0) for t, w in small.items())


def _top(vector: Vector, keep: int) -> tuple[Vector, float]:
    top = sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
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

    def refresh(self, keep: int) -> None:
        self.centroid, self.norm = _top(self.centroid, keep)

    def absorb(self, vector: Vector, when: datetime, keep: int) -> None:
        for term, weight in vector.items():
            self.centroid[term] = self.centroid.get(term, 0.0) + weight
        self.refresh(keep)
        self.last_updated = max(self.last_updated, when)

    def unit(self) -> Vector:
        return {t: w / (self.norm or 1.0) for t, w in self.centroid.items()}


class _Index:
    """Inverted index: term -> ids of clusters whose centroid holds the term."""

    def __init__(self) -> None:
        self.postings: defaultdict[str, set[str]] = defaultdict(set)
        self.clusters: dict[str, _Cluster] = {}

    def add(self, cluster: _Cluster) -> None:
        self.clusters[cluster.id] = cluster
        self.post(cluster)

    def post(self, cluster: _Cluster) -> None:
        for term in cluster.centroid:
            self.postings[term].add(cluster.id)

    def remove(self, cluster: _Cluster) -> None:
        """Forget a cluster (postings of terms it has dropped may still name it)."""
        del self.clusters[cluster.id]
        for term in cluster.centroid:
            self.postings[term].discard(cluster.id)

    def candidates(self, probe: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for term in probe:
            found |= self.postings.get(term, set())
        return found


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
    for cid in index.candidates(list(vec)[: params.probe_terms]):  # vectors: heaviest first
        cluster = index.clusters.get(cid)
        if cluster is None or (
            skip is not None and (cluster is skip or len(cluster.members) < len(skip.members))
        ):
            continue
        best = max(best, (_similarity(vec, when, cluster, params), cid))
    return best[0], index.clusters.get(best[1])


def plan_clusters(
    new: Sequence[Article],
    open_threads: Sequence[EventThread],
    *,
    now: datetime,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
) -> ClusterPlan:
    """Assign each new article to an open thread or a new one; return the plan."""
    counts = {a.id: article_terms(a, params) for a in new}
    df: Counter[str] = Counter(vocabulary.df)
    for c in counts.values():
        df.update(c.keys())
    n_docs = vocabulary.n_docs + len(new)
    idf = _idf(df, n_docs)
    default_idf = math.log(1 + n_docs) + 1.0
    index = _Index()
    for thread in open_threads:
        if (now - thread.last_updated) <= timedelta(days=params.window_days) or not new:
            index.add(_from_thread(thread, params.thread_terms))
    fresh: list[_Cluster] = []
    for article in sorted(new, key=lambda a: (a.published, a.id)):
        vec = _vectorise(counts[article.id], idf, default_idf, params.article_terms)
        score, cluster = _best(vec, article.published, index, params)
        if cluster is None or score < params.similarity_threshold:
            cluster = _new_cluster(article)
            fresh.append(cluster)
            index.clusters[cluster.id] = cluster
        cluster.absorb(vec, article.published, params.thread_terms)
        cluster.members.append(article.id)
        cluster.added.append(article.id)
        index.post(cluster)
    _merge_small(fresh, index, params)
    return _to_plan(index.clusters.values())


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
