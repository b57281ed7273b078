"""EventThread + its Articles -> ThreadSummary: an extractive, attributed summary (pure).

1. candidates  the first ``_PER_ARTICLE`` sentences of each article (``_PER_THREAD`` per
               thread, leads first), each with a TF-IDF vector
2. score       cosine to the thread centroid (what several outlets say weighs more) plus a
               lead-position bonus, times a recency factor (newest days first) and a quality
               factor that sinks fragments, questions, boilerplate, bare quotes and openers
               like "However,"/"He" (:mod:`digest.quality`); words and terms per language
3. select      maximal marginal relevance; no chosen pair more similar than
               ``params.redundancy``; a soft word budget. A continuing thread first takes
               what only its new articles say
4. order       the best sentence first (the lead), the rest in story order (article time,
               position); a continuing thread's new block before its background block
5. attribute   every outlet whose article or copy carries the sentence or a near-identical
               one (word Jaccard >= ``_SAME_SENTENCE``)

Sentences are copied verbatim (white space collapsed); nothing is ever generated. A thread
with no usable sentence (headline-only articles) shows its headlines instead
(:mod:`digest.headlines`).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from operator import attrgetter
from types import MappingProxyType

from digest.headlines import headline_lines
from digest.lang import content_terms
from digest.models import (
    Article,
    EventThread,
    Quote,
    SourceRef,
    SummarySentence,
    ThreadStatus,
    ThreadSummary,
)
from digest.quality import quality, word_count
from digest.quotes import pick_quotes
from digest.sentences import split_sentences
from digest.text import letters, strip_outlet, words


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryParams:
    max_sentences: int = 5
    min_sentences: int = 3
    max_words: int = 120  # total budget; soft: min_sentences are kept when available
    redundancy: float = 0.4  # cosine above which a candidate repeats a chosen sentence
    max_quotes: int = 3


_PER_ARTICLE = 30
_PER_THREAD = 300
_SAME_SENTENCE = 0.8  # word Jaccard at or above which two sentences are "the same"
_SAME_NEWS = 0.4  # two openings sharing this share of their terms tell the same news ...
_NEWS_CYCLE = 12 * 3600  # ... when their reports are less than this many seconds apart
_MMR_LAMBDA = 0.7
_LEAD_WEIGHT = 0.3
_RECENT_WEIGHT = 1.0  # newest articles' sentences score up to 2x (tuned: see the CHANGELOG)
_RECENT_DAYS = 3.0
_FLOOR = 0.4  # past min_sentences, a sentence must score this share of the best one
_DEFAULT_PARAMS = SummaryParams()
_BY_TIME = attrgetter("published", "outlet", "id")
_NO_COPIES: Mapping[str, tuple[Article, ...]] = MappingProxyType({})

Vector = dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Candidate:
    text: str
    doc: int  # index into the thread's articles (sorted by time)
    position: int  # sentence index within the article
    vector: Vector
    score: float
    fresh: bool  # said only by a new article (continuing threads)
    published: datetime  # its article's
    length: int  # words (quality.word_count), for the budget


@dataclass(frozen=True, slots=True, kw_only=True)
class _Docs:
    """The thread's articles (by time) and every copy of them, with their sentences."""

    articles: tuple[Article, ...]
    everything: tuple[Article, ...]  # articles + also-carried-by copies, by time
    sentences: Mapping[str, tuple[str, ...]]  # article id -> sentences
    word_sets: Mapping[str, tuple[frozenset[str], ...]]  # article id -> their word sets


def summarize(
    thread: EventThread,
    articles: Mapping[str, Article],
    *,
    status: ThreadStatus = "new",
    continues_from: date | None = None,
    new_article_ids: frozenset[str] = frozenset(),
    also_carried_by: Mapping[str, tuple[Article, ...]] = _NO_COPIES,
    params: SummaryParams = _DEFAULT_PARAMS,
) -> ThreadSummary:
    """Summarise one thread in ``min_sentences``..``max_sentences`` attributed sentences."""
    docs = _collect(thread, articles, also_carried_by)
    fresh_ids = new_article_ids if status == "continuing" else frozenset()
    candidates, centroid = _candidates(docs, fresh_ids)
    chosen = _order(_select(candidates, params))
    # each article's sentences by size, for finding which carry each chosen one
    sized = {a.id: _BySize(docs.word_sets[a.id]) for a in docs.everything} if chosen else {}
    sentences = tuple(_attribute(c.text, docs, sized, new=c.fresh) for c in chosen)
    origin = {c.id: i for i, cs in also_carried_by.items() for c in cs}  # copy -> its original
    return ThreadSummary(
        thread_id=thread.id,
        headline=_headline(docs, candidates, centroid) or thread.title,
        status=status,
        sentences=sentences or headline_lines(docs.everything, params.max_sentences),
        quotes=_quotes(docs, centroid, [c.text for c in chosen], fresh_ids, params.max_quotes),
        sources=tuple(_source_ref(a, origin.get(a.id)) for a in docs.everything),
        first_seen=thread.first_seen,
        last_updated=thread.last_updated,
        continues_from=continues_from,
    )


