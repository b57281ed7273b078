"""Article terms and vectors for event clustering (pure).

Each article becomes weighted term counts (title and lead weighted up, capitalised names and
numbers weighted up again), then three things to compare: a TF-IDF content vector, a TF-IDF
vector of its names and numbers alone (the "who/where" that separates two events of the
same kind), and the years its title and lead name (the "when").
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.models import Article
from digest.text import STOPWORDS, content_terms, stem

if TYPE_CHECKING:
    from digest.cluster import ClusterParams

Vector = dict[str, float]
Terms = dict[str, float]  # weighted term counts of one article (names and years marked)
NAME_MARK = "@"  # term-count keys of names and numbers, the separate "who/where" vector
YEAR_MARK = "#"  # term-count keys of years named in the title or lead (the "when")
_MARKS = frozenset((NAME_MARK, YEAR_MARK))

# a capitalised word not opening a sentence (a period after an initial or a title such as
# "G. Varga", "Mr. Putin", "U.S. President" does not end one), or a number. \b and the
# capital first: the lookbehinds run only at capitalised word starts, which halves the time
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_NAME = re.compile(
    r"\b(?:(?=[A-Z])(?:(?<![.!?]\s)(?<!^)|(?<=\b[A-Z]\.\s)|(?<=\b(?:Mr|Ms|Dr|St|Lt)\.\s)"
    r"|(?<=\b(?:Mrs|Gen|Sen|Rep|Gov|Col|Sgt|Rev)\.\s)|(?<=\b(?:Prof|Capt)\.\s))"
    r"[A-Z][a-zA-Z'’-]+|\d[\d.,]*\b)"
)


def article_terms(article: Article, params: ClusterParams) -> Terms:
    """Weighted term counts of one article (before IDF)."""
    counts: Terms = {}
    body = article.text.split()
    lead, rest = (
        " ".join(body[: params.lead_words]),
        " ".join(body[params.lead_words : params.body_words]),
    )
    for text, weight in (
        (article.title, params.title_weight),
        (lead, params.lead_weight),
        (rest, 1.0),
    ):
        for term, n in Counter(content_terms(text)).items():
            counts[term] = counts.get(term, 0.0) + n * weight
        names = Counter(_NAME.findall(text))
        for name, n in names.items():
            word = name.lower().replace("’", "'")
            if word not in STOPWORDS and len(word) > 1:
                key = stem(word)
                counts[key] = counts.get(key, 0.0) + n * params.name_weight * weight
                counts[NAME_MARK + key] = counts.get(NAME_MARK + key, 0.0) + n * weight
        if weight > 1.0:  # title and lead: the years the article is about
            for year in _YEAR.findall(text):
                counts[YEAR_MARK + year] = counts.get(YEAR_MARK + year, 0.0) + 1.0
    return counts


def term_counts(articles: Iterable[Article], params: ClusterParams) -> dict[str, Terms]:
    """``article_terms`` of each article, by id (computed once, for clustering and df)."""
    return {a.id: article_terms(a, params) for a in articles}


def document_frequencies(
    articles: Iterable[Article],
    params: ClusterParams,
    *,
    terms: Mapping[str, Terms] | None = None,
) -> Counter[str]:
    """How many of ``articles`` contain each term (for the store's running vocabulary)."""
    df: Counter[str] = Counter()
    for article in articles:
        counts = terms[article.id] if terms is not None else article_terms(article, params)
        df.update(counts.keys())
    return df


def idf_of(df: Mapping[str, int], n_docs: int) -> Mapping[str, float]:
    return {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}


def _vectorise(
    counts: Mapping[str, float], idf: Mapping[str, float], default_idf: float, keep: int
) -> Vector:
    weights = {t: (1.0 + math.log(c)) * idf.get(t, default_idf) for t, c in counts.items() if c > 0}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: w / norm for t, w in top}


@dataclass(frozen=True, slots=True)
class Doc:
    """What is compared: an article's (or a cluster's) content vector, names' vector and the
    years it names (keys keep their marks)."""

    vec: Vector
    names: Vector
    years: Vector


def doc_vectors(
    counts: Mapping[str, float], idf: Mapping[str, float], default_idf: float, params: ClusterParams
) -> Doc:
    words = {t: c for t, c in counts.items() if t[0] not in _MARKS}
    if len(words) == len(counts):
        return Doc(_vectorise(words, idf, default_idf, params.article_terms), {}, {})
    names = {t: c for t, c in counts.items() if t[0] == NAME_MARK}
    years = {t: c for t, c in counts.items() if t[0] == YEAR_MARK}
    return Doc(
        _vectorise(words, idf, default_idf, params.article_terms),
        _vectorise(names, idf, default_idf, params.name_terms),
        years,
    )


def dot(a: Vector, b: Vector) -> float:
    common = a.keys() & b.keys()  # the intersection and the products run in C
    total: float = sum(map(operator.mul, map(a.__getitem__, common), map(b.__getitem__, common)))
    return total
