"""``entities.scan`` of a batch's texts read together, in numpy (pure).

``entities.scan`` finds each word with a regex: ~0.35 us a word, a third of the time it
takes to read an article's features, and numpy's cost per call is too high to win on one
text. So the texts are read a chunk at a time: joined, as code points, into one array, where
a word is a run of letters and digits (``str.isalnum``) with an apostrophe (``'`` or
``’``) between two of them inside, and what comes before a word is the text since the
word before. The sentence openings are then found by searching the positions of the
marks that end a sentence (``entities.ENDS_SENTENCE``, read into character tables). A
text the tables cannot read as the regex does (with ``_``, which is neither a word nor
what the regex reads before one, or a character beyond the Basic Multilingual Plane) is
scanned by ``entities.scan``: the words, capitals and openings are the same either way
(tests/test_tokens.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from digest.cluster.entities import (
    ABBREVIATIONS,
    ENDS_SENTENCE,
    LONG_HEAD,
    SHORT_HEAD,
    Scanned,
    abbreviation,
    scan,
)

CHUNK_CHARS = 1 << 20  # code points read at a time (4 MB as UTF-32; ~300 bodies of 400 words)
_PLANE = 0x10000  # the tables' size: the Basic Multilingual Plane
_DOT = ord(".")
_Bools = npt.NDArray[np.bool_]
_Ints = npt.NDArray[np.intp]
_LONGEST_ABBREVIATION = max(map(len, ABBREVIATIONS))  # longer words are none


@dataclass(frozen=True, slots=True)
class _Tables:
    word: _Bools  # a letter or a digit (``[^\W_]``)
    apostrophe: _Bools  # ' and ’: inside a word between two of its characters
    upper: _Bools  # ``str.isupper``: a capitalised word's first character
    space: _Bools  # ``\s`` (``str.isspace``)
    dash: _Bools  # a dash that opens a sentence with a space beside it
    ends: _Bools  # a mark that alone ends a sentence before a word


@functools.cache
def _tables() -> _Tables:
    chars = [chr(c) for c in range(_PLANE)]

    def table(test: Callable[[str], bool]) -> _Bools:
        return np.fromiter(map(test, chars), dtype=np.bool_, count=_PLANE)

    def among(marks: Iterable[str]) -> _Bools:
        found = np.zeros(_PLANE, dtype=bool)
        found[[ord(c) for c in marks]] = True
        return found

    # entities.ENDS_SENTENCE as tables, from one search of every character after a space
    # and before a NUL (neither a mark nor a space): a match of one character is a mark it
    # takes alone, one of two a dash it takes beside a space
    found = ENDS_SENTENCE.findall("".join(f" {c}\0" for c in chars))
    return _Tables(
        word=table(str.isalnum),
        apostrophe=among("'’"),
        upper=table(str.isupper),
        space=table(str.isspace),
        dash=among(m[1] for m in found if len(m) == 2),
        ends=among(m for m in found if len(m) == 1),
    )


def scan_all(texts: Sequence[str], *, limit: int | None = None) -> list[Scanned]:
    """``entities.scan(text, limit=limit)`` of each of ``texts``."""
    found: list[Scanned | None] = [None] * len(texts)
    regex: list[int] = []  # texts the tables cannot read: scanned whole by the regex
    if limit is None:
        todo = list(range(len(texts)))
    else:
        # entities._first: a short head first; when it holds more than ``limit`` words,
        # its first ``limit`` are those of the whole text, else a longer head is read
        short = limit * SHORT_HEAD
        todo = [n for n, t in enumerate(texts) if len(t) <= short]
        first = [n for n, t in enumerate(texts) if len(t) > short]
        scanned, counts = _scan_heads([texts[n][:short] for n in first], limit)
        for n, got, count in zip(first, scanned, counts, strict=True):
            if got is None:
                regex.append(n)
            elif count > limit:
                found[n] = got
            else:
                todo.append(n)
        todo.sort()
    heads = [texts[n] if limit is None else texts[n][: limit * LONG_HEAD] for n in todo]
    for n, got in zip(todo, _scan_heads(heads, limit)[0], strict=True):
        found[n] = got
        if got is None:
            regex.append(n)
    for n in regex:
        found[n] = scan(texts[n], limit=limit)
    return [s for s in found if s is not None]


def _scan_heads(heads: list[str], limit: int | None) -> tuple[list[Scanned | None], list[int]]:
    """Each head scanned (its first ``limit`` words; None for one the tables cannot read),
    and how many words it holds."""
    scanned: list[Scanned | None] = []
    counts: list[int] = []
    start = 0
    while start < len(heads):
        end, size = start, 0
        while end < len(heads) and (end == start or size + len(heads[end]) < CHUNK_CHARS):
            size += len(heads[end]) + 1
            end += 1
        got, many = _chunk(heads[start:end], limit)
        scanned += got
        counts += many
        start = end
    return scanned, counts


def _code_points(text: str) -> tuple[npt.NDArray[np.unsignedinteger[Any]], str]:
    """``text``'s code points in the narrowest array that holds them one to a place, and
    the codec that reads such an array back."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8), "ascii"
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) == 2 * len(text):  # (no character beyond the plane: one unit each)
        return np.frombuffer(units, dtype="<u2"), "utf-16-le"
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4"), "utf-32-le"