# ── 1. candidates ─────────────────────────────────────────────────────────────────────────


def _collect(
    thread: EventThread,
    articles: Mapping[str, Article],
    copies: Mapping[str, tuple[Article, ...]],
) -> _Docs:
    ids = [i for i in dict.fromkeys(thread.article_ids) if i in articles]
    own = tuple(sorted((articles[i] for i in ids), key=_BY_TIME))
    extra = {c.id: c for i in ids for c in copies.get(i, ()) if c.id not in ids}
    everything = tuple(sorted((*own, *extra.values()), key=_BY_TIME))
    sentences = {
        a.id: tuple(s for p in a.paragraphs for s in split_sentences(p, a.lang)) for a in everything
    }
    word_sets = {i: tuple(_word_set(s) for s in ss) for i, ss in sentences.items()}
    return _Docs(articles=own, everything=everything, sentences=sentences, word_sets=word_sets)


def _candidates(docs: _Docs, fresh_ids: frozenset[str]) -> tuple[list[_Candidate], Vector]:
    raw = _raw_candidates(docs)
    terms = [Counter(content_terms(text, docs.articles[doc].lang)) for doc, _, text in raw]
    idf = _idf(terms)
    vectors = [_normalise({t: n * idf[t] for t, n in tf.items()}) for tf in terms]
    centroid = _normalise(_add(vectors))
    old = _old_sentences(docs, fresh_ids)
    titles = [_word_set(a.title) for a in docs.articles]
    recency = _recency(docs.articles)
    out = [
        _Candidate(
            text=text,
            doc=doc,
            position=pos,
            vector=vector,
            score=_score(text, pos, vector, centroid, titles[doc]) * recency[doc],
            fresh=docs.articles[doc].id in fresh_ids and not old.near(_word_set(text)),
            published=docs.articles[doc].published,
            length=word_count(text),
        )
        for (doc, pos, text), vector in zip(raw, vectors, strict=True)
    ]
    return out, centroid


def _raw_candidates(docs: _Docs) -> list[tuple[int, int, str]]:
    """(doc, position, text), leads of every article first, capped per article and thread."""
    raw = [
        (doc, pos, text)
        for doc, article in enumerate(docs.articles)
        for pos, text in enumerate(docs.sentences[article.id][:_PER_ARTICLE])
    ]
    raw.sort(key=lambda r: (r[1], r[0]))
    return sorted(raw[:_PER_THREAD], key=lambda r: (r[0], r[1]))


def _recency(articles: Sequence[Article]) -> list[float]:
    """A score factor: 1 + ``_RECENT_WEIGHT`` for the newest articles, fading to 1 over
    ``_RECENT_DAYS`` (so articles hours apart differ little, days apart much more)."""
    newest = max((a.published for a in articles), default=None)
    days = [(newest - a.published).total_seconds() / 86400 for a in articles] if newest else []
    return [1.0 + _RECENT_WEIGHT * max(0.0, 1.0 - d / _RECENT_DAYS) for d in days]


def _old_sentences(docs: _Docs, fresh_ids: frozenset[str]) -> _BySize:
    if not fresh_ids:
        return _BySize(())
    old = [a for a in docs.articles if a.id not in fresh_ids]
    return _BySize(w for a in old for w in docs.word_sets[a.id][:_PER_ARTICLE])


