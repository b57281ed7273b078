"""The cores of ``agglomerate`` compiled (numba): the same merges, in the same order, to the bit.

The nodes come in as arrays (``arrays.Packed``): ids ranked so that comparing two ranks
compares the ids, terms ranked in one sorted vocabulary (ties by the larger term are ties by
the larger rank), every weight of a content or name vector as a whole number of 1/16384
steps. A dot product is then a sum of integer products, in units of 2**-28, which is what
the Python sums of the same floats give exactly (``nodes.on_grid``); a score is worked out
from it with the same float operations in the same order. A vector keeps its entries in the
order the Python dict would hold them (``_added``, then ``top_entries``), so a signature
stored from it is the same bytes.

Only the cores are here: the attachment of lone articles after them takes a few
hundredths of a second in Python and stays there (``agglomerate``).
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np
from numba import njit, types
from numba.typed import Dict, List

UNIT = float(1 << 28)  # a product of two weights in steps, as a float: divided by this
_MARGIN = 1.0 + 1e-9
_TWO = 2
_NAMES_AGREE = 0.6
_NONE = -1  # an undated node's event day

_I64 = types.int64


@njit(cache=True)
def _dot(ai: Any, aw: Any, bi: Any, bw: Any, pos: Any) -> int:
    """Sum of the products of the shared terms' steps (``pos``: scratch, all -1)."""
    for k in range(len(ai)):
        pos[ai[k]] = k
    total = 0
    for k in range(len(bi)):
        p = pos[bi[k]]
        if p >= 0:
            total += aw[p] * bw[k]
    for k in range(len(ai)):
        pos[ai[k]] = -1
    return total


@njit(cache=True)
def _common(ai: Any, bi: Any, pos: Any) -> int:
    """How many terms two vectors share."""
    for k in range(len(ai)):
        pos[ai[k]] = k
    n = 0
    for k in range(len(bi)):
        if pos[bi[k]] >= 0:
            n += 1
    for k in range(len(ai)):
        pos[ai[k]] = -1
    return n


@njit(cache=True)
def _length(w: Any) -> float:
    total = 0
    for k in range(len(w)):
        total += w[k] * w[k]
    return math.sqrt(total / UNIT)


@njit(cache=True)
def _added(ai: Any, aw: Any, bi: Any, bw: Any, pos: Any) -> tuple[Any, Any]:
    """``a + b`` with ``a``'s terms first in its order, then ``b``'s new ones in theirs."""
    n = len(ai)
    ids = np.empty(n + len(bi), dtype=ai.dtype)
    ws = np.empty(n + len(bi), dtype=aw.dtype)
    for k in range(n):
        ids[k] = ai[k]
        ws[k] = aw[k]
        pos[ai[k]] = k
    for k in range(len(bi)):
        p = pos[bi[k]]
        if p >= 0:
            ws[p] += bw[k]
        else:
            ids[n] = bi[k]
            ws[n] = bw[k]
            n += 1
    for k in range(len(ai)):
        pos[ai[k]] = -1
    return ids[:n].copy(), ws[:n].copy()


@njit(cache=True)
def _top(ids: Any, ws: Any, keep: int) -> tuple[Any, Any]:
    """``top_entries(v, keep)``: the heaviest ``keep`` in ``v``'s order, then those tied at the
    cut, the larger term first."""
    if len(ids) <= keep:
        return ids, ws
    cut = np.sort(ws)[len(ws) - keep]
    above = 0
    for k in range(len(ws)):
        if ws[k] > cut:
            above += 1
    out_i = np.empty(keep, dtype=ids.dtype)
    out_w = np.empty(keep, dtype=ws.dtype)
    n = 0
    for k in range(len(ws)):
        if ws[k] > cut:
            out_i[n] = ids[k]
            out_w[n] = ws[k]
            n += 1
    if above < keep:
        tied = np.sort(ids[ws == cut])[::-1]
        for k in range(keep - above):
            out_i[n] = tied[k]
            out_w[n] = cut
            n += 1
    return out_i, out_w


