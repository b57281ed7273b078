"""Each new article's candidate neighbours, through an inverted index (pure, numpy).

In publication order, an article probes the index with its heaviest terms; the earlier
articles of the batch still within the time window, and the open stored threads, posted
under a probed term share that term's weight with it; the ``max_candidates`` that share the
most (ties by id) are its neighbours, and their dot products are computed. A term posted
by more than ``common`` nodes at the time of the probe is too common to probe. Two stored
threads one article links are neighbours too, so a split made by an earlier run can be
mended.

The whole batch is done at once in arrays, with what a loop over the articles, adding and
forgetting postings as it goes, would give: an article's postings are those of the earlier
articles no more than the window before it (found in the postings sorted by term and
position with two binary searches), and the shared weights are sums of whole 1/16384 steps
(the vectors' rounding), so exact in any order. The articles' vectors come as arrays,
their terms numbered, as ``nodes.packed_nodes`` made them beside the dicts.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from digest.cluster.link import Node, Vector, dot, top_entries
from digest.cluster.nodes import STEPS, PackedVectors  # (article vectors' weights: whole steps)
from digest.models import Article

_BLOCK = 512  # articles whose probes are expanded together (bounds the pairs held)
_I64, _I32 = np.int64, np.int32


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexParams:
    window_days: float
    probe_terms: int  # an article's heaviest terms, used to find its candidates
    index_terms: int  # a node is found by its heaviest terms
    max_candidates: int  # neighbours per article
    common: int  # a term posted by more nodes than this is too common to probe


def link_candidates(
    nodes: Mapping[str, Node],
    order: Sequence[Article],
    params: IndexParams,
    *,
    packed: list[PackedVectors] | None = None,
    number: Mapping[str, int] | None = None,
) -> None:
    """Fill ``cross`` (the dot of the sums, both ways) of each new article and its
    candidates, and of the stored threads one article links. ``packed``: the articles'
    vectors as arrays, in ``order`` (``nodes.packed_nodes``; None: read from their dicts),
    with ``number`` the numbers of their terms; it is consumed (emptied as it is read)."""
    if not order:
        return
    ids = ["a:" + a.id for a in order]
    stored = [node for node in nodes.values() if node.stored]
    everyone = ids + [node.id for node in stored]  # index: articles by position, then stored
    by_id = np.empty(len(everyone), dtype=_I64)
    by_id[sorted(range(len(everyone)), key=everyone.__getitem__)] = np.arange(len(everyone))
    terms = _Numbering(number or {})
    if packed is None:
        articles = _Entries.articles([nodes[i].vec for i in ids], terms)
        heads = articles.heads(params.index_terms)
    else:  # (the index is made of the heads alone: all entries are laid out after it)
        heads = _Entries.taken([_Entries.of(g).heads(params.index_terms) for g in packed])
    best = _Index(heads, stored, order, params, terms).best(by_id, params.max_candidates)
    del by_id, heads  # (the index is gone too: the cross products below are what is kept)
    if packed is not None:
        articles = _Entries.taken(packed)
    among = _dots(articles, [node.vec for node in stored], best, terms)
    del articles
    for i, me_id in enumerate(ids):
        me, chosen = nodes[me_id], best[i]
        for other, value in zip(chosen, among[i], strict=True):
            them = nodes[everyone[other]]
            me.cross[them.id] = them.cross[me_id] = value
        threads = [nodes[everyone[o]] for o in chosen if o >= len(ids)]
        for x in threads:  # threads one article links may turn out to be one event
            for y in threads:
                if y is not x and y.id not in x.cross:
                    x.cross[y.id] = y.cross[x.id] = dot(x.vec, y.vec)


class _Numbering:
    """Numbers for terms: ``given``'s (copied), and new ones after them for terms it lacks;
    ``number.get`` finds one without making it."""

    def __init__(self, given: Mapping[str, int]) -> None:
        self.number = dict(given)
        self.size = max(given.values(), default=-1) + 1

    def __call__(self, term: str) -> int:
        found = self.number.get(term)
        if found is None:
            found = self.number[term] = self.size
            self.size += 1
        return found


class _Index:
    """The batch's postings and probes as arrays (private, built once)."""

    def __init__(
        self,
        heads: _Entries,
        stored: Sequence[Node],
        order: Sequence[Article],
        params: IndexParams,
        terms: _Numbering,
    ) -> None:
        """``heads``: the articles' first ``index_terms`` entries (their heaviest), those
        they are posted under; they probe with the first ``probe_terms`` of them."""
        self.n, self.common = len(order), params.common
        self.width = len(order) + len(stored)  # node indexes: articles, then stored threads
        posted, sizes = heads.tids.astype(_I64), heads.sizes
        probing = _within(sizes) < params.probe_terms
        probes = np.minimum(sizes, params.probe_terms)
        self.probe_row = np.repeat(np.arange(self.n, dtype=_I64), probes)
        self.probe_term = posted[probing]
        self.probe_weight = heads.steps[probing].astype(_I64)
        keys = posted * self.n  # postings by term, then position (made in place: 10k
        keys += np.repeat(np.arange(self.n, dtype=np.int32), sizes)  # articles, ~3 MB each)
        keys.sort()
        self.keys = keys
        times = np.array([_micros(a.published) for a in order], dtype=_I64)
        window = timedelta(days=params.window_days) // timedelta(microseconds=1)
        self.first_in_window = np.searchsorted(times, times - window, side="left")
        # stored threads by their heaviest terms (those no article posts cannot be probed)
        is_posted = np.zeros(terms.size + 1, dtype=np.bool_)
        is_posted[posted] = True
        posted_flags = is_posted.tobytes()  # (read a term at a time: bytes index in C)
        s_terms, s_nodes, lookup = [], [], terms.number.get
        for k, node in enumerate(stored):
            for term in top_entries(node.vec, params.index_terms, larger_ties=False):
                found = lookup(term, -1)
                if found >= 0 and posted_flags[found]:
                    s_terms.append(found)
                    s_nodes.append(self.n + k)
        s_order = np.argsort(np.array(s_terms, dtype=_I64), kind="stable")
        self.stored_nodes = np.array(s_nodes, dtype=_I64)[s_order]
        self.stored_start = np.searchsorted(
            np.array(s_terms, dtype=_I64)[s_order], np.arange(terms.size + 1)
        )

    def best(self, by_id: npt.NDArray[np.int64], keep: int) -> list[list[int]]:
        """Each article's candidates (node indexes), best first, ties by id."""
        chosen: list[list[int]] = [[] for _ in range(self.n)]
        bits_id = int(by_id.max()).bit_length()
        for start in range(0, self.n, _BLOCK):
            rows, others, scores = self._shared(start, min(start + _BLOCK, self.n))
            if not len(rows):
                continue
            # by row, most shared first, then by id: one sort of an integer key
            top = int(scores.max())
            bits_score = top.bit_length()
            if int(rows.max()).bit_length() + bits_score + bits_id <= 63:
                key = (rows << (bits_score + bits_id)) | ((top - scores) << bits_id) | by_id[others]
                ranked = np.argsort(key)
            else:
                ranked = np.lexsort((by_id[others], -scores, rows))
            rows, others = rows[ranked], others[ranked]
            first = np.searchsorted(rows, rows, side="left")
            kept = np.arange(len(rows)) - first < keep
            for row, other in zip(rows[kept].tolist(), others[kept].tolist(), strict=True):
                chosen[row].append(other)
        return chosen

    def _shared(
        self, start: int, end: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The (article, other node, shared weight in steps) of articles ``start:end``."""
        lo_p, hi_p = np.searchsorted(self.probe_row, (start, end), side="left")
        row = self.probe_row[lo_p:hi_p]
        term = self.probe_term[lo_p:hi_p]
        weight = self.probe_weight[lo_p:hi_p]
        base = term * self.n
        hi = np.searchsorted(self.keys, base + row, side="left")  # earlier articles
        lo = np.searchsorted(self.keys, base + self.first_in_window[row], side="left")
        s_lo, s_hi = self.stored_start[term], self.stored_start[term + 1]
        probed = (hi - lo) + (s_hi - s_lo) <= self.common
        row, weight = row[probed], weight[probed]
        lo, hi, s_lo, s_hi = lo[probed], hi[probed], s_lo[probed], s_hi[probed]
        a_len, s_len = hi - lo, s_hi - s_lo
        posted = np.repeat(lo, a_len) + _within(a_len)
        others = np.concatenate(
            (
                self.keys[posted] % self.n,
                self.stored_nodes[np.repeat(s_lo, s_len) + _within(s_len)],
            )
        )
        rows = np.concatenate((np.repeat(row, a_len), np.repeat(row, s_len)))
        weights = np.concatenate((np.repeat(weight, a_len), np.repeat(weight, s_len)))
        pair = rows * self.width + others
        unique, inverse = np.unique(pair, return_inverse=True)
        total = np.bincount(inverse, weights=weights, minlength=len(unique))  # exact: < 2**53
        return unique // self.width, unique % self.width, np.rint(total).astype(_I64)


def _dots(
    articles: _Entries,
    stored: Sequence[Vector],
    best: Sequence[Sequence[int]],
    number: _Numbering,
) -> list[list[float]]:
    """The dot products of each article's vector (``articles``, by position) with those of
    its candidates (``best``: positions below the articles' count are articles, the others
    stored threads, ``stored`` by position after them), in the order of ``best``. Weights are
    whole 1/16384 steps (a thread's are sums of them, ``nodes.on_grid``), so the products
    are whole 2**-28 steps and their sums integers below 2**53: a float sum in any order
    (here, ``bincount``'s) is what ``link.dot``'s gives, to the bit.

    A few rows at a time, their vectors are laid out densely over the terms those rows
    hold (one column more for every other term, left 0), and each candidate's entries
    are looked up in its row's line."""
    n = len(articles.sizes)
    rows, others = array("q"), array("q")
    for i, chosen in enumerate(best):
        for other in chosen:
            rows.append(i)
            others.append(other)
    pair_row, pair_other = np.frombuffer(rows, dtype=_I64), np.frombuffer(others, dtype=_I64)
    threads = pair_other >= n
    # only the threads some article has as a candidate, and of their terms only those
    # some article holds
    wanted, which = np.unique(pair_other[threads] - n, return_inverse=True)
    held = _Entries.shared([stored[k] for k in wanted.tolist()], number)
    found = np.zeros(len(pair_row))
    local = np.zeros(number.size, dtype=_I64)  # a term's column in the rows' lines
    picks = [(np.flatnonzero(~threads), pair_other[~threads], articles)]
    if len(wanted):
        picks.append((np.flatnonzero(threads), which.astype(_I64), held))
    picks_rows = [pair_row[at] for at, _, _ in picks]
    for r0 in range(0, n, _ROWS):
        r1 = min(r0 + _ROWS, n)
        own = slice(int(articles.ptr[r0]), int(articles.ptr[r1]))
        columns, column = np.unique(articles.tids[own], return_inverse=True)
        local[columns] = np.arange(1, len(columns) + 1)  # 0: a term no row here holds
        lines = np.zeros((r1 - r0, len(columns) + 1), dtype=_I32)
        row_of = np.repeat(np.arange(r1 - r0), articles.sizes[r0:r1])
        lines[row_of, column + 1] = articles.steps[own]
        for (at, them_all, entries), at_row in zip(picks, picks_rows, strict=True):
            lo, hi = np.searchsorted(at_row, (r0, r1)).tolist()
            if lo == hi:
                continue
            them = them_all[lo:hi]
            lengths = entries.sizes[them]
            entry = np.repeat(entries.ptr[them], lengths) + _within(lengths)
            products = lines[np.repeat(at_row[lo:hi] - r0, lengths), local[entries.tids[entry]]]
            products = np.multiply(products, entries.steps[entry], dtype=_I64)  # (threads')
            pair = np.repeat(np.arange(hi - lo), lengths)
            found[at[lo:hi]] = np.bincount(pair, weights=products, minlength=hi - lo)
        local[columns] = 0
    found /= STEPS * STEPS
    values = found.tolist()
    return [
        values[a:b]
        for a, b in itertools.pairwise(np.searchsorted(pair_row, np.arange(n + 1)).tolist())
    ]


@dataclass(frozen=True, slots=True)
class _Entries:
    """Vectors' entries laid end to end: term numbers, weights in steps, where each starts."""

    tids: npt.NDArray[np.int32]
    steps: npt.NDArray[np.signedinteger[Any]]
    sizes: npt.NDArray[np.int64]
    ptr: npt.NDArray[np.int64] = field(init=False)  # (from the sizes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ptr", np.concatenate(([0], np.cumsum(self.sizes))).astype(_I64))

    @classmethod
    def articles(cls, vecs: Sequence[Vector], number: _Numbering) -> _Entries:
        """Articles' entries, each term numbered (new ones by ``number``), 32-bit steps (a
        product of two is below 2**28: these are the peak of a 10k batch's clustering,
        where float arrays and their conversions would add 30 MB)."""
        sizes = np.fromiter(map(len, vecs), dtype=_I64, count=len(vecs))
        total = int(sizes.sum())
        keys = itertools.chain.from_iterable(vecs)  # (streamed: lists of all would be ~40 MB)
        tids = np.fromiter(map(number, keys), _I32, total)
        weights = itertools.chain.from_iterable(v.values() for v in vecs)
        steps = np.fromiter(map(_STEP_OF.__getitem__, weights), _I32, total)  # (these floats)
        return cls(tids=tids, steps=steps, sizes=sizes)

    @classmethod
    def of(cls, group: PackedVectors) -> _Entries:
        """A group's entries as ``nodes.packed_nodes`` made them."""
        return cls(tids=group.tids, steps=group.steps, sizes=group.sizes)

    @classmethod
    def taken(cls, groups: list[PackedVectors] | list[_Entries]) -> _Entries:
        """The groups' entries end to end, each group let go once copied (``groups`` is
        emptied: the groups and their copy are never all held at once)."""
        sizes = np.concatenate([np.zeros(0, _I64), *(g.sizes for g in groups)])
        total = int(sizes.sum())
        tids, steps = np.empty(total, _I32), np.empty(total, _I32)
        at = 0
        groups.reverse()
        while groups:
            group = groups.pop()
            tids[at : at + len(group.tids)] = group.tids
            steps[at : at + len(group.tids)] = group.steps
            at += len(group.tids)
        return cls(tids=tids, steps=steps, sizes=sizes)

    def heads(self, keep: int) -> _Entries:
        """Each vector's first ``keep`` entries."""
        first = _within(self.sizes) < keep
        return _Entries(self.tids[first], self.steps[first], np.minimum(self.sizes, keep))

    @classmethod
    def shared(cls, vecs: Sequence[Vector], number: _Numbering) -> _Entries:
        """Threads' entries for the terms ``number`` has, the others dropped (their products
        are 0), read a few hundred threads at a time: in a grown store the threads' entries
        are the peak of the clustering, and whole float arrays of them twice that. Steps
        are 32-bit where they fit (a thread's are sums, still far below 2**31)."""
        steps: list[npt.NDArray[np.signedinteger[Any]]] = [np.zeros(0, _I32)]
        tids, sizes = [np.zeros(0, _I32)], [np.zeros(0, _I64)]
        for start in range(0, len(vecs), _THREADS):
            chunk = vecs[start : start + _THREADS]
            lengths = np.fromiter(map(len, chunk), dtype=_I64, count=len(chunk))
            total = int(lengths.sum())
            keys = itertools.chain.from_iterable(chunk)
            found = map(number.number.get, keys, itertools.repeat(-1, total))
            terms = np.fromiter(found, _I32, total)
            kept = terms >= 0
            weights = itertools.chain.from_iterable(v.values() for v in chunk)
            sums = np.rint(np.fromiter(weights, np.float64, total)[kept] * STEPS).astype(_I64)
            owner = np.repeat(np.arange(len(chunk), dtype=_I64), lengths)[kept]
            tids.append(terms[kept])
            steps.append(sums.astype(_I32) if not len(sums) or sums.max() < 2**31 else sums)
            sizes.append(np.bincount(owner, minlength=len(chunk)).astype(_I64))
        return cls(
            tids=np.concatenate(tids), steps=np.concatenate(steps), sizes=np.concatenate(sizes)
        )


_STEP_OF = {k / STEPS: k for k in range(STEPS + 1)}  # an article's weight -> its step


_ROWS = 32  # rows laid out densely at a time (32 x ~3.8k columns: ~1 MB)
_THREADS = 512  # threads' entries read at a time (~74k entries: ~2 MB of temporaries)


def _within(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0..n-1 for each n of ``lengths``, one after the other."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=_I64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=_I64) - np.repeat(ends - lengths, lengths)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)  # (every datetime is aware)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
