"""Articles and stored threads as nodes of the clustering, and back (pure).

A stored thread's signature keeps what its node needs to be met again on a later run: the
sums of its members' unit content and name vectors (plain and ``@`` keys), the years its
members name (``#``), its event-day range (``%lo``/``%hi``), how many members are
headlines alone (``&short``), whether it is a roundup (``&roundup``) and its language when it
is not English (``&lang:de``).
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from digest.cluster.features import NAME_MARK, TENTHS, YEAR_MARK, Features, PackedTerms
from digest.cluster.link import Node, Vector
from digest.cluster.lookup import looked_up
from digest.models import Article, EventThread, PackedSignature

_LANG = "&lang:"  # a thread not in English keeps its language in its signature


def idf_of(df: Mapping[str, int], n_docs: int) -> dict[str, float]:
    return {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}


def _tf(count: float) -> float:
    """Sublinear term weight of a position-weighted count: 1 + ln(count) from one full
    occurrence up, the count itself below (a word met once in the background counts 0.2)."""
    return 1.0 + math.log(count) if count >= 1.0 else count


STEPS = 1 << 14  # weights kept to 1/16384: an article's vector shares its float objects
# each weight rounded to 1/16384, as one shared object per value (a vector of 120 distinct
# floats costs 2.9 KB of objects alone; at 100k articles, 290 MB)
_SHARED = np.array([s / STEPS for s in range(STEPS + 1)], dtype=object)
_KNOWN = 64 * TENTHS  # counts below this take their sublinear weight from a table
_TF = np.array([_tf(c / TENTHS) for c in range(_KNOWN)])
_PLAIN, _NAME, _YEAR = 0, 1, 2


@dataclass(frozen=True, slots=True)
class PackedVectors:
    """A group of article nodes' content vectors laid end to end, each in its order: its
    terms' numbers (given by a run's ``number``), weights in steps, and its length."""

    tids: npt.NDArray[np.int32]
    steps: npt.NDArray[np.int32]
    sizes: npt.NDArray[np.int64]


def article_nodes(
    articles: Sequence[Article],
    found: Sequence[Features],
    idf: Mapping[str, float],
    default: float,
    keep: int,
) -> list[Node]:
    """The nodes of ``articles`` (see ``packed_nodes``), without their vectors as arrays."""
    return packed_nodes(articles, found, idf, default, keep, None)[0]


def packed_nodes(
    articles: Sequence[Article],
    found: Sequence[Features],
    idf: Mapping[str, float],
    default: float,
    keep: int,
    number: dict[str, int] | None,
) -> tuple[list[Node], PackedVectors]:
    """The nodes of ``articles`` (read as ``found``), vectorised together: each content
    vector is the sublinear TF-IDF of its plain terms, its ``keep`` heaviest, scaled to
    length 1; its names' vector the same over its names, ``keep // 4`` of them. A vector
    is in order, heaviest first, ties by term (the candidates' probes read the first ones).

    One numpy pass over the whole group's counts gives what a loop per article gave, to the
    bit: the same products, the lengths summed in the same order (a running sum along each
    row), rounded half to even as ``round`` does.

    The content vectors are also given as arrays (the candidates read them so), their
    terms numbered by ``number``, which gives each term it lacks the next number (None:
    the arrays are left empty)."""
    vecs, names, years, packed = _vectors([f.terms for f in found], idf, default, keep, number)
    nodes = []
    for article, f, vec, name, year in zip(articles, found, vecs, names, years, strict=True):
        day = f.day.toordinal() if f.day else None
        nodes.append(
            Node(
                id="a:" + article.id,
                title=article.title,
                members=[article.id],
                first_seen=article.published,
                last_updated=article.published,
                vec=vec,
                names=name,
                years=year,
                day_lo=day,
                day_hi=day,
                stored=False,
                roundup=f.roundup,
                short=int(f.short),
                lang=article.lang,
                added=[article.id],
            )
        )
    return nodes, packed


def _vectors(
    terms: Sequence[PackedTerms],
    idf: Mapping[str, float],
    default: float,
    keep: int,
    number: dict[str, int] | None,
) -> tuple[list[Vector], list[Vector], list[dict[str, float]], PackedVectors]:
    """Content vectors (also as arrays), name vectors and years of each of ``terms`` (see
    ``packed_nodes``)."""
    n = len(terms)
    keys = list(itertools.chain.from_iterable(p.keys_ for p in terms))
    if not keys:
        return [{} for _ in terms], [{} for _ in terms], [{} for _ in terms], _empty(n)
    # the group's terms in order: a term's id is its rank, so ties by id are ties by term
    vocab = sorted(set(keys))
    tid = looked_up(dict(zip(vocab, range(len(vocab)), strict=True)), keys, np.int64)
    counts = np.concatenate([np.frombuffer(p.counts, dtype=np.intc) for p in terms if p.keys_])
    row = np.repeat(np.arange(n), [len(p.keys_) for p in terms])
    kind = _kinds(vocab)[tid]
    weight = _tf_of(counts) * _idf_of(vocab, idf, default)[tid]
    words = np.array(vocab, dtype=object)
    positive = counts > 0
    vecs, packed = _top_unit(n, row, tid, weight, positive & (kind == _PLAIN), keep, words, number)
    names, _ = _top_unit(n, row, tid, weight, positive & (kind == _NAME), keep // 4, words, None)
    years: list[dict[str, float]] = [{} for _ in terms]
    is_year = kind == _YEAR
    for r, term in zip(row[is_year].tolist(), words[tid[is_year]].tolist(), strict=True):
        years[r][term] = 1.0
    return vecs, names, years, packed


def _idf_of(
    vocab: Sequence[str], idf: Mapping[str, float], default: float
) -> npt.NDArray[np.float64]:
    """The idf of each of ``vocab`` (one ``itemgetter`` call in C when ``idf`` has them all,
    as a run's has its batch's terms; else ``default`` for those it lacks)."""
    try:
        return looked_up(idf, vocab, np.float64)
    except KeyError:
        return np.array([idf.get(t, default) for t in vocab], dtype=np.float64)


def _kinds(vocab: Sequence[str]) -> npt.NDArray[np.int8]:
    """Each of ``vocab``'s kind (plain, name, year) by its first character: in a sorted
    vocabulary, the terms of one mark are one run, found by two binary searches."""
    kinds = np.full(len(vocab), _PLAIN, dtype=np.int8)
    for mark, kind in ((NAME_MARK, _NAME), (YEAR_MARK, _YEAR)):
        lo = bisect.bisect_left(vocab, mark)
        kinds[lo : bisect.bisect_left(vocab, chr(ord(mark) + 1), lo)] = kind
    return kinds


def _tf_of(counts: npt.NDArray[np.intc]) -> npt.NDArray[np.float64]:
    """``_tf`` of each count in tenths (a table for the common small counts; the few large
    ones by ``math.log``, as one by one)."""
    tf = _TF[np.minimum(counts, _KNOWN - 1)]
    large = np.flatnonzero(counts >= _KNOWN)
    if len(large):
        tf[large] = [_tf(c / TENTHS) for c in counts[large].tolist()]
    return tf


def _heaviest_first(
    row: npt.NDArray[np.int64], tid: npt.NDArray[np.int64], weight: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """The order of the entries by row, heaviest first, then by term (each term once a
    row): one sort of an integer key (row, weight's rank, term) where it fits in 63 bits,
    three times faster than sorting by the three keys in turn."""
    values, rank = np.unique(-weight, return_inverse=True)
    bits_rank, bits_tid = len(values).bit_length(), int(tid.max()).bit_length() + 1
    if int(row.max()).bit_length() + bits_rank + bits_tid > 63:
        return np.lexsort((tid, -weight, row))
    key = (row << (bits_rank + bits_tid)) | (rank.astype(np.int64) << bits_tid) | tid
    return np.argsort(key)


def _top_unit(
    n: int,
    row: npt.NDArray[np.int64],
    tid: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    keep: int,
    words: npt.NDArray[np.object_],
    number: dict[str, int] | None,
) -> tuple[list[Vector], PackedVectors]:
    """Per row, the ``keep`` heaviest of the masked terms (ties by term) scaled to length 1
    and rounded to 1/16384, heaviest first; also as arrays, the terms numbered by
    ``number`` (None: the arrays are left empty)."""
    if keep <= 0 or not mask.any():
        return [{} for _ in range(n)], _empty(n)
    row, tid, weight = row[mask], tid[mask], weight[mask]
    order = _heaviest_first(row, tid, weight)
    row, tid, weight = row[order], tid[order], weight[order]
    starts = np.searchsorted(row, np.arange(n + 1))
    position = np.arange(len(row)) - starts[row]
    top = position < keep
    row, tid, weight, position = row[top], tid[top], weight[top], position[top]
    squares = np.zeros((n, keep))
    squares[row, position] = weight * weight
    # a running sum along each row adds in the order a loop would (a plain sum pairs terms)
    length = np.sqrt(np.cumsum(squares, axis=1)[:, -1])
    length[length == 0.0] = 1.0
    steps = np.rint(weight / length[row] * STEPS).astype(np.int64)
    if len(steps) and (steps.min() < 0 or steps.max() > STEPS):  # (never: weights > 0)
        raise ValueError("a term weight out of range")
    terms, values = words[tid].tolist(), _SHARED[steps].tolist()
    bounds = np.searchsorted(row, np.arange(n + 1)).tolist()
    vectors = [
        dict(zip(terms[a:b], values[a:b], strict=True)) for a, b in itertools.pairwise(bounds)
    ]
    if number is None:
        return vectors, _empty(n)
    sizes = np.bincount(row, minlength=n).astype(np.int64)
    return vectors, PackedVectors(_numbers(number, words, tid), steps.astype(np.int32), sizes)


def _numbers(
    number: dict[str, int], words: npt.NDArray[np.object_], tid: npt.NDArray[np.int64]
) -> npt.NDArray[np.int32]:
    """The number of each word ``tid`` points at, ``number`` giving a word it lacks the next
    one (each word of the group looked up once, in the group's order)."""
    held = np.flatnonzero(np.bincount(tid, minlength=len(words)))
    terms = words[held].tolist()
    found = np.fromiter(map(number.get, terms, itertools.repeat(-1)), np.int64, len(terms))
    missing = np.flatnonzero(found < 0)
    if len(missing):
        first = len(number)
        number.update(zip([terms[i] for i in missing.tolist()], itertools.count(first)))
        found[missing] = np.arange(first, first + len(missing))
    by_word = np.zeros(len(words), dtype=np.int32)
    by_word[held] = found
    return by_word[tid]


def _empty(n: int) -> PackedVectors:
    return PackedVectors(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(n, np.int64))


def on_grid(weights: Sequence[float]) -> list[float]:
    """``weights`` rounded to whole 1/16384 steps. A weight summed from article vectors is one
    already (unchanged); a signature stored by an older digest, to 6 decimals, moves by at
    most 3.1e-5. On the grid every dot product of the clustering is exact, so the same in
    any order of its terms: a plan never depends on the order a set holds them in."""
    values = np.asarray(weights, dtype=np.float64)
    return (np.rint(values * STEPS) / STEPS).tolist()  # type: ignore[no-any-return]


def _shared_on_grid(weights: Sequence[float]) -> list[float]:
    """``on_grid(weights)``, each weight up to 1 as the shared object of its value (most of
    a window's thread weights: ~0.7M entries at 5k threads, 17 MB of floats otherwise)."""
    steps = np.rint(np.asarray(weights, dtype=np.float64) * STEPS)
    small = (steps >= 0) & (steps <= STEPS)
    values = np.empty(len(steps), dtype=object)
    values[small] = _SHARED[steps[small].astype(np.int64)]
    values[~small] = steps[~small] / STEPS
    return values.tolist()


def thread_node(thread: EventThread) -> Node:
    packed = PackedSignature.of(thread.signature)
    node = Node(
        id=thread.id,
        title=thread.title,
        members=list(thread.article_ids),
        first_seen=thread.first_seen,
        last_updated=thread.last_updated,
        # the plain terms, once the others are taken out below
        vec=dict(zip(packed.terms, _shared_on_grid(packed.weights), strict=True)),
        names={},
        years={},
        day_lo=None,
        day_hi=None,
        stored=True,
    )
    vec = node.vec
    # only the few marked keys are looked at one by one (a full window's ~6k threads hold
    # ~1M terms, nearly all plain: a loop over every one took 0.4 s of a run)
    for key in [k for k in vec if k[0] in _MARKED]:
        weight, mark = vec.pop(key), key[0]
        if mark == NAME_MARK:
            node.names[key] = weight
        elif mark == YEAR_MARK:
            node.years[key] = weight
        elif key == "%lo":
            node.day_lo = int(weight)
        elif key == "%hi":
            node.day_hi = int(weight)
        elif key == "&short":
            node.short = int(weight)
        elif key == "&roundup":
            node.roundup = True
        elif key.startswith(_LANG):
            node.lang = key[len(_LANG) :]
    return node


_MARKED = frozenset((NAME_MARK, YEAR_MARK, "%", "&"))  # keys that are not plain terms


def signature(node: Node) -> PackedSignature:
    items = [*node.vec.items(), *node.names.items(), *node.years.items()]
    if node.day_lo is not None and node.day_hi is not None:
        items += [("%lo", float(node.day_lo)), ("%hi", float(node.day_hi))]
    if node.short:
        items.append(("&short", float(node.short)))
    if node.roundup:
        items.append(("&roundup", 1.0))
    if node.lang != "en":
        items.append((_LANG + node.lang, 1.0))
    # packed (a new thread's ~250 pairs as tuples and floats cost ~20 KB; packed, 4 KB)
    weights = on_grid([w for _, w in items])  # (sums of whole steps: on it already)
    return PackedSignature(tuple(k for k, _ in items), array("d", weights))