class _BySize:
    """Sentences' word sets by their size. Two sets reach ``_SAME_SENTENCE`` only when the
    smaller holds at least that share of the larger's words, so a sentence is compared with
    those of about its size only (each fresh sentence of a long thread met every old one:
    the cost of a continuing thread grew with its length)."""

    def __init__(self, sets: Iterable[frozenset[str]]) -> None:
        self.by_size: dict[int, set[frozenset[str]]] = {}
        for found in sets:
            if found:
                self.by_size.setdefault(len(found), set()).add(found)

    def near(self, mine: frozenset[str]) -> bool:
        """Whether one of the sets is the same sentence as ``mine`` (a sentence's words)."""
        if not mine or not self.by_size:
            return False
        same = self.by_size.get(len(mine), set())
        if mine in same:  # (a copy's sentence, word for word: the common case)
            return True
        # (one size more either way than the bounds: ``_jaccard`` decides, in its floats,
        # by the fewest shared words with which it reaches the bar for the two sizes)
        n = len(mine)
        lo = math.floor(n * _SAME_SENTENCE) - 1
        hi = math.ceil(n / _SAME_SENTENCE) + 1
        for size in range(lo, hi + 1):
            sized = self.by_size.get(size)
            if not sized:
                continue
            need = _shared_needed(n, size)
            if need is not None and any(len(mine & other) >= need for other in sized):
                return True
        return False


@functools.cache
def _shared_needed(n: int, size: int) -> int | None:
    """The fewest words two sets of ``n`` and ``size`` words must share for ``_jaccard``
    to reach ``_SAME_SENTENCE`` (None: never). Its value grows with the words shared, so
    this is the bar as ``_jaccard`` computes it, to the bit."""
    found = (i for i in range(min(n, size) + 1) if _jaccard(i, n, size) >= _SAME_SENTENCE)
    return next(found, None)


def _idf(terms: Sequence[Counter[str]]) -> dict[str, float]:
    df = Counter(t for tf in terms for t in tf)
    return {t: math.log(1.0 + len(terms) / d) for t, d in df.items()}


