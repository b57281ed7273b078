"""Event clustering: new articles + open threads -> a ClusterPlan (pure).

1. read        each article once: position-weighted terms (title, lead, the rest), its
               names, the event's day its lead gives, whether it is a roundup or a headline
               alone (``features``; names in ``entities``, days in ``when``)
2. vectorise   sublinear TF-IDF over the store's running document frequencies (``nodes``)
3. candidates  in publication order, each article's neighbours: the earlier articles of the
               batch within the time window, and the open threads (quiet for less than the
               window), that share the most weight on its heaviest terms, through an inverted
               index (no all-pairs matrix); two stored threads one article links are
               neighbours too, so a split made by an earlier run can be mended
4. link        average-link cores, then attachment of lone articles (``link``)
5. plan        new threads, extensions of stored threads, merges of stored threads (the
               merged id redirects), and why each article is where it is
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from digest.cluster.candidates import IndexParams, link_candidates
from digest.cluster.features import Features, Weights, features, scan_texts
from digest.cluster.link import (
    LinkParams,
    Merge,
    Node,
    absorb,
    agglomerate,
)
from digest.cluster.nodes import (
    PackedVectors,
    article_nodes,
    idf_of,
    packed_nodes,
    signature,
    thread_node,
)
from digest.models import (
    Article,
    ClusterPlan,
    EventThread,
    JoinReason,
    PackedSignature,
    ThreadExtension,
    ThreadMerge,
)

__all__ = [
    "ClusterParams",
    "LinkParams",
    "Vocabulary",
    "Weights",
    "document_frequencies",
    "plan_clusters",
    "read_articles",
    "stored_terms",
    "thread_signature",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterParams:
    link: LinkParams = field(default_factory=LinkParams)
    weights: Weights = field(default_factory=Weights)
    window_days: float = 3.0  # a thread quiet for longer than this takes no new articles
    # a thread whose first article is older than this takes none either (0: no limit): one
    # that keeps getting an article every few days would otherwise never close, and grow
    # into every later event of its kind
    max_thread_days: float = 7.0
    article_terms: int = 120  # terms kept per article vector (its heaviest)
    probe_terms: int = 12  # an article's heaviest terms, used to find its candidates
    index_terms: int = 30  # a node is found by its heaviest terms
    max_candidates: int = 10  # neighbours per article
    common: int = 200  # a term posted by more nodes than this is too common to probe

    @property
    def index(self) -> IndexParams:
        return IndexParams(
            window_days=self.window_days,
            probe_terms=self.probe_terms,
            index_terms=self.index_terms,
            max_candidates=self.max_candidates,
            common=self.common,
        )

    def first_seen_since(self, now: datetime) -> datetime | None:
        """The oldest first article an open thread may have at ``now`` (None: any)."""
        return now - timedelta(days=self.max_thread_days) if self.max_thread_days else None

    def is_open(self, thread: EventThread, now: datetime) -> bool:
        """Whether ``thread`` still takes new articles at ``now``."""
        oldest = self.first_seen_since(now)
        recent = now - thread.last_updated <= timedelta(days=self.window_days)
        return recent and (oldest is None or thread.first_seen >= oldest)


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    """Document frequencies seen before this batch (from the store)."""

    df: Mapping[str, int] = field(default_factory=dict)
    n_docs: int = 0


SCAN_ARTICLES = 128  # articles whose words are found together


def read_articles(articles: Iterable[Article], params: ClusterParams) -> dict[str, Features]:
    """Each article's features, by id (what clustering reads of it)."""
    batch, read = list(articles), {}
    # their words found a few hundred articles at a time (the words of a 20k slice held at
    # once would be ~0.4 GB; numpy's cost per call is paid per few hundred, not per text)
    for start in range(0, len(batch), SCAN_ARTICLES):
        part = batch[start : start + SCAN_ARTICLES]
        for a, both in zip(part, scan_texts(part, params.weights), strict=True):
            read[a.id] = features(a, params.weights, both)
    return read


def document_frequencies(read: Mapping[str, Features]) -> Counter[str]:
    """How many of the articles hold each term (for the store's running vocabulary)."""
    df: Counter[str] = Counter()
    for f in read.values():
        df.update(f.terms.keys_)  # (a tuple: a Mapping's keys view iterates in Python)
    return df


def stored_terms(read: Mapping[str, Features]) -> set[str]:
    """The terms of ``read`` the store keeps document frequencies of (what to look up)."""
    return {t for f in read.values() for t in f.terms if " " not in t}