@njit(cache=True)
def _shared(ai: Any, aw: Any, bi: Any, bw: Any, keep: int, pos: Any) -> Any:
    """The ``keep`` shared terms with the largest products, ties by the larger term (-1 pad)."""
    for k in range(len(ai)):
        pos[ai[k]] = k
    m = 0
    products = np.empty(len(bi), dtype=np.int64)
    terms = np.empty(len(bi), dtype=np.int64)
    for k in range(len(bi)):
        p = pos[bi[k]]
        if p >= 0:
            products[m] = aw[p] * bw[k]
            terms[m] = bi[k]
            m += 1
    for k in range(len(ai)):
        pos[ai[k]] = -1
    out = np.full(keep, -1, dtype=np.int64)
    taken = np.zeros(m, dtype=np.bool_)
    for k in range(min(keep, m)):  # (a few of ~100: picked one at a time)
        best = -1
        for j in range(m):
            if not taken[j] and (
                best < 0
                or products[j] > products[best]
                or (products[j] == products[best] and terms[j] > terms[best])
            ):
                best = j
        taken[best] = True
        out[k] = terms[best]
    return out


@njit(cache=True)
def _main_disjoint(ai: Any, aw: Any, bi: Any, bw: Any, pos: Any) -> bool:
    """Whether the main years of two non-empty year sets have none in common."""
    top_a = aw.max()
    top_b = bw.max()
    for k in range(len(ai)):
        if aw[k] * 2 >= top_a:
            pos[ai[k]] = k
    disjoint = True
    for k in range(len(bi)):
        if bw[k] * 2 >= top_b and pos[bi[k]] >= 0:
            disjoint = False
    for k in range(len(ai)):
        pos[ai[k]] = -1
    return disjoint


@njit(cache=True)
def _ungated(
    a: int,
    b: int,
    cross: int,
    size: Any,
    short: Any,
    roundup: Any,
    stored: Any,
    lang: Any,
    lo: Any,
    hi: Any,
    norm: Any,
    vi: Any,
    vw: Any,
    ni: Any,
    yi: Any,
    yw: Any,
    pos: Any,
    short_boost: float,
    decay_days: float,
) -> float:
    if roundup[a] or roundup[b]:
        return 0.0
    if cross <= 0:
        return 0.0
    c = cross / UNIT
    a_size, b_size = size[a], size[b]
    headlines = short[a] == a_size or short[b] == b_size
    if headlines and not (stored[a] and stored[b]):
        if a_size == 1 and b_size == 1 and _common(vi[a], vi[b], pos) < _TWO:
            return 0.0
        if norm[a] < 0:
            norm[a] = _length(vw[a])
        if norm[b] < 0:
            norm[b] = _length(vw[b])
        lengths = norm[a] * norm[b]
        s = c / (lengths if lengths != 0.0 else 1.0)
        s *= 1.0 + short_boost * math.log(float(max(a_size, b_size)))
    else:
        s = c / (a_size * b_size)
    if lang[a] != lang[b]:
        s = _across(a, b, ni, yi, yw, pos)
    if lo[a] != _NONE and lo[b] != _NONE:
        a_hi = hi[a] if hi[a] > 0 else lo[a]
        b_hi = hi[b] if hi[b] > 0 else lo[b]
        gap = max(lo[a], lo[b]) - min(a_hi, b_hi)
        if gap > 1:
            s *= 0.5 ** ((gap - 1) / decay_days)
    return s


@njit(cache=True)
def _across(a: int, b: int, ni: Any, yi: Any, yw: Any, pos: Any) -> float:
    if len(yi[a]) and len(yi[b]) and _main_disjoint(yi[a], yw[a], yi[b], yw[b], pos):
        return 0.0
    fewer, more = (a, b) if len(ni[a]) <= len(ni[b]) else (b, a)
    shared = _common(ni[fewer], ni[more], pos)
    if shared < _TWO:
        return 0.0
    agree = shared / len(ni[fewer])
    return agree / 2 if agree >= _NAMES_AGREE else 0.0


