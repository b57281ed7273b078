"""Event clustering: new articles + open threads -> a ClusterPlan (pure).

Single pass, incremental, in publication order (as a stream clusterer must be):

1. vectorise   each article as sublinear TF-IDF over stemmed content words, with the title
               and lead weighted up and capitalised names/numbers (the "who/where/how many"
               that separate two events of the same kind) weighted up again
2. retrieve    candidate threads through an inverted index on their salient terms (no
               all-pairs matrix), restricted to threads active within the time window
3. score       cosine against each candidate's centroid, decayed by the time gap
4. assign      join the best thread above the threshold, else start a new thread
5. plan        new threads and extensions of stored threads, for the store to apply
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
    similarity_threshold: float = 0.24
    window_days: float = 3.0  # a thread quiet for longer than this is closed to new articles
    decay_days: float = 2.0  # similarity halves over this gap between article and thread
    title_weight: float = 3.0
    lead_weight: float = 1.5
    name_weight: float = 1.0  # extra weight for capitalised names and numbers
    lead_words: int = 80
    body_words: int = 600  # text beyond this is not read (speed; leads carry the event)
    article_terms: int = 80  # terms kept per article vector
    thread_terms: int = 150  # terms kept per thread centroid
    probe_terms: int = 12  # top article terms used to retrieve candidate threads


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


def _cosine(vec: Vector, centroid: Vector, centroid_norm: float) -> float:
    small, large = (vec, centroid) if len(vec) < len(centroid) else (centroid, vec)
    return sum(w * large.get(t, 0.0) for t, w in small.items()) / (centroid_norm or 1.0)


@dataclass(slots=True)
class _Cluster:
    id: str
    title: str
    members: list[str]
    first_seen: datetime
    last_updated: datetime
    centroid: Vector
    stored: bool
    added: list[str] = field(default_factory=list)
    norm: float = 0.0

    def refresh(self, keep: int) -> None:
        top = sorted(self.centroid.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
        self.centroid = dict(top)
        self.norm = math.sqrt(sum(w * w for _, w in top))


class _Index:
    """Inverted index: term -> ids of clusters whose centroid holds the term."""

    def __init__(self) -> None:
        self.postings: defaultdict[str, set[str]] = defaultdict(set)
        self.clusters: dict[str, _Cluster] = {}

    def add(self, cluster: _Cluster) -> None:
        self.clusters[cluster.id] = cluster
        for term in cluster.centroid:
            self.postings[term].add(cluster.id)

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


def _score(vec: Vector, when: datetime, cluster: _Cluster, params: ClusterParams) -> float:
    gap_days = abs((when - cluster.last_updated).total_seconds()) / 86400
    if gap_days > params.window_days:
        return 0.0
    return _cosine(vec, cluster.centroid, cluster.norm) * 0.5 ** (gap_days / params.decay_days)


def _best(vec: Vector, when: datetime, index: _Index, params: ClusterParams) -> _Cluster | None:
    probe = list(vec)[: params.probe_terms]
    scored = (
        (_score(vec, when, index.clusters[cid], params), cid) for cid in index.candidates(probe)
    )
    best = max(scored, default=(0.0, ""), key=lambda sc: (sc[0], sc[1]))
    return index.clusters[best[1]] if best[0] >= params.similarity_threshold else None


def _join(cluster: _Cluster, article: Article, vec: Vector, index: _Index, keep: int) -> None:
    for term, weight in vec.items():
        cluster.centroid[term] = cluster.centroid.get(term, 0.0) + weight
        index.postings[term].add(cluster.id)
    cluster.refresh(keep)
    cluster.members.append(article.id)
    cluster.added.append(article.id)
    cluster.last_updated = max(cluster.last_updated, article.published)


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
    for article in sorted(new, key=lambda a: (a.published, a.id)):
        vec = _vectorise(counts[article.id], idf, default_idf, params.article_terms)
        cluster = _best(vec, article.published, index, params)
        if cluster is not None:
            _join(cluster, article, vec, index, params.thread_terms)
            continue
        fresh = _Cluster(
            id=_thread_id(article.id),
            title=article.title,
            members=[article.id],
            first_seen=article.published,
            last_updated=article.published,
            centroid=dict(vec),
            stored=False,
        )
        fresh.refresh(params.thread_terms)
        index.add(fresh)
    return _to_plan(index.clusters.values())


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
