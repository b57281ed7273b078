"""Average-link agglomeration over candidate pairs (pure).

Each node is a cluster kept as *sums*: of its members' unit content vectors, name vectors
and head (title + lead) vectors, and counts of the participants their heads name. The mean
cosine between two clusters' members (group-average, "average link") is then one dot product
of their sums divided by both sizes, exactly; a big, mixed cluster has a low average and does
not attract what merely touches its topic, which a centroid's cosine would.

The merge score is that average, discounted when the two clusters' event days are more than a
day apart, when each side has participants the other does not name (the call between two
presidents and the foreign minister's visit to one of them share a leader, not an event),
when both name people or places and the names disagree, and when their main years differ.
The best pair above the threshold merges first; its neighbours are re-scored; repeat.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

Vector = dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkParams:
    threshold: float = 0.2  # merge while the best pair's score is at least this
    decay_days: float = 1.0  # beyond one day apart, the score halves per this many days
    names_bar: float = 0.1  # both have names and their cosine is under this: no merge
    who_tolerance: float = 0.5  # share of participants one side may lack before a discount
    year_penalty: float = 0.8
    keep_terms: int = 150  # terms kept in a cluster's sums
    merge_stored: bool = True  # two stored threads may merge
    attach_threshold: float = 1.0  # then a lone new article joins its best thread at this
    attach_max_size: int = 1
    centroid_threshold: float = 2.0  # then clusters whose centroids' cosine reaches this merge
    attach_centroid: bool = False  # a lone article is scored by its cosine to the centroid
    short_centroid: bool = False  # headlines alone are compared by centroid cosine
    short_boost: float = 0.0


@dataclass(slots=True)
class Node:
    id: str
    title: str
    members: list[str]
    first_seen: datetime
    last_updated: datetime
    vec: Vector  # sum of the members' unit content vectors
    names: Vector  # sum of their unit name vectors
    head: Vector  # sum of their unit title + lead vectors
    who: dict[str, float]  # participant -> members whose head names it
    years: dict[str, float]
    day_lo: int | None  # event days (ordinals) of the members; None: undated
    day_hi: int | None
    stored: bool
    roundup: bool = False
    short: int = 0  # members that are headlines alone (no body worth the name)
    alive: bool = True
    added: list[str] = field(default_factory=list)
    nbrs: set[str] = field(default_factory=set)
    version: int = 0

    @property
    def size(self) -> int:
        return len(self.members)


def dot(a: Vector, b: Vector) -> float:
    if len(b) < len(a):
        a, b = b, a
    total = 0.0
    get = b.get
    for k, w in a.items():
        x = get(k)
        if x is not None:
            total += w * x
    return total


def norm(v: Vector) -> float:
    return math.sqrt(sum(w * w for w in v.values()))


def missing(a: Node, b: Node, idf: Mapping[str, float], default_idf: float) -> float:
    """The idf-weighted share of ``a``'s participants (each weighed by how many of ``a``'s
    heads name it) that ``b``'s heads name less often."""
    total = lacking = 0.0
    for key, count in a.who.items():
        weight = idf.get(key, default_idf) * count / a.size
        total += weight
        there = b.who.get(key, 0.0) / b.size
        lacking += idf.get(key, default_idf) * max(0.0, count / a.size - there)
    return lacking / total if total else 0.0


def _main(years: Mapping[str, float]) -> set[str]:
    top = max(years.values())
    return {y for y, n in years.items() if n * 2 >= top}


@dataclass(slots=True)
class Scorer:
    params: LinkParams
    idf: Mapping[str, float]
    default_idf: float

    def score(self, a: Node, b: Node, centroid: bool = False) -> float:
        if a.roundup or b.roundup:
            return 0.0
        if centroid or (self.params.short_centroid and (a.short == a.size or b.short == b.size)):
            s = dot(a.vec, b.vec) / ((norm(a.vec) * norm(b.vec)) or 1.0)
            if a.short == a.size or b.short == b.size:
                s *= 1.0 + self.params.short_boost * math.log(max(a.size, b.size))
        else:
            s = dot(a.vec, b.vec) / (a.size * b.size)
        if s <= 0.0:
            return 0.0
        p = self.params
        if a.day_lo is not None and b.day_lo is not None and a.day_hi is not None:
            gap = max(a.day_lo, b.day_lo) - min(a.day_hi, b.day_hi or b.day_lo)
            if gap > 1:
                s *= 0.5 ** ((gap - 1) / p.decay_days)
        if a.names and b.names:
            if dot(a.names, b.names) / ((norm(a.names) * norm(b.names)) or 1.0) < p.names_bar:
                return 0.0
        if a.who and b.who:
            lack = min(
                missing(a, b, self.idf, self.default_idf), missing(b, a, self.idf, self.default_idf)
            )
            if lack > p.who_tolerance and p.who_tolerance < 1.0:
                s *= (1.0 - lack) / (1.0 - p.who_tolerance)
        if a.years and b.years and not _main(a.years) & _main(b.years):
            s *= p.year_penalty
        return s


def _top(v: Vector, keep: int) -> Vector:
    if len(v) <= keep:
        return v
    return dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])