@njit(cache=True)
def _gated(
    a: int,
    b: int,
    s: float,
    ni: Any,
    nw: Any,
    names_norm: Any,
    yi: Any,
    yw: Any,
    pos: Any,
    names_threshold: float,
    year_penalty: float,
) -> float:
    if len(ni[a]) and len(ni[b]):
        if names_norm[a] < 0:
            names_norm[a] = _length(nw[a])
        if names_norm[b] < 0:
            names_norm[b] = _length(nw[b])
        lengths = names_norm[a] * names_norm[b]
        names = (_dot(ni[a], nw[a], ni[b], nw[b], pos) / UNIT) / (
            lengths if lengths != 0.0 else 1.0
        )
        if names < names_threshold:
            return 0.0
    if len(yi[a]) and len(yi[b]) and _main_disjoint(yi[a], yw[a], yi[b], yw[b], pos):
        s *= year_penalty
    return s


@njit(cache=True)
def _offer(
    heap: Any,
    a: int,
    b: int,
    c: int,
    version: Any,
    partners: Any,
    size: Any,
    short: Any,
    roundup: Any,
    stored: Any,
    lang: Any,
    lo: Any,
    hi: Any,
    norm: Any,
    vi: Any,
    vw: Any,
    ni: Any,
    yi: Any,
    yw: Any,
    pos: Any,
    threshold: float,
    short_boost: float,
    decay_days: float,
) -> None:
    """``pure.cores``'s ``offer``: the pair goes on the heap at its ungated score when that
    reaches the threshold (passed over unscored when its average alone cannot)."""
    na, nb = size[a], size[b]
    if (
        (c / UNIT) * _MARGIN < threshold * na * nb
        and short[a] != na
        and short[b] != nb
        and lang[a] == lang[b]
    ):
        return
    s = _ungated(
        a, b, c, size, short, roundup, stored, lang, lo, hi, norm,
        vi, vw, ni, yi, yw, pos, short_boost, decay_days,
    )  # fmt: skip
    if s >= threshold and b not in partners[a]:
        p, q = (a, b) if a < b else (b, a)
        heapq.heappush(heap, (-s, p, q, version[p], version[q], False))


@njit(cache=True)
def _lists(offsets: Any, ids: Any, values: Any) -> tuple[Any, Any]:
    out_i, out_w = List(), List()
    for n in range(len(offsets) - 1):
        out_i.append(ids[offsets[n] : offsets[n + 1]].copy())
        out_w.append(values[offsets[n] : offsets[n + 1]].copy())
    return out_i, out_w