def _normalise(vector: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {t: v / norm for t, v in vector.items()} if norm else {}


def _add(vectors: Iterable[Vector]) -> Vector:
    total: Vector = {}
    for vector in vectors:
        for t, v in vector.items():
            total[t] = total.get(t, 0.0) + v
    return total


def _cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


# ── 2. score ──────────────────────────────────────────────────────────────────────────────


def _score(
    text: str, position: int, vector: Vector, centroid: Vector, title: frozenset[str]
) -> float:
    lead = 1.0 / (1.0 + position)
    return quality(text, title) * (_cosine(vector, centroid) + _LEAD_WEIGHT * lead)


# ── 3. select ─────────────────────────────────────────────────────────────────────────────


def _select(candidates: Sequence[_Candidate], params: SummaryParams) -> list[_Candidate]:
    usable = [c for c in candidates if c.score > 0.0]
    fresh = [c for c in usable if c.fresh]
    chosen: list[_Candidate] = []
    if fresh and len(fresh) < len(usable):
        _mmr(fresh, chosen, params, max(1, params.max_sentences - 1))
    _mmr(usable, chosen, params, params.max_sentences)
    return chosen


def _mmr(
    pool: Sequence[_Candidate], chosen: list[_Candidate], params: SummaryParams, limit: int
) -> None:
    """Greedy maximal marginal relevance, appending to ``chosen`` in place."""
    top = max((c.score for c in pool), default=0.0) or 1.0
    left = [c for c in pool if c not in chosen]
    similarity = {id(c): max((_alike(c, s) for s in chosen), default=0.0) for c in left}
    while left and len(chosen) < limit:
        best, best_value = None, -math.inf
        for c in left:
            value = _MMR_LAMBDA * c.score / top - (1 - _MMR_LAMBDA) * similarity[id(c)]
            ok = similarity[id(c)] <= params.redundancy and _fits(c, chosen, params, top)
            if ok and value > best_value:
                best, best_value = c, value
        if best is None:
            return
        chosen.append(best)
        left.remove(best)
        for c in left:
            similarity[id(c)] = max(similarity[id(c)], _alike(c, best))


def _alike(a: _Candidate, b: _Candidate) -> float:
    """How much two candidates say the same: their cosine, or 1.0 for the openings of two
    reports of one news cycle that share most of their words (the thread's own IDF makes
    the names they share cheap, so their cosine alone stays under the bar)."""
    if a.position == b.position == 0 and a.doc != b.doc:
        apart = abs((a.published - b.published).total_seconds())
        shared = len(a.vector.keys() & b.vector.keys())
        if apart < _NEWS_CYCLE and shared >= _SAME_NEWS * min(len(a.vector), len(b.vector)) > 0:
            return 1.0
    return _cosine(a.vector, b.vector)


def _fits(
    candidate: _Candidate, chosen: Sequence[_Candidate], params: SummaryParams, top: float
) -> bool:
    """Within the word budget and good enough, once ``min_sentences`` are in."""
    if len(chosen) < params.min_sentences:
        return True
    used = sum(c.length for c in chosen)
    fits = used + candidate.length <= params.max_words
    return fits and candidate.score >= _FLOOR * top


# ── 4. order ──────────────────────────────────────────────────────────────────────────────


def _order(chosen: Sequence[_Candidate]) -> list[_Candidate]:
    """The best opening sentence first (the lead), then story order; new block first."""
    out: list[_Candidate] = []
    for block in ([c for c in chosen if c.fresh], [c for c in chosen if not c.fresh]):
        if block:
            # an article's opening sentence stands on its own, so it leads when chosen
            lead = max(block, key=lambda c: (c.position == 0, c.score, -c.doc, -c.position))
            rest = sorted((c for c in block if c is not lead), key=lambda c: (c.doc, c.position))
            out.extend([lead, *rest])
    return out


# ── 5. attribute ──────────────────────────────────────────────────────────────────────────


def _attribute(
    text: str, docs: _Docs, sized: Mapping[str, _BySize], *, new: bool = False
) -> SummarySentence:
    mine = _word_set(text)
    carriers = [a for a in docs.everything if sized[a.id].near(mine)]
    return SummarySentence(
        text=text,
        outlets=tuple(dict.fromkeys(a.outlet for a in carriers)),
        article_ids=tuple(a.id for a in carriers),
        new=new,
    )


def _word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def _jaccard(shared: int, n: int, size: int) -> float:
    """The word Jaccard of two sets of ``n`` and ``size`` words that share ``shared`` (0
    when their sizes alone keep it under ``_SAME_SENTENCE``)."""
    if not n or not size or min(n, size) < _SAME_SENTENCE * max(n, size):
        return 0.0
    return shared / (n + size - shared)


# ── headline, quotes, sources ─────────────────────────────────────────────────────────────


_LABELLED = re.compile(
    r"^(?:analysis|opinion|comment|editorial|explainer|review|column|podcast|video|watch|live"
    r"|letters?|fact ?check|q&a)\s*[:|—-]",
    re.IGNORECASE,
)


def _headline(docs: _Docs, candidates: Sequence[_Candidate], centroid: Vector) -> str:
    """The thread's most representative current title: the article whose sentences are
    most central to the thread, and whose title is most like every outlet's title (copies
    included: a story the wires all tell), the newest days counting up to twice; a labelled
    piece ("Analysis: ...", "Opinion: ...") only when nothing else is central. Without
    " - Outlet"; the earliest on ties."""
    if not docs.articles:
        return ""
    by_doc: dict[int, list[Vector]] = {}
    for c in candidates:
        by_doc.setdefault(c.doc, []).append(c.vector)
    titles = [Counter(content_terms(a.title, a.lang)) for a in docs.everything]
    idf = _idf(titles)
    title_vectors = {
        a.id: _normalise({t: n * idf[t] for t, n in tf.items()})
        for a, tf in zip(docs.everything, titles, strict=True)
    }
    all_titles = _normalise(_add(list(title_vectors.values())))
    recency = _recency(docs.articles)

    def score(i: int) -> float:
        article = docs.articles[i]
        central = _cosine(_normalise(_add(by_doc.get(i, []))), centroid)
        label = 0.5 if _LABELLED.match(article.title) else 1.0
        return (central + _cosine(title_vectors[article.id], all_titles)) * recency[i] * label

    best = max(range(len(docs.articles)), key=lambda i: (round(score(i), 9), -i))
    outlets = {letters(a.outlet) for a in docs.everything}
    return strip_outlet(docs.articles[best].title, outlets)


def _quotes(
    docs: _Docs, centroid: Vector, summary: Sequence[str], fresh: frozenset[str], limit: int
) -> tuple[Quote, ...]:
    lang = docs.articles[0].lang if docs.articles else "en"

    def centrality(text: str) -> float:
        terms = Counter(content_terms(text, lang))
        return _cosine(_normalise({t: float(n) for t, n in terms.items()}), centroid)

    shown = " ".join(summary)
    return pick_quotes(docs.articles, centrality=centrality, shown=shown, prefer=fresh, limit=limit)


def _source_ref(a: Article, copy_of: str | None) -> SourceRef:
    ref = SourceRef(outlet=a.outlet, title=a.title, url=a.canonical_url, published=a.published)
    return replace(ref, article_id=a.id, dated=a.dated, copy_of=copy_of)