def plan_clusters(
    new: Sequence[Article],
    open_threads: Iterable[EventThread],
    *,
    now: datetime,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
    apart: frozenset[frozenset[str]] = frozenset(),
    read: dict[str, Features] | None = None,
) -> ClusterPlan:
    """Assign each new article to an open thread or a new one; return the plan, with the
    batch's document frequencies for the store's vocabulary. ``apart``: pairs of thread
    ids an operator split, never merged again. ``read``: the articles' ``read_articles``
    when the caller has it (it looked their terms up in the store's vocabulary, which
    then needs to hold only those: ``stored_terms``); it is consumed (emptied as its articles
    become nodes: the features of a big batch are never all held beside its nodes)."""
    order = sorted(new, key=lambda a: (a.published, a.id))
    read = read if read is not None else read_articles(order, params)
    batch_df = document_frequencies(read)
    df: Counter[str] = Counter(vocabulary.df)
    df.update(batch_df)
    n_docs = vocabulary.n_docs + len(new)
    idf = idf_of(df, n_docs)
    del df
    default = math.log(1 + n_docs) + 1.0
    nodes = {t.id: thread_node(t) for t in open_threads if params.is_open(t, now)}
    # the threads as given are not read again: passed alone (the store's open threads, their
    # signatures ~13 MB for 5k threads) they go once they are nodes. Passed as an iterator
    # they go even when a wrapper of this function (a profiler, the benchmarks' stage clock)
    # holds its arguments through the call: a tuple's iterator drops the tuple when done
    del open_threads
    days: dict[str, date | None] = {}
    packed: list[PackedVectors] = []  # the article nodes' vectors as arrays, in order
    number: dict[str, int] = {}  # (the numbers of their terms)
    for start in range(0, len(order), _GROUP):  # features are dropped once they are nodes
        group = order[start : start + _GROUP]
        found = [read.pop(a.id) for a in group]
        days.update((a.id, f.day) for a, f in zip(group, found, strict=True))
        made, vectors = packed_nodes(group, found, idf, default, params.article_terms, number)
        nodes.update((node.id, node) for node in made)
        packed.append(vectors)
        del found, made, vectors
    del idf
    link_candidates(nodes, order, params.index, packed=packed, number=number)
    del packed, number
    merges = agglomerate(nodes, params.link, apart=apart)
    plan = _plan(nodes, merges, {a.id: a for a in order}, days)
    # word pairs are counted within a batch only: nearly all are rare, and kept over months
    # they would outgrow the rest of the store's vocabulary
    kept = {t: n for t, n in batch_df.items() if " " not in t}
    return replace(plan, document_frequencies=kept)


def thread_signature(
    articles: Sequence[Article],
    *,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
    read: Mapping[str, Features] | None = None,
) -> PackedSignature:
    """The stored signature of a thread made of ``articles`` (after an operator's split or
    move, the threads on both sides are summed again from their articles); ``read`` as
    for ``plan_clusters``."""
    if not articles:
        return PackedSignature.of(())
    found = read if read is not None else read_articles(articles, params)
    n_docs = max(vocabulary.n_docs, 1)
    idf = idf_of(vocabulary.df, n_docs)
    default = math.log(1 + n_docs) + 1.0
    nodes = article_nodes(
        articles, [found[a.id] for a in articles], idf, default, params.article_terms
    )
    first = nodes[0]
    for node in nodes[1:]:
        absorb(first, node, params.link)
    return signature(first)


_GROUP = 256  # articles vectorised together (bounds the arrays of one numpy pass: ~5 MB)


def _thread_id(first_article_id: str) -> str:
    return "t" + hashlib.sha256(first_article_id.encode()).hexdigest()[:12]


def _plan(
    nodes: Mapping[str, Node],
    merges: Sequence[Merge],
    articles: Mapping[str, Article],
    days: Mapping[str, date | None],
) -> ClusterPlan:
    thread_ids: dict[str, str] = {}  # alive node -> its thread's id
    new_threads, extensions = [], []
    for node in nodes.values():
        if not node.alive:
            continue
        if node.stored:
            thread_ids[node.id] = node.id
            if node.added or node.version:  # new articles, or a stored thread merged in
                extensions.append(
                    ThreadExtension(
                        thread_id=node.id,
                        article_ids=_in_order(node.added, articles),
                        signature=signature(node),
                        last_updated=node.last_updated,
                    )
                )
            continue
        members = _in_order(node.members, articles)
        thread_ids[node.id] = _thread_id(members[0])
        new_threads.append(
            EventThread(
                id=thread_ids[node.id],
                title=articles[members[0]].title,
                article_ids=members,
                first_seen=node.first_seen,
                last_updated=node.last_updated,
                signature=signature(node),
            )
        )
    end = _ends(nodes, merges)
    stored_merges = tuple(
        ThreadMerge(
            merged_id=m.absorbed,
            into_id=thread_ids[end[m.kept]],
            score=round(m.score, 4),
            terms=m.terms,
        )
        for m in merges
        if nodes[m.absorbed].stored
    )
    return ClusterPlan(
        new_threads=tuple(new_threads),
        extensions=tuple(extensions),
        merges=stored_merges,
        reasons=_reasons(merges, days, {a: thread_ids[end["a:" + a]] for a in articles}),
    )


def _in_order(ids: Iterable[str], articles: Mapping[str, Article]) -> tuple[str, ...]:
    return tuple(sorted(ids, key=lambda a: (articles[a].published, a)))


def _ends(nodes: Mapping[str, Node], merges: Sequence[Merge]) -> dict[str, str]:
    """Node id -> the alive node it ended in (itself when alive)."""
    kept_by = {m.absorbed: m.kept for m in merges}
    ends: dict[str, str] = {}
    for node_id in nodes:
        end = node_id
        while end in kept_by:
            end = kept_by[end]
        ends[node_id] = end
    return ends


def _reasons(
    merges: Sequence[Merge], days: Mapping[str, date | None], thread_of: Mapping[str, str]
) -> tuple[JoinReason, ...]:
    """Each new article's first link: the merge that brought it into a cluster; none
    when it started its thread (or the core that joined one)."""
    first: dict[str, Merge] = {}
    for m in merges:
        for member in m.absorbed_members:
            if member in thread_of:
                first.setdefault(member, m)
    reasons = []
    for article_id, thread_id in sorted(thread_of.items()):
        link = first.get(article_id)
        reasons.append(
            JoinReason(
                article_id=article_id,
                thread_id=thread_id,
                via="new" if link is None else "attach" if link.via == "attach" else "core",
                score=None if link is None else round(link.score, 4),
                terms=() if link is None else link.terms,
                names=() if link is None else link.names,
                event_day=days[article_id],
            )
        )
    return tuple(reasons)