def _absorb(a: Node, b: Node, keep: int) -> None:
    for own, other in ((a.vec, b.vec), (a.names, b.names), (a.head, b.head)):
        for k, w in other.items():
            own[k] = own.get(k, 0.0) + w
    for own_c, other_c in ((a.who, b.who), (a.years, b.years)):
        for k, c in other_c.items():
            own_c[k] = own_c.get(k, 0.0) + c
    a.vec, a.names, a.head = _top(a.vec, keep), _top(a.names, keep // 3), _top(a.head, keep)
    a.members.extend(b.members)
    a.added.extend(b.added)
    a.short += b.short
    a.first_seen = min(a.first_seen, b.first_seen)
    a.last_updated = max(a.last_updated, b.last_updated)
    if b.day_lo is not None:
        a.day_lo = b.day_lo if a.day_lo is None else min(a.day_lo, b.day_lo)
        a.day_hi = b.day_hi if a.day_hi is None else max(a.day_hi, b.day_hi or b.day_lo)
    a.version += 1
    b.alive = False


def agglomerate(
    nodes: dict[str, Node], scorer: Scorer, *, keep_apart: frozenset[frozenset[str]] = frozenset()
) -> list[tuple[str, str, float]]:
    """Merge the best-scoring neighbouring pair until none reaches the threshold; returns
    the merges made, as (kept id, merged id, score). Two stored threads may merge (the kept
    one is the larger, else the older); ``keep_apart`` pairs of ids never do."""
    threshold = scorer.params.threshold
    heap: list[tuple[float, str, str, int, int]] = []

    def offer(a: Node, b: Node) -> None:
        if frozenset((a.id, b.id)) in keep_apart:
            return
        if a.stored and b.stored and not scorer.params.merge_stored:
            return
        s = scorer.score(a, b)
        if s >= threshold:
            x, y = (a, b) if a.id < b.id else (b, a)
            heapq.heappush(heap, (-s, x.id, y.id, x.version, y.version))

    for node in nodes.values():
        for other in node.nbrs:
            if node.id < other:
                offer(node, nodes[other])
    merges: list[tuple[str, str, float]] = []
    while heap:
        negative, x, y, vx, vy = heapq.heappop(heap)
        a, b = nodes[x], nodes[y]
        if not (a.alive and b.alive) or a.version != vx or b.version != vy:
            continue
        if _keeps(b, a):
            a, b = b, a
        _absorb(a, b, scorer.params.keep_terms)
        merges.append((a.id, b.id, -negative))
        a.nbrs = (a.nbrs | b.nbrs) - {a.id, b.id}
        for other_id in a.nbrs:
            other = nodes[other_id]
            other.nbrs.discard(b.id)
            other.nbrs.add(a.id)
            if other.alive:
                offer(a, other)
    merges.extend(_attach(nodes, scorer))
    if scorer.params.centroid_threshold <= 1.0:
        merges.extend(_centroids(nodes, scorer))
    return merges


def _centroids(nodes: dict[str, Node], scorer: Scorer) -> list[tuple[str, str, float]]:
    bar = scorer.params.centroid_threshold
    heap = []
    for node in nodes.values():
        if node.alive:
            for o in node.nbrs:
                other = nodes[o]
                if node.id < o and other.alive and not (node.stored and other.stored):
                    s = scorer.score(node, other, centroid=True)
                    if s >= bar:
                        heapq.heappush(heap, (-s, node.id, o, node.version, other.version))
    merges = []
    while heap:
        negative, x, y, vx, vy = heapq.heappop(heap)
        a, b = nodes[x], nodes[y]
        if not (a.alive and b.alive) or a.version != vx or b.version != vy:
            continue
        if _keeps(b, a):
            a, b = b, a
        _absorb(a, b, scorer.params.keep_terms)
        merges.append((a.id, b.id, -negative))
        a.nbrs = (a.nbrs | b.nbrs) - {a.id, b.id}
        for other_id in a.nbrs:
            other = nodes[other_id]
            other.nbrs.discard(b.id)
            other.nbrs.add(a.id)
            if other.alive and not (a.stored and other.stored):
                s = scorer.score(a, other, centroid=True)
                if s >= bar:
                    p, q = (a, other) if a.id < other.id else (other, a)
                    heapq.heappush(heap, (-s, p.id, q.id, p.version, q.version))
    return merges


def _attach(nodes: dict[str, Node], scorer: Scorer) -> list[tuple[str, str, float]]:
    """Small new clusters (a reaction, an analysis, an angle of its own: at most
    ``attach_max_size`` articles) join the larger thread they score best with, at the lower
    ``attach_threshold``; best first, each offer made once (no chains)."""
    p = scorer.params
    offers = []
    for node in nodes.values():
        if node.alive and not node.stored and node.size <= p.attach_max_size:
            best = max(
                (
                    (scorer.score(node, nodes[o], centroid=p.attach_centroid), o)
                    for o in node.nbrs
                    if nodes[o].alive and (nodes[o].size > node.size or nodes[o].stored)
                ),
                default=(0.0, ""),
            )
            if best[0] >= p.attach_threshold:
                offers.append((best[0], node.id, best[1]))
    merges = []
    for score, nid, target in sorted(offers, reverse=True):
        a, b = nodes[target], nodes[nid]
        if a.alive and b.alive:
            _absorb(a, b, p.keep_terms)
            merges.append((a.id, b.id, score))
    return merges


def _keeps(b: Node, a: Node) -> bool:
    """``b`` is the one to keep when ``a`` and ``b`` merge: stored over new, then larger,
    then older (so permalinks of what readers have seen survive)."""
    return (b.stored, b.size, -b.first_seen.timestamp()) > (
        a.stored,
        a.size,
        -a.first_seen.timestamp(),
    )
