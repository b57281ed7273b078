"""A group's vectors, computed in one numpy pass, are what one loop per article gives."""

from __future__ import annotations

import math
from collections.abc import Callable

from digest.cluster import ClusterParams, read_articles
from digest.cluster.features import NAME_MARK, TENTHS, YEAR_MARK
from digest.cluster.nodes import article_nodes
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
    nodes = article_nodes(articles, found, idf, 2.5, 12)
    for node, f in zip(nodes, found, strict=True):
        plain = {t: c for t, c in f.terms.items() if t[0] not in (NAME_MARK, YEAR_MARK)}
        names = {t: c for t, c in f.terms.items() if t[0] == NAME_MARK}
        assert list(node.vec.items()) == _reference(plain, idf, 2.5, 12)
        assert list(node.names.items()) == _reference(names, idf, 2.5, 3)
        assert node.years == {t: 1.0 for t in f.terms if t[0] == YEAR_MARK}
    assert nodes[0].vec
    assert nodes[0].names
    assert nodes[0].years
    assert not nodes[2].vec