@njit(cache=True)
def cores(
    size: Any,
    short: Any,
    roundup: Any,
    stored: Any,
    lang: Any,
    lo: Any,
    hi: Any,
    age: Any,
    vec_at: Any,
    vec_ids: Any,
    vec_steps: Any,
    names_at: Any,
    names_ids: Any,
    names_steps: Any,
    years_at: Any,
    years_ids: Any,
    years_counts: Any,
    edge_a: Any,
    edge_b: Any,
    edge_dot: Any,
    apart_a: Any,
    apart_b: Any,
    n_terms: int,
    threshold: float,
    names_threshold: float,
    year_penalty: float,
    short_boost: float,
    decay_days: float,
    keep_terms: int,
    keep_names: int,
) -> tuple[Any, ...]:
    """The core merges of ``agglomerate`` (see the module docstring): per merge, the kept
    and absorbed ranks, the score, the six terms and four names that weighed most (-1 pad);
    then the nodes merged into that are still alive, with their vectors and years, and the
    neighbours (rank -> dot of the sums, in 2**-28) of every node still alive. Per node it
    keeps size, short, roundup, day range and age (-first seen) in the arrays given
    (updated in place), versions, lengths (-1: not computed), vectors and neighbours."""
    n = len(size)
    pos = np.full(n_terms, -1, dtype=np.int64)
    vi, vw = _lists(vec_at, vec_ids, vec_steps)
    ni, nw = _lists(names_at, names_ids, names_steps)
    yi, yw = _lists(years_at, years_ids, years_counts)
    norm = np.full(n, -1.0)
    names_norm = np.full(n, -1.0)
    version = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=np.bool_)
    cross = List()
    partners = List()
    for _ in range(n):
        cross.append(Dict.empty(key_type=_I64, value_type=_I64))
        partners.append(Dict.empty(key_type=_I64, value_type=_I64))
    for k in range(len(edge_a)):
        cross[edge_a[k]][edge_b[k]] = edge_dot[k]
        cross[edge_b[k]][edge_a[k]] = edge_dot[k]
    for k in range(len(apart_a)):
        partners[apart_a[k]][apart_b[k]] = 1
        partners[apart_b[k]][apart_a[k]] = 1
    heap = [(0.0, 0, 0, 0, 0, False)]
    heap.pop()

    for a in range(n):
        for b, c in cross[a].items():
            if a < b:
                _offer(
                    heap, a, b, c, version, partners, size, short, roundup, stored, lang,
                    lo, hi, norm, vi, vw, ni, yi, yw, pos, threshold, short_boost, decay_days,
                )  # fmt: skip

    kept_of = List()
    gone_of = List()
    score_of = List()
    terms_of = List()
    names_of = List()
    while heap:
        negative, x, y, vx, vy, gated = heapq.heappop(heap)
        if not (alive[x] and alive[y]) or version[x] != vx or version[y] != vy:
            continue
        score = -negative
        if not gated:
            score = _gated(
                x, y, score, ni, nw, names_norm, yi, yw, pos, names_threshold, year_penalty
            )
            if score < threshold:
                continue
            if score != -negative:
                heapq.heappush(heap, (-score, x, y, vx, vy, True))
                continue
        kept, gone = x, y
        if (stored[gone], size[gone], age[gone], gone) > (
            stored[kept],
            size[kept],
            age[kept],
            kept,
        ):
            kept, gone = gone, kept
        # the merge (_absorb)
        kept_of.append(kept)
        gone_of.append(gone)
        score_of.append(score)
        terms_of.append(_shared(vi[kept], vw[kept], vi[gone], vw[gone], 6, pos))
        names_of.append(_shared(ni[kept], nw[kept], ni[gone], nw[gone], 4, pos))
        ids, ws = _added(vi[kept], vw[kept], vi[gone], vw[gone], pos)
        vi[kept], vw[kept] = _top(ids, ws, keep_terms)
        ids, ws = _added(ni[kept], nw[kept], ni[gone], nw[gone], pos)
        ni[kept], nw[kept] = _top(ids, ws, keep_names)
        yi[kept], yw[kept] = _added(yi[kept], yw[kept], yi[gone], yw[gone], pos)
        norm[kept] = -1.0
        names_norm[kept] = -1.0
        size[kept] += size[gone]
        short[kept] += short[gone]
        roundup[kept] = roundup[kept] and roundup[gone]
        age[kept] = max(age[kept], age[gone])  # (-first seen: the older first)
        if lo[gone] != _NONE:
            lo_kept = lo[kept]
            lo[kept] = lo[gone] if lo_kept == _NONE else min(lo_kept, lo[gone])
            gone_hi = hi[gone] if hi[gone] > 0 else lo[gone]
            hi[kept] = hi[gone] if hi[kept] == _NONE else max(hi[kept], gone_hi)
        version[kept] += 1
        alive[gone] = False
        # kept apart (_Apart.inherit)
        for other in partners[gone]:
            partners[kept][other] = 1
            partners[other].pop(gone)
            partners[other][kept] = 1
        partners[gone].clear()
        # the neighbours (_rewire)
        headlines = short[kept] == size[kept]
        mine_all = cross[kept]
        theirs_all = cross[gone]
        fresh = Dict.empty(key_type=_I64, value_type=_I64)
        for pass_ in range(2):
            source = mine_all if pass_ == 0 else theirs_all
            for other in source:
                if other in fresh or (pass_ == 1 and other in mine_all):
                    continue  # (each neighbour once)
                if other == kept:
                    continue
                if other == gone:
                    continue
                cross[other].pop(gone, 0)
                if not alive[other]:
                    continue
                has_mine = other in mine_all
                has_theirs = other in theirs_all
                if has_mine and has_theirs:
                    value = mine_all[other] + theirs_all[other]
                elif has_mine and not headlines and short[other] != size[other]:
                    value = mine_all[other]
                else:
                    value = _dot(vi[kept], vw[kept], vi[other], vw[other], pos)
                fresh[other] = value
                cross[other][kept] = value
                _offer(
                    heap, kept, other, value, version, partners, size, short, roundup, stored,
                    lang, lo, hi, norm, vi, vw, ni, yi, yw, pos, threshold, short_boost,
                    decay_days,
                )  # fmt: skip
        cross[kept] = fresh
        cross[gone] = Dict.empty(key_type=_I64, value_type=_I64)
        vi[gone] = np.empty(0, dtype=vi[gone].dtype)
        vw[gone] = np.empty(0, dtype=vw[gone].dtype)
        ni[gone] = np.empty(0, dtype=ni[gone].dtype)
        nw[gone] = np.empty(0, dtype=nw[gone].dtype)

    m = len(kept_of)
    merges_kept = np.empty(m, dtype=np.int64)
    merges_gone = np.empty(m, dtype=np.int64)
    merges_score = np.empty(m)
    merges_terms = np.full((m, 6), -1, dtype=np.int64)
    merges_names = np.full((m, 4), -1, dtype=np.int64)
    for k in range(m):
        merges_kept[k] = kept_of[k]
        merges_gone[k] = gone_of[k]
        merges_score[k] = score_of[k]
        merges_terms[k] = terms_of[k]
        merges_names[k] = names_of[k]
    changed = np.flatnonzero(alive & (version > 0))
    out_vec = _flat(changed, vi, vw)
    out_names = _flat(changed, ni, nw)
    out_years = _flat(changed, yi, yw)
    edges = 0
    for a in range(n):
        if alive[a]:
            edges += len(cross[a])
    out_a = np.empty(edges, dtype=np.int64)
    out_b = np.empty(edges, dtype=np.int64)
    out_dot = np.empty(edges, dtype=np.int64)
    k = 0
    for a in range(n):
        if alive[a]:
            for b, c in cross[a].items():
                out_a[k] = a
                out_b[k] = b
                out_dot[k] = c
                k += 1
    return (
        merges_kept,
        merges_gone,
        merges_score,
        merges_terms,
        merges_names,
        changed,
        out_vec,
        out_names,
        out_years,
        (out_a, out_b, out_dot),
    )


@njit(cache=True)
def _flat(which: Any, ids: Any, values: Any) -> tuple[Any, Any, Any]:
    at = np.zeros(len(which) + 1, dtype=np.int64)
    for k in range(len(which)):
        at[k + 1] = at[k] + len(ids[which[k]])
    out_i = np.empty(at[-1], dtype=np.int64)
    out_v = np.empty(at[-1], dtype=values[0].dtype)  # (never empty: a run has nodes)
    for k in range(len(which)):
        out_i[at[k] : at[k + 1]] = ids[which[k]]
        out_v[at[k] : at[k + 1]] = values[which[k]]
    return at, out_i, out_v
