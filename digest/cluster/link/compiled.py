"""The nodes as arrays for ``kernel``'s cores, and its merges back onto the nodes.

What the kernel leaves is what ``pure.cores`` leaves, to the bit: the same merges in the same
order (ids, scores, terms, names, members), and on the nodes the same sums with their entries
in the same order, the same neighbours and the same counts, times and days.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from digest.cluster.link.pure import Apart, LinkParams, Merge, Node, Vector, join, release
from digest.cluster.lookup import looked_up

log = logging.getLogger(__name__)

STEPS = float(1 << 14)  # (nodes.STEPS: a weight is a whole number of these)
UNIT = float(1 << 28)  # a product of two weights in steps
_I64 = np.int64


def available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def _kernel() -> ModuleType:
    from digest.cluster.link import kernel  # numba compiles it (cached on disk) on first use

    return kernel


class _Packed:
    """The nodes' fields as arrays, nodes ranked by id and terms by their text."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.ids = sorted(nodes)
        self.nodes = ns = [nodes[i] for i in self.ids]
        self.rank = dict(zip(self.ids, range(len(ns)), strict=True))
        words: set[str] = set()
        for n in ns:
            words.update(n.vec, n.names, n.years)
        self.vocab = sorted(words)
        del words
        terms = dict(zip(self.vocab, range(len(self.vocab)), strict=True))
        self.vec, self.names, self.years = (
            _flat(vs, terms, steps=steps)
            for vs, steps in zip(_vectors(ns), (True, True, False), strict=True)
        )
        langs: dict[str, int] = {}
        self.fields: dict[str, npt.NDArray[Any]] = {
            "size": np.array([len(n.members) for n in ns], dtype=_I64),
            "short": np.array([n.short for n in ns], dtype=_I64),
            "roundup": np.array([n.roundup for n in ns], dtype=np.bool_),
            "stored": np.array([n.stored for n in ns], dtype=np.bool_),
            "lang": np.array([langs.setdefault(n.lang, len(langs)) for n in ns], dtype=_I64),
            "lo": np.array([-1 if n.day_lo is None else n.day_lo for n in ns], dtype=_I64),
            "hi": np.array([-1 if n.day_hi is None else n.day_hi for n in ns], dtype=_I64),
            "age": np.array([-n.first_seen.timestamp() for n in ns]),
        }
        crosses = [n.cross for n in ns]
        a = np.repeat(np.arange(len(ns), dtype=_I64), [len(c) for c in crosses])
        b = looked_up(self.rank, list(itertools.chain.from_iterable(crosses)), _I64)
        dots = np.fromiter(
            itertools.chain.from_iterable(c.values() for c in crosses),
            dtype=np.float64,
            count=len(a),
        )
        one_way = a < b  # (each pair is on both sides)
        self.edges = (a[one_way], b[one_way], _whole(dots[one_way] * UNIT, "a dot product"))
        if int(self.fields["size"].sum()) * int(STEPS) >= 2**31:  # (a term's summed steps)
            raise OffGrid("sums over 2**31 steps")

    def apart(self, kept_apart: Apart) -> tuple[npt.NDArray[_I64], npt.NDArray[_I64]]:
        rank = self.rank
        pairs = [
            (rank[x], rank[y])
            for x, others in kept_apart.pairs.items()
            for y in others
            if x < y and x in rank and y in rank
        ]
        return np.array([p[0] for p in pairs], dtype=_I64), np.array(
            [p[1] for p in pairs], dtype=_I64
        )


class OffGrid(ValueError):
    """A weight or dot product that is not a whole number of steps (the kernel's sums would
    not be the floats' then)."""


def _whole(values: npt.NDArray[np.float64], what: str) -> npt.NDArray[_I64]:
    steps = np.rint(values)
    if not np.array_equal(steps, values) or (len(steps) and np.abs(steps).max() >= 2.0**53):
        raise OffGrid(f"{what} off the 1/16384 grid")
    return steps.astype(_I64)


def _vectors(ns: Sequence[Node]) -> tuple[list[Vector], list[Vector], list[Vector]]:
    return [n.vec for n in ns], [n.names for n in ns], [n.years for n in ns]


_CHUNK = 2048  # nodes whose vectors are flattened at once (bounds the lists made for it)


