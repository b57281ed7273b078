"""Event clustering: new articles + open threads -> a ClusterPlan (pure).

1. read        each article's position-weighted terms, title + lead, participants (names of
               the title and lead), event day and whether it is a roundup
               (``digest.clustering.features``)
2. vectorise   sublinear TF-IDF with the store's running document frequencies
3. nodes       every new article is a node, and so is every thread still open (updated
               within the window), kept as sums of its members' vectors
4. candidates  each article's neighbours through an inverted index on the nodes' heaviest
               terms (no all-pairs matrix); two stored threads an article links are
               neighbours too, so a thread split by an earlier run can be joined
5. merge       average-link agglomeration over the neighbours (``digest.clustering.link``)
6. plan        new threads, extensions of stored threads, and merges of stored threads
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digest.clustering.features import MARKS, NAME_MARK, YEAR_MARK, Features, Terms, Weights, features
from digest.clustering.link import LinkParams, Node, Scorer, Vector, agglomerate
from digest.models import Article, ClusterPlan, EventThread, ThreadExtension

__all__ = ["ClusterParams", "Vocabulary", "plan_clusters", "term_counts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterParams:
    link: LinkParams = LinkParams()
    weights: Weights = Weights()
    window_days: float = 3.0  # a thread quiet for longer than this takes no new articles
    article_terms: int = 120  # terms kept per article vector
    probe_terms: int = 12  # an article's heaviest terms, used to find its candidates
    index_terms: int = 30  # a node is found by its heaviest terms
    max_candidates: int = 16  # neighbours per article
    common: int = 200  # a term posted by more nodes than this is too common to probe


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    """Document frequencies seen before this batch (from the store)."""

    df: Mapping[str, int] = field(default_factory=dict)
    n_docs: int = 0


def term_counts(articles: Iterable[Article], params: ClusterParams) -> dict[str, Features]:
    """Each article's features, by id (computed once, for clustering and the vocabulary)."""
    return {a.id: features(a, params.weights) for a in articles}


def document_frequencies(found: Mapping[str, Features]) -> Counter[str]:
    """How many articles hold each term (for the store's running vocabulary)."""
    df: Counter[str] = Counter()
    for f in found.values():
        df.update(f.terms.keys())
    return df


def _idf(df: Mapping[str, int], n_docs: int) -> dict[str, float]:
    return {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}


def _vectorise(counts: Mapping[str, float], idf: Mapping[str, float], default: float, keep: int) -> Vector:
    weights = {t: (1.0 + math.log(c)) * idf.get(t, default) for t, c in counts.items() if c > 0}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    length = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: w / length for t, w in top}


