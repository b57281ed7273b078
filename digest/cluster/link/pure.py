"""The agglomeration in Python: the reference, and the path of small runs (pure).

See the package's docstring for what it does; ``kernel`` does the cores of large ones.
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

Vector = dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkParams:
    threshold: float = 0.18  # cores merge while the best pair's score reaches this
    attach_threshold: float = 0.10  # a lone new article then joins its best thread at this
    decay_days: float = 1.0  # beyond a day apart, the score halves per this many days
    names_threshold: float = 0.10  # both have names and their cosine is under this: no link
    year_penalty: float = 0.8  # both name years, but not the same main ones
    short_boost: float = 0.15  # headline scores grow by this times ln(cluster size)
    keep_terms: int = 150  # terms kept in a cluster's sums


@dataclass(slots=True)
class Node:
    id: str
    title: str
    members: list[str]
    first_seen: datetime
    last_updated: datetime
    vec: Vector  # sum of the members' unit content vectors
    names: Vector  # sum of their unit name vectors
    years: dict[str, float]
    day_lo: int | None  # event days (ordinals) of the members; None: undated
    day_hi: int | None
    stored: bool
    roundup: bool = False
    short: int = 0  # members that are headlines alone
    lang: str = "en"  # the language of its first members
    alive: bool = True
    added: list[str] = field(default_factory=list)
    cross: dict[str, float] = field(default_factory=dict)  # neighbour -> dot of the sums
    version: int = 0
    norm: float = -1.0  # cached lengths (-1: not computed)
    names_norm: float = -1.0

    @property
    def size(self) -> int:
        return len(self.members)

    def length(self) -> float:
        if self.norm < 0:
            self.norm = _length(self.vec)
        return self.norm

    def names_length(self) -> float:
        if self.names_norm < 0:
            self.names_norm = _length(self.names)
        return self.names_norm


@dataclass(frozen=True, slots=True, kw_only=True)
class Merge:
    """One merge: ``absorbed`` joined ``kept`` at ``score`` (``via`` "core" or "attach")."""

    kept: str
    absorbed: str
    absorbed_members: tuple[str, ...]
    score: float
    via: str
    terms: tuple[str, ...]  # the terms that weighed most in the link
    names: tuple[str, ...]


def dot(a: Vector, b: Vector) -> float:
    """Dot product of two sparse vectors (the intersection and products run in C)."""
    if len(b) < len(a):
        a, b = b, a
    common = a.keys() & b.keys()
    total: float = sum(map(operator.mul, map(a.__getitem__, common), map(b.__getitem__, common)))
    return total


def heaviest_first(items: list[tuple[str, float]]) -> None:
    """Sort (term, weight) pairs, each term once, heaviest first and ties by term, in
    place: the order of a sort by (-weight, term), done in C (by term, then stably by
    weight)."""
    items.sort()
    items.sort(key=_WEIGHT, reverse=True)


_WEIGHT = operator.itemgetter(1)


def _length(v: Vector) -> float:
    return math.sqrt(sum(w * w for w in v.values()))


def _main(years: Mapping[str, float]) -> set[str]:
    top = max(years.values())
    return {y for y, n in years.items() if n * 2 >= top}


_TWO = 2
MARGIN = 1.0 + 1e-9  # a dot this much over the bound still gets its score computed
_NAMES_AGREE = 0.6  # across languages only names (and years) can speak: they must agree


@dataclass(frozen=True, slots=True)
class Scorer:
    params: LinkParams

    def score(
        self, a: Node, b: Node, cross: float | None = None, floor: float | None = None
    ) -> float:
        """The link score of ``a`` and ``b`` (``cross``: the dot of their sums, if known).
        A score under ``floor`` (by default the attach threshold) is returned as soon as
        it is known to be under it, before the gates that can only lower it (names, years):
        the link score is then at most the value returned."""
        s = self.ungated(a, b, cross)
        if s < (self.params.attach_threshold if floor is None else floor):
            return s  # too low: the gates below cannot raise it
        return self.gated(a, b, s)

    def ungated(self, a: Node, b: Node, cross: float | None = None) -> float:
        """The score before the gates that can only lower it: an upper bound of ``score``."""
        if a.roundup or b.roundup:
            return 0.0
        if cross is None:
            cross = dot(a.vec, b.vec)
        if cross <= 0.0:
            return 0.0
        p = self.params
        a_size, b_size = len(a.members), len(b.members)  # (``size``, without the calls)
        headlines = a.short == a_size or b.short == b_size
        if headlines and not (a.stored and b.stored):  # headlines: cosine to a centroid
            if a_size == b_size == 1 and len(a.vec.keys() & b.vec.keys()) < _TWO:
                return 0.0  # two headlines sharing one word ("Montreal", "2025") are not one story
            s = cross / ((a.length() * b.length()) or 1.0)
            s *= 1.0 + p.short_boost * math.log(max(a_size, b_size))
        else:
            s = cross / (a_size * b_size)
        if a.lang != b.lang:  # only names can be compared across languages
            s = _across(a, b)
        if a.day_lo is not None and b.day_lo is not None:
            gap = max(a.day_lo, b.day_lo) - min(a.day_hi or a.day_lo, b.day_hi or b.day_lo)
            if gap > 1:
                s *= 0.5 ** ((gap - 1) / p.decay_days)
        return s

    def gated(self, a: Node, b: Node, s: float) -> float:
        """``s``, the ungated score of ``a`` and ``b``, through the gates: zero when both
        name people or places that disagree, lowered when their main years differ. The
        same either way round (the names' dot is exact on the 1/16384 grid)."""
        p = self.params
        if a.names and b.names:
            names = dot(a.names, b.names) / ((a.names_length() * b.names_length()) or 1.0)
            if names < p.names_threshold:
                return 0.0
        if a.years and b.years and not _main(a.years) & _main(b.years):
            s *= p.year_penalty
        return s


def _across(a: Node, b: Node) -> float:
    """The score of two nodes in different languages. Their words cannot be compared and
    capitals mean different things (German capitalises every noun), so: half the share of
    the names of the side naming fewer that the other names too, when it is at least
    ``_NAMES_AGREE`` of two or more names and their years do not differ; else 0."""
    if a.years and b.years and not _main(a.years) & _main(b.years):
        return 0.0
    fewer, more = (a.names, b.names) if len(a.names) <= len(b.names) else (b.names, a.names)
    shared = len(fewer.keys() & more.keys())
    if shared < _TWO:
        return 0.0
    agree = shared / len(fewer)
    return agree / 2 if agree >= _NAMES_AGREE else 0.0


def top_entries(v: Vector, keep: int, *, larger_ties: bool = True) -> Vector:
    """The ``keep`` heaviest entries of ``v``, ties by the larger term (``larger_ties``;
    else by the smaller, as ``heaviest_first`` orders them), in any order: the weights are
    whole 1/16384 steps, so no sum or product of them depends on the order. The cut is
    found by sorting the weights alone (floats, in C); only the terms tied at it are
    sorted."""
    if len(v) <= keep:
        return v
    cut = sorted(v.values(), reverse=True)[keep - 1]
    top = {k: w for k, w in v.items() if w > cut}
    if len(top) < keep:
        tied = sorted((k for k, w in v.items() if w == cut), reverse=larger_ties)
        top.update((k, v[k]) for k in tied[: keep - len(top)])
    return top


def _shared(a: Vector, b: Vector, keep: int = 6) -> tuple[str, ...]:
    """The ``keep`` terms of ``a`` and ``b`` with the largest products (ties by term)."""
    common = a.keys() & b.keys()  # (products and sort in C: 1.5x heapq.nlargest's time)
    products = zip(
        map(operator.mul, map(a.__getitem__, common), map(b.__getitem__, common)),
        common,
        strict=True,
    )
    return tuple(k for _, k in sorted(products, reverse=True)[:keep])


def _absorb(a: Node, b: Node, params: LinkParams, score: float, via: str) -> Merge:
    merge = Merge(
        kept=a.id,
        absorbed=b.id,
        absorbed_members=tuple(b.members),
        score=score,
        via=via,
        terms=_shared(a.vec, b.vec),
        names=tuple(n[1:] for n in _shared(a.names, b.names, 4)),
    )
    a.vec = top_entries(_added(a.vec, b.vec), params.keep_terms)
    a.names = top_entries(_added(a.names, b.names), params.keep_terms // 3)
    a.years = _added(a.years, b.years)
    a.norm = a.names_norm = -1.0
    join(a, b)
    return merge


def join(a: Node, b: Node) -> None:
    """What ``b`` adds to ``a`` beside its sums: members, counts, times, days."""
    a.members.extend(b.members)
    a.added.extend(b.added)
    a.short += b.short
    a.roundup = a.roundup and b.roundup
    a.first_seen = min(a.first_seen, b.first_seen)
    a.last_updated = max(a.last_updated, b.last_updated)
    if b.day_lo is not None:
        a.day_lo = b.day_lo if a.day_lo is None else min(a.day_lo, b.day_lo)
        a.day_hi = b.day_hi if a.day_hi is None else max(a.day_hi, b.day_hi or b.day_lo)
    a.version += 1
    b.alive = False


def _added(own: Vector, other: Vector) -> Vector:
    """``own + other``, keys in the order a loop adding ``other`` into ``own`` leaves them."""
    total = {**own, **other}
    for k in own.keys() & other.keys():
        total[k] = own[k] + other[k]
    return total


def absorb(kept: Node, gone: Node, params: LinkParams) -> None:
    """``gone``'s members and sums join ``kept`` (outside a clustering run)."""
    _absorb(kept, gone, params, 0.0, "override")


def cores(nodes: dict[str, Node], params: LinkParams, kept_apart: Apart) -> list[Merge]:
    """The cores of ``agglomerate`` (see there): the merges made, in order.

    Each neighbouring pair's dot of sums is computed once; after a merge, a neighbour of
    both sides gets the sum of its two (exact, as sums add up), one of a single side a
    fresh dot product."""
    scorer = Scorer(params)
    threshold = params.threshold
    # (-score, ids, versions, gated): a pair goes in at its ungated score, an upper bound,
    # and through the gates only when it comes out still current (most entries are stale
    # by then: a merge re-offers every neighbour). Come out ungated, lower after the gates,
    # it goes back in gated. What comes out gated, or the same after the gates, is then
    # the best pair by its gated score, ties by ids, as if every entry had been gated
    heap: list[tuple[float, str, str, int, int, bool]] = []

    def offer(a: Node, b: Node, cross: float) -> None:
        # two offers in three are passed over unscored: their score is the average of the
        # dot (neither is headlines alone, one language), the day gap only lowers it, and
        # the average alone is under the threshold (``ungated``)
        na, nb = len(a.members), len(b.members)
        if (
            cross * MARGIN < threshold * na * nb
            and a.short != na
            and b.short != nb
            and a.lang == b.lang
        ):
            return
        s = scorer.ungated(a, b, cross)
        if s >= threshold and not kept_apart.between(a.id, b.id):
            x, y = (a, b) if a.id < b.id else (b, a)
            heapq.heappush(heap, (-s, x.id, y.id, x.version, y.version, False))

    for node in nodes.values():
        for other_id, cross in node.cross.items():
            if node.id < other_id:
                offer(node, nodes[other_id], cross)
    merges: list[Merge] = []
    while heap:
        negative, x, y, vx, vy, gated = heapq.heappop(heap)
        kept, gone = nodes[x], nodes[y]
        if not (kept.alive and gone.alive) or kept.version != vx or gone.version != vy:
            continue
        score = -negative
        if not gated:
            score = scorer.gated(kept, gone, score)
            if score < threshold:
                continue
            if score != -negative:
                heapq.heappush(heap, (-score, x, y, vx, vy, True))
                continue
        if keeps(gone, kept):
            kept, gone = gone, kept
        merges.append(_absorb(kept, gone, params, score, "core"))
        kept_apart.inherit(kept.id, gone.id)
        _rewire(nodes, kept, gone, offer)
    return merges


def _rewire(
    nodes: dict[str, Node], kept: Node, gone: Node, offer: Callable[[Node, Node, float], None]
) -> None:
    """``gone`` is now part of ``kept``: its neighbours become ``kept``'s, with their sums
    (sums add up: a neighbour of both sides gets the sum of its two dot products; one of a
    single side a fresh dot product, so the average stays exact)."""
    cross: dict[str, float] = {}
    headlines = kept.short == kept.size
    for other_id in (kept.cross.keys() | gone.cross.keys()) - {kept.id, gone.id}:
        other = nodes[other_id]
        other.cross.pop(gone.id, None)
        if not other.alive:
            continue
        mine, theirs = kept.cross.get(other_id), gone.cross.get(other_id)
        if mine is not None and theirs is not None:
            value = mine + theirs
        elif mine is not None and not headlines and other.short != len(other.members):
            value = mine  # ``gone``'s pairs with it were not candidates: near nothing
        else:
            value = dot(kept.vec, other.vec)
        cross[other_id] = other.cross[kept.id] = value
        offer(kept, other, value)
    kept.cross = cross
    release(gone)


def release(gone: Node) -> None:
    """A node merged away keeps only its members (for the plan): its sums go."""
    gone.vec, gone.names, gone.cross = {}, {}, {}


def attach(nodes: dict[str, Node], scorer: Scorer, apart: Apart) -> list[Merge]:
    params = scorer.params
    offers = []
    for node in nodes.values():
        if not (node.alive and not node.stored and node.size == 1):
            continue
        best = max(
            (
                (scorer.score(node, nodes[o], node.cross.get(o)), o)
                for o in node.cross
                if nodes[o].alive
                and (nodes[o].size > 1 or nodes[o].stored)
                and not apart.between(node.id, o)
            ),
            default=(0.0, ""),
        )
        if best[0] >= params.attach_threshold:
            offers.append((best[0], node.id, best[1]))
    merges = []
    for score, node_id, target in sorted(offers, reverse=True):
        a, b = nodes[target], nodes[node_id]
        if a.alive and b.alive:
            merges.append(_absorb(a, b, params, score, "attach"))
            release(b)
    return merges


class Apart:
    """Pairs of clusters kept apart (an operator's split), followed through merges."""

    def __init__(self, pairs: frozenset[frozenset[str]]) -> None:
        self.pairs: dict[str, set[str]] = {}
        for pair in pairs:
            x, y = sorted(pair)
            self.pairs.setdefault(x, set()).add(y)
            self.pairs.setdefault(y, set()).add(x)

    def between(self, x: str, y: str) -> bool:
        return y in self.pairs.get(x, ())

    def inherit(self, kept: str, absorbed: str) -> None:
        for other in self.pairs.pop(absorbed, set()):
            self.pairs.setdefault(kept, set()).add(other)
            self.pairs[other].discard(absorbed)
            self.pairs[other].add(kept)


def keeps(b: Node, a: Node) -> bool:
    """``b`` is the one to keep when ``a`` and ``b`` merge: stored over new, then larger,
    then older (so permalinks of what readers have seen survive)."""
    return (b.stored, b.size, -b.first_seen.timestamp(), b.id) > (
        a.stored,
        a.size,
        -a.first_seen.timestamp(),
        a.id,
    )
