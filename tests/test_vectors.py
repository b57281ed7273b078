"""A group's vectors, computed in one numpy pass, are what one loop per article gives."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from digest.cluster import ClusterParams, read_articles
from digest.cluster.features import NAME_MARK, TENTHS, YEAR_MARK
from digest.cluster.nodes import article_nodes, packed_nodes
from digest.models import Article

Make = Callable[..., Article]
TEXTS = (
    "President Halvorsen and President Dukov spoke by phone on Thursday about the Varnia "
    "border, grain exports in 2026 and a prisoner exchange; Dukov told Halvorsen he would "
    "not abandon his demands. " * 3,
    "Ostrava agreed a trade deal cutting the tariff on textiles to 20 percent, and exporters "
    "of shoes welcomed the deal.",
    "",
)


def _reference(
    counts: dict[str, int], idf: dict[str, float], default: float, keep: int
) -> list[tuple[str, float]]:
    def tf(c: float) -> float:
        return 1.0 + math.log(c) if c >= 1.0 else c

    weights = [(t, tf(c / TENTHS) * idf.get(t, default)) for t, c in counts.items() if c > 0]
    weights.sort(key=lambda tw: (-tw[1], tw[0]))
    top = weights[:keep]
    length = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return [(t, round(w / length * (1 << 14)) / (1 << 14)) for t, w in top]


def test_a_group_is_vectorised_as_one_by_one(make_article: Make) -> None:
    articles = [make_article(f"Report {i}", text, hours=i) for i, text in enumerate(TEXTS * 2)]
    read = read_articles(articles, ClusterParams())
    found = [read[a.id] for a in articles]
    idf = {t: 1.0 + (len(t) % 7) / 3 for f in found for t in f.terms}  # many ties
    number: dict[str, int] = {}
    nodes, packed = packed_nodes(articles, found, idf, 2.5, 12, number)
    terms = {k: t for t, k in number.items()}
    at = np.concatenate(([0], np.cumsum(packed.sizes))).tolist()
    for node, f, lo, hi in zip(nodes, found, at[:-1], at[1:], strict=True):
        plain = {t: c for t, c in f.terms.items() if t[0] not in (NAME_MARK, YEAR_MARK)}
        names = {t: c for t, c in f.terms.items() if t[0] == NAME_MARK}
        assert list(node.vec.items()) == _reference(plain, idf, 2.5, 12)
        assert list(node.names.items()) == _reference(names, idf, 2.5, 3)
        assert node.years == {t: 1.0 for t in f.terms if t[0] == YEAR_MARK}
        # the same vector as arrays: its terms' numbers and weights in steps, in order
        assert [terms[k] for k in packed.tids[lo:hi].tolist()] == list(node.vec)
        assert (packed.steps[lo:hi] / (1 << 14)).tolist() == list(node.vec.values())
    assert nodes[0].vec
    assert nodes[0].names
    assert sorted(number) == sorted({t for n in nodes for t in n.vec})  # those, once each
    assert sorted(number.values()) == list(range(len(number)))


def test_terms_the_vocabulary_lacks_weigh_the_default(make_article: Make) -> None:
    """A term without a document frequency (an operator's split is weighed with the stored
    frequencies alone) takes the default idf."""
    articles = [make_article(f"Report {i}", text, hours=i) for i, text in enumerate(TEXTS)]
    read = read_articles(articles, ClusterParams())
    found = [read[a.id] for a in articles]
    every = sorted({t for f in found for t in f.terms})
    idf = {t: 1.0 + (len(t) % 7) / 3 for t in every[::2]}  # every other term has none
    for node, f in zip(article_nodes(articles, found, idf, 2.5, 12), found, strict=True):
        plain = {t: c for t, c in f.terms.items() if t[0] not in (NAME_MARK, YEAR_MARK)}
        assert list(node.vec.items()) == _reference(plain, idf, 2.5, 12)
