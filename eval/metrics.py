"""Clustering metrics over two labelings of the same items (pure, no dependencies).

B-cubed (Bagga & Baldwin 1998, averaged per item), pairwise precision/recall/F1 over item
pairs, the adjusted Rand index (Hubert & Arabie 1985) and normalised mutual information
(arithmetic-mean normalisation, as scikit-learn's default).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

Labels = Mapping[str, Hashable]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusteringScores:
    b3: Scores
    pairwise: Scores
    ari: float
    nmi: float
    n_items: int
    n_gold: int
    n_predicted: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _cells(gold: Labels, predicted: Labels) -> Counter[tuple[Hashable, Hashable]]:
    if set(gold) != set(predicted):
        raise ValueError("gold and predicted labelings cover different items")
    return Counter((gold[i], predicted[i]) for i in gold)


def b_cubed(gold: Labels, predicted: Labels) -> Scores:
    """Per-item B³: precision = |own cluster ∩ own gold| / |own cluster|, averaged."""
    cells = _cells(gold, predicted)
    gold_size, pred_size = Counter(gold.values()), Counter(predicted.values())
    n = len(gold) or 1
    p = sum(c * c / pred_size[pl] for (_, pl), c in cells.items()) / n
    r = sum(c * c / gold_size[gl] for (gl, _), c in cells.items()) / n
    return Scores(precision=p, recall=r, f1=_f1(p, r))


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def pairwise(gold: Labels, predicted: Labels) -> Scores:
    """Precision/recall of "same cluster" decisions over all item pairs."""
    cells = _cells(gold, predicted)
    both = sum(_pairs(c) for c in cells.values())
    pred_pairs = sum(_pairs(c) for c in Counter(predicted.values()).values())
    gold_pairs = sum(_pairs(c) for c in Counter(gold.values()).values())
    p = both / pred_pairs if pred_pairs else 1.0
    r = both / gold_pairs if gold_pairs else 1.0
    return Scores(precision=p, recall=r, f1=_f1(p, r))


def adjusted_rand(gold: Labels, predicted: Labels) -> float:
    cells = _cells(gold, predicted)
    index = sum(_pairs(c) for c in cells.values())
    a = sum(_pairs(c) for c in Counter(gold.values()).values())
    b = sum(_pairs(c) for c in Counter(predicted.values()).values())
    total = _pairs(len(gold))
    expected = a * b / total if total else 0.0
    maximum = (a + b) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def _entropy(counts: Counter[Hashable], n: int) -> float:
    return -sum(c / n * math.log(c / n) for c in counts.values() if c)


def nmi(gold: Labels, predicted: Labels) -> float:
    """Mutual information normalised by the mean of the two entropies."""
    cells = _cells(gold, predicted)
    n = len(gold)
    gold_size, pred_size = Counter(gold.values()), Counter(predicted.values())
    mi = sum(c / n * math.log(c * n / (gold_size[g] * pred_size[p])) for (g, p), c in cells.items())
    h = (_entropy(gold_size, n) + _entropy(pred_size, n)) / 2
    return 1.0 if h == 0 else max(0.0, mi / h)


def score_clustering(gold: Labels, predicted: Labels) -> ClusteringScores:
    return ClusteringScores(
        b3=b_cubed(gold, predicted),
        pairwise=pairwise(gold, predicted),
        ari=adjusted_rand(gold, predicted),
        nmi=nmi(gold, predicted),
        n_items=len(gold),
        n_gold=len(set(gold.values())),
        n_predicted=len(set(predicted.values())),
    )
