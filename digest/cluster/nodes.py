"""Articles and stored threads as nodes of the clustering, and back (pure).

A stored thread's signature keeps what its node needs to be met again on a later run: the
sums of its members' unit content and name vectors (plain and ``@`` keys), the years its
members name (``#``), its event-day range (``%lo``/``%hi``), how many members are
headlines alone (``&short``), whether it is a roundup (``&roundup``) and its language when it
is not English (``&lang:de``).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping

from digest.cluster.features import MARKS, NAME_MARK, TENTHS, YEAR_MARK, Features
from digest.cluster.link import Node, Vector, heaviest_first
from digest.models import Article, EventThread, PackedSignature

_LANG = "&lang:"  # a thread not in English keeps its language in its signature


def idf_of(df: Mapping[str, int], n_docs: int) -> dict[str, float]:
    return {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}


def _tf(count: float) -> float:
    """Sublinear term weight of a position-weighted count: 1 + ln(count) from one full
    occurrence up, the count itself below (a word met once in the background counts 0.2)."""
    return 1.0 + math.log(count) if count >= 1.0 else count


def vectorise(
    counts: Mapping[str, int], idf: Mapping[str, float], default: float, keep: int
) -> Vector:
    """Sublinear TF-IDF of ``counts``, its ``keep`` heaviest terms, scaled to length 1 (in
    order, heaviest first, ties by term: the candidates' probes read the first ones)."""
    tf, known, weight_of = _TF, len(_TF), idf.get
    weights = [
        (t, (tf[c] if c < known else _tf(c / TENTHS)) * weight_of(t, default))
        for t, c in counts.items()
        if c > 0
    ]
    heaviest_first(weights)
    top = weights[:keep]
    length = math.sqrt(sum(w * w for _, w in top)) or 1.0
    shared, steps, vec = _FLOATS, _STEPS, {}
    # each weight rounded to 1/16384, as one shared object per value (a vector of 120
    # distinct floats costs 2.9 KB of objects alone; at 100k articles, 290 MB)
    for t, w in top:
        step = round(w / length * steps)
        found = shared.get(step)
        if found is None:
            found = shared[step] = step / steps
        vec[t] = found
    return vec


_FLOATS: dict[int, float] = {}
_STEPS = 1 << 14  # weights kept to 1/16384: an article's vector shares its float objects
_TF = [_tf(c / TENTHS) for c in range(64 * TENTHS)]  # the sublinear weight of small counts


def article_node(
    article: Article, f: Features, idf: Mapping[str, float], default: float, keep: int
) -> Node:
    plain = {t: c for t, c in f.terms.items() if t[0] not in MARKS}
    names = {t: c for t, c in f.terms.items() if t[0] == NAME_MARK}
    day = f.day.toordinal() if f.day else None
    return Node(
        id="a:" + article.id,
        title=article.title,
        members=[article.id],
        first_seen=article.published,
        last_updated=article.published,
        vec=vectorise(plain, idf, default, keep),
        names=vectorise(names, idf, default, keep // 4),
        years={t: 1.0 for t in f.terms if t[0] == YEAR_MARK},
        day_lo=day,
        day_hi=day,
        stored=False,
        roundup=f.roundup,
        short=int(f.short),
        lang=article.lang,
        added=[article.id],
    )


def thread_node(thread: EventThread) -> Node:
    node = Node(
        id=thread.id,
        title=thread.title,
        members=list(thread.article_ids),
        first_seen=thread.first_seen,
        last_updated=thread.last_updated,
        vec={},
        names={},
        years={},
        day_lo=None,
        day_hi=None,
        stored=True,
    )
    for key, weight in thread.signature:
        mark = key[0]
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
        elif mark not in "%&":
            node.vec[key] = weight
    return node


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
    return PackedSignature(tuple(k for k, _ in items), array("d", [round(w, 6) for _, w in items]))