def _chunk(heads: list[str], limit: int | None) -> tuple[list[Scanned | None], list[int]]:
    t = _tables()
    text = "\n".join(heads)  # (a line break: no word or apostrophe spans two texts)
    at = np.zeros(len(heads), dtype=np.intp)
    np.cumsum([len(h) + 1 for h in heads[:-1]], out=at[1:])
    points, codec = _code_points(text)
    if not len(points):
        empty: list[Scanned | None] = [Scanned(words=[], caps=[], opening=set()) for _ in heads]
        return empty, [0] * len(heads)
    regex: set[int] = set()  # (1-based numbers of the texts the tables cannot read)
    code = points
    if "_" in text or codec == "utf-32-le":
        odd = np.flatnonzero((points >= _PLANE) | (points == ord("_")))
        regex = set(np.searchsorted(at, odd, side="right").tolist())
        if codec == "utf-32-le":
            code = np.minimum(points, _PLANE - 1)
    word = t.word[code]
    inside = word.copy()
    inside[1:-1] |= t.apostrophe[code[1:-1]] & word[:-2] & word[2:]
    edges = np.flatnonzero(np.diff(inside, prepend=False, append=False))
    starts, ends = edges[0::2], edges[1::2]
    owner = np.searchsorted(at, starts, side="right") - 1
    counts = np.bincount(owner, minlength=len(heads))
    local = np.arange(len(starts)) - (np.cumsum(counts) - counts)[owner]
    if limit is not None:
        kept = local < limit
        starts, ends, owner, local = starts[kept], ends[kept], owner[kept], local[kept]
    marks = np.zeros(len(points) + 1, dtype=np.int8)
    marks[starts], marks[ends] = 1, -1
    letters = np.cumsum(marks[:-1], dtype=np.int8).view(bool)
    spaced = np.where(letters, points, points.dtype.type(32)).tobytes()
    # lower-cased at once (lower() makes no white space; a word's case never depends on the
    # words beside it)
    folded = spaced.decode(codec, "surrogatepass").lower()
    words = (folded.replace("’", "'") if "’" in text else folded).split()
    caps = np.flatnonzero(t.upper[code[starts]])
    opens = _openings(t, code, starts, ends, local, caps, text)
    bounds = np.searchsorted(owner, np.arange(len(heads) + 1)).tolist()
    cap_bounds = np.searchsorted(owner[caps], np.arange(len(heads) + 1)).tolist()
    open_bounds = np.searchsorted(owner[opens], np.arange(len(heads) + 1)).tolist()
    cap_local, open_local = local[caps].tolist(), local[opens].tolist()
    found: list[Scanned | None] = []
    for n in range(len(heads)):
        if n + 1 in regex:
            found.append(None)  # (read by the regex, from the whole text)
            continue
        found.append(
            Scanned(
                words=words[bounds[n] : bounds[n + 1]],
                caps=cap_local[cap_bounds[n] : cap_bounds[n + 1]],
                opening=set(open_local[open_bounds[n] : open_bounds[n + 1]]),
            )
        )
    return found, counts.tolist()


def _openings(
    t: _Tables,
    code: npt.NDArray[np.unsignedinteger[Any]],
    starts: _Ints,
    ends: _Ints,
    local: _Ints,
    caps: _Ints,
    text: str,
) -> _Ints:
    """The capitalised words (of ``caps``, indices into the words) that open a sentence: a
    text's first, or one after a mark that ends a sentence, unless the mark is the period
    of an initial ("G. Zolhekson") or an abbreviation ("Mr. Putin")."""
    later = caps[local[caps] > 0]  # (a text's first word always opens)
    begin, end = ends[later - 1], starts[later]  # what comes before each: [begin, end)
    space = t.space[code]
    dash = t.dash[code]
    pair = np.zeros(len(code), dtype=bool)  # a dash and a space beside it, from here
    pair[:-1] = (space[:-1] & dash[1:]) | (dash[:-1] & space[1:])
    marked = _any_in(np.flatnonzero(t.ends[code]), begin, end)
    marked |= _any_in(np.flatnonzero(pair), begin, end - 1)
    # a period first (past white space), after an initial or an abbreviation
    solid = np.flatnonzero(~space)
    first = solid[np.searchsorted(solid, begin)]  # (the word itself is one: never past)
    dotted = np.flatnonzero(marked & (first < end) & (code[first] == _DOT))
    size = ends[later[dotted] - 1] - starts[later[dotted] - 1]
    initial = (size == 1) & t.upper[code[starts[later[dotted] - 1]]]
    short = dotted[~initial & (size <= _LONGEST_ABBREVIATION)]
    marked[dotted[initial]] = False
    previous = later[short] - 1
    spans = zip(starts[previous].tolist(), ends[previous].tolist(), strict=True)
    marked[short] = [not abbreviation(text[a:b]) for a, b in spans]
    return np.sort(np.concatenate((caps[local[caps] == 0], later[marked])))


def _any_in(positions: _Ints, begin: _Ints, end: _Ints) -> _Bools:
    """Whether one of the sorted ``positions`` lies in each [begin, end)."""
    if not len(positions):
        return np.zeros(len(begin), dtype=bool)
    found = np.searchsorted(positions, begin)
    return (found < len(positions)) & (positions[np.minimum(found, len(positions) - 1)] < end)