def _article_node(article: Article, f: Features, idf: Mapping[str, float], default: float, params: ClusterParams) -> Node:
    plain = {t: c for t, c in f.terms.items() if t[0] not in MARKS}
    names = {t: c for t, c in f.terms.items() if t[0] == NAME_MARK}
    years = {t: 1.0 for t in f.terms if t[0] == YEAR_MARK}
    head = {t: c for t, c in f.head.items() if t[0] not in MARKS}
    day = f.day.toordinal() if f.day else None
    return Node(
        id="a:" + article.id,
        title=article.title,
        members=[article.id],
        first_seen=article.published,
        last_updated=article.published,
        vec=_vectorise(plain, idf, default, params.article_terms),
        names=_vectorise(names, idf, default, params.article_terms // 4),
        head=_vectorise(head, idf, default, params.article_terms // 2),
        who={p: 1.0 for p in f.participants},
        years=years,
        day_lo=day,
        day_hi=day,
        stored=False,
        roundup=f.roundup,
        short=int(f.short),
        added=[article.id],
    )


# signature keys: plain = content sum; "@" names sum; "#" years; "^" head sum;
# "!" participant counts; "%lo"/"%hi" event-day range; "&roundup"
def _thread_node(thread: EventThread) -> Node:
    vec: Vector = {}
    names: Vector = {}
    head: Vector = {}
    who: dict[str, float] = {}
    years: dict[str, float] = {}
    lo = hi = None
    roundup = False
    short = 0
    for key, w in thread.signature:
        mark = key[0]
        if mark == NAME_MARK:
            names[key] = w
        elif mark == YEAR_MARK:
            years[key] = w
        elif mark == "^":
            head[key[1:]] = w
        elif mark == "!":
            who[key[1:]] = w
        elif key == "%lo":
            lo = int(w)
        elif key == "%hi":
            hi = int(w)
        elif key == "&roundup":
            roundup = True
        elif key == "&short":
            short = int(w)
        else:
            vec[key] = w
    return Node(
        id=thread.id,
        title=thread.title,
        members=list(thread.article_ids),
        first_seen=thread.first_seen,
        last_updated=thread.last_updated,
        vec=vec,
        names=names,
        head=head,
        who=who,
        years=years,
        day_lo=lo,
        day_hi=hi,
        stored=True,
        roundup=roundup,
        short=short,
    )


def _signature(node: Node) -> tuple[tuple[str, float], ...]:
    items: list[tuple[str, float]] = [*node.vec.items(), *node.names.items(), *node.years.items()]
    items += [("^" + k, w) for k, w in node.head.items()]
    items += [("!" + k, w) for k, w in node.who.items()]
    if node.day_lo is not None and node.day_hi is not None:
        items += [("%lo", float(node.day_lo)), ("%hi", float(node.day_hi))]
    if node.roundup:
        items.append(("&roundup", 1.0))
    if node.short:
        items.append(("&short", float(node.short)))
    return tuple((k, round(w, 6)) for k, w in items)


def _link_candidates(nodes: dict[str, Node], new_ids: Sequence[str], params: ClusterParams) -> None:
    postings: defaultdict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        for term, _ in sorted(node.vec.items(), key=lambda kv: (-kv[1], kv[0]))[: params.index_terms]:
            postings[term].append(node.id)
    for nid in new_ids:
        me = nodes[nid]
        shared: defaultdict[str, float] = defaultdict(float)
        probe = sorted(me.vec.items(), key=lambda kv: (-kv[1], kv[0]))[: params.probe_terms]
        for term, weight in probe:
            ids = postings.get(term, ())
            if len(ids) > params.common:
                continue
            for other in ids:
                if other != nid:
                    shared[other] += weight
        best = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[: params.max_candidates]
        stored = [o for o, _ in best if nodes[o].stored]
        for other, _ in best:
            me.nbrs.add(other)
            nodes[other].nbrs.add(nid)
        for x in stored:  # threads this article links may turn out to be one event
            nodes[x].nbrs.update(y for y in stored if y != x)


def _thread_id(first_article_id: str) -> str:
    return "t" + hashlib.sha256(first_article_id.encode()).hexdigest()[:12]


def plan_clusters(
    new: Sequence[Article],
    open_threads: Sequence[EventThread],
    *,
    now: datetime,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
    terms: Mapping[str, Features] | None = None,
) -> ClusterPlan:
    """Assign each new article to an open thread or a new one; return the plan."""
    found = terms if terms is not None else term_counts(new, params)
    df: Counter[str] = Counter(vocabulary.df)
    for f in found.values():
        df.update(f.terms.keys())
    n_docs = vocabulary.n_docs + len(new)
    idf = _idf(df, n_docs)
    default = math.log(1 + n_docs) + 1.0
    nodes: dict[str, Node] = {}
    window = timedelta(days=params.window_days)
    for thread in open_threads:
        if now - thread.last_updated <= window or not new:
            nodes[thread.id] = _thread_node(thread)
    order = sorted(new, key=lambda a: (a.published, a.id))
    published = {a.id: a.published for a in order}
    for article in order:
        node = _article_node(article, found[article.id], idf, default, params)
        nodes[node.id] = node
    _link_candidates(nodes, ["a:" + a.id for a in order], params)
    agglomerate(nodes, Scorer(params.link, idf, default))
    return _plan(nodes, published)


def _plan(nodes: Mapping[str, Node], published: Mapping[str, datetime]) -> ClusterPlan:
    new_threads, extensions = [], []
    for node in nodes.values():
        if not node.alive:
            continue
        if node.stored:
            if node.added:
                extensions.append(
                    ThreadExtension(
                        thread_id=node.id,
                        article_ids=tuple(sorted(node.added, key=lambda a: (published[a], a))),
                        signature=_signature(node),
                        last_updated=node.last_updated,
                    )
                )
            continue
        members = tuple(sorted(node.members, key=lambda a: (published[a], a)))
        new_threads.append(
            EventThread(
                id=_thread_id(members[0]),
                title=node.title,
                article_ids=members,
                first_seen=node.first_seen,
                last_updated=node.last_updated,
                signature=_signature(node),
            )
        )
    return ClusterPlan(new_threads=tuple(new_threads), extensions=tuple(extensions))