def _flat(
    vectors: Sequence[Vector], terms: dict[str, int], *, steps: bool
) -> tuple[npt.NDArray[_I64], npt.NDArray[np.int32], npt.NDArray[Any]]:
    """One kind of vector of every node as offsets, term ranks and weights (whole steps
    or, ``steps`` false, as they are), a chunk of nodes at a time."""
    at = np.zeros(len(vectors) + 1, dtype=_I64)
    np.cumsum([len(v) for v in vectors], out=at[1:])
    ids, values = np.empty(at[-1], dtype=np.int32), np.empty(at[-1])
    for start in range(0, len(vectors), _CHUNK):
        part = vectors[start : start + _CHUNK]
        lo, hi = at[start], at[min(start + _CHUNK, len(vectors))]
        ids[lo:hi] = looked_up(terms, list(itertools.chain.from_iterable(part)), np.int32)
        values[lo:hi] = np.fromiter(
            itertools.chain.from_iterable(v.values() for v in part), dtype=np.float64
        )
    if not steps:
        return at, ids, values
    values *= STEPS
    return at, ids, _whole(values, "a weight").astype(np.int32)


def cores(nodes: dict[str, Node], params: LinkParams, kept_apart: Apart) -> list[Merge]:
    """``pure.cores``, compiled (the nodes must be as made for a run: alive, version 0);
    raises ``OffGrid`` before touching a node when a weight is off the grid."""
    packed = _Packed(nodes)
    apart_a, apart_b = packed.apart(kept_apart)
    f = packed.fields
    (
        kept_of,
        gone_of,
        score_of,
        terms_of,
        names_of,
        changed,
        vec,
        names,
        years,
        edges,
    ) = _kernel().cores(
        f["size"].copy(),
        f["short"].copy(),
        f["roundup"].copy(),
        f["stored"],
        f["lang"],
        f["lo"].copy(),
        f["hi"].copy(),
        f["age"].copy(),
        *packed.vec,
        *packed.names,
        *packed.years,
        *packed.edges,
        apart_a,
        apart_b,
        len(packed.vocab),
        params.threshold,
        params.names_threshold,
        params.year_penalty,
        params.short_boost,
        params.decay_days,
        params.keep_terms,
        params.keep_terms // 3,
    )
    return _unpacked(packed, kept_apart, kept_of, gone_of, score_of, terms_of, names_of,
                     changed, vec, names, years, edges)  # fmt: skip


def _unpacked(
    packed: _Packed,
    kept_apart: Apart,
    kept_of: npt.NDArray[_I64],
    gone_of: npt.NDArray[_I64],
    score_of: npt.NDArray[np.float64],
    terms_of: npt.NDArray[_I64],
    names_of: npt.NDArray[_I64],
    changed: npt.NDArray[np.intp],
    vec: tuple[Any, Any, Any],
    names: tuple[Any, Any, Any],
    years: tuple[Any, Any, Any],
    edges: tuple[Any, Any, Any],
) -> list[Merge]:
    ns, vocab = packed.nodes, packed.vocab
    merges = []
    for k, g, score, terms, named in zip(
        kept_of.tolist(),
        gone_of.tolist(),
        score_of.tolist(),
        terms_of.tolist(),
        names_of.tolist(),
        strict=True,
    ):
        kept, gone = ns[k], ns[g]
        merges.append(
            Merge(
                kept=kept.id,
                absorbed=gone.id,
                absorbed_members=tuple(gone.members),
                score=score,
                via="core",
                terms=tuple(vocab[t] for t in terms if t >= 0),
                names=tuple(vocab[t][1:] for t in named if t >= 0),
            )
        )
        kept.norm = kept.names_norm = -1.0
        join(kept, gone)
        kept_apart.inherit(kept.id, gone.id)
        release(gone)
    for which, (at, ids, values), steps in (
        ("vec", vec, True),
        ("names", names, True),
        ("years", years, False),
    ):
        words = [vocab[i] for i in ids.tolist()]
        weights = (values / STEPS if steps else values).tolist()
        for r, (lo, hi) in zip(changed.tolist(), itertools.pairwise(at.tolist()), strict=True):
            vector: Vector = dict(zip(words[lo:hi], weights[lo:hi], strict=True))
            setattr(ns[r], which, vector)
    a, b, value = edges
    crosses: list[dict[str, float]] = [{} for _ in ns]
    for x, y, c in zip(a.tolist(), b.tolist(), (value / UNIT).tolist(), strict=True):
        crosses[x][packed.ids[y]] = c
    for node, cross in zip(ns, crosses, strict=True):
        if node.alive:
            node.cross = cross
    return merges
