"""What clustering reads of an article (pure): weighted terms, names, the event's day.

News is written as an inverted pyramid: the title and the lead say what happened, to whom,
where and when; later paragraphs give background, which often names *other* events (the
call's report recalls the sanctions fight). So terms are weighted by position (title, lead,
the next words, the rest), names count more than plain words, and adjacent words of the
title and lead count too ("portanza strike", "tariff letter"): they name the event where
single words name only its topic.
"""

from __future__ import annotations

import bisect
import itertools
import re
import sys
from array import array
from collections import Counter
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from datetime import date

from digest import lang as languages
from digest.cluster import entities
from digest.cluster.entities import Scanned
from digest.cluster.tokens import scan_all
from digest.cluster.when import event_day
from digest.models import Article
from digest.text import STOPWORDS, stem

NAME_MARK = "@"  # term keys of names (their own vector and document frequencies)
YEAR_MARK = "#"  # term keys of years named in the title or lead
MARKS = frozenset((NAME_MARK, YEAR_MARK))
Terms = dict[str, int]  # weighted counts in tenths: small ints are shared objects, floats not
TENTHS = 10

_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """Position weights of an article's terms, and how far it is read."""

    title: float = 3.0
    lead: float = 2.0
    next: float = 0.5
    rest: float = 0.2
    name: float = 2.0  # a name counts this much more than a plain word
    pair: float = 0.5  # two adjacent content words of the title or lead, together
    lead_words: int = 50
    next_words: int = 150
    body_words: int = 400  # text beyond this is not read (speed; leads carry the event)
    short_words: int = 25  # a body shorter than this leaves the headline alone


class PackedTerms(Mapping[str, int]):
    """An article's weighted counts as a batch holds them until they are vectorised: keys
    and counts kept apart (a tuple and an int array, ~12 bytes a term where a dict takes
    ~50: the features of a 10k batch are ~100 MB as dicts), read in the order counted.
    Made to be iterated: looking one term up scans the keys."""

    __slots__ = ("counts", "keys_")

    def __init__(self, terms: Mapping[str, int]) -> None:
        self.keys_ = tuple(terms)
        self.counts = array("i", terms.values())

    def __len__(self) -> int:
        return len(self.keys_)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_)

    def __contains__(self, key: object) -> bool:
        return key in self.keys_

    def __getitem__(self, key: str) -> int:
        try:
            return self.counts[self.keys_.index(key)]
        except ValueError:
            raise KeyError(key) from None

    def items(self) -> ItemsView[str, int]:
        return _PackedItems(self)

    def values(self) -> ValuesView[int]:
        return _PackedValues(self)


class _PackedItems(ItemsView[str, int]):
    _mapping: PackedTerms

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return zip(self._mapping.keys_, self._mapping.counts, strict=True)


class _PackedValues(ValuesView[int]):  # (a Mapping's own would look every key up)
    _mapping: PackedTerms

    def __iter__(self) -> Iterator[int]:
        return iter(self._mapping.counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Features:
    """One article as clustering sees it (term keys are stems; names and years marked)."""

    terms: PackedTerms  # position-weighted content terms, names boosted; names, years marked
    day: date | None  # the event's day (None: the article is undated)
    roundup: bool  # a market wrap or news roundup: several events in one article
    short: bool  # a headline with little or no body


_ROUNDUP = re.compile(
    r"\b(?:wrap(?:-?up)?|round-?up|recap|rundown|briefing|digest|bulletin|in brief|at a glance"
    r"|opening bell|closing bell|week ahead|week in review|live updates?|live blog"
    r"|what (?:you need|to know)|things (?:to know|you need to know|we learned))\b",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^([^:]{2,40}):\s")
_LIST = re.compile(r"\bthings\b.*\b(?:need to know|to know)\b", re.IGNORECASE)


def is_roundup(title: str) -> bool:
    """A roundup's title says so: a label before a colon ("Markets wrap: ...", "Morning
    briefing: ..."), or a list headline ("10 things in tech you need to know today")."""
    label = _LABEL.match(title)
    return bool(label and _ROUNDUP.search(label.group(1))) or bool(_LIST.search(title))


def features(
    article: Article, weights: Weights, scanned: tuple[Scanned, Scanned] | None = None
) -> Features:
    """Read ``article`` once: its weighted terms, event day, and whether it is a roundup.
    ``scanned``: its title and body as ``scan_texts`` reads them (read here when None)."""
    title, body = scanned or (
        entities.scan(article.title),
        entities.scan(entities.strip_dateline(article.text), limit=weights.body_words),
    )
    known = entities.mid_sentence(body)
    title_cased = entities.title_case(title)
    if not title_cased:
        known |= entities.mid_sentence(title)
    own = entities.outlet_keys(article.outlet)
    terms: Terms = {}
    reader = _Reader(terms, known, own, weights, lang=article.lang)
    reader.read(title, 0, len(title.words), weights.title, headline=title_cased, head=True)
    edges = (0, weights.lead_words, weights.next_words, weights.body_words)
    for (start, end), weight in zip(
        itertools.pairwise(edges), (weights.lead, weights.next, weights.rest), strict=True
    ):
        reader.read(body, start, end, weight, headline=False, head=start == 0)
    dated = article.dated
    return Features(
        terms=PackedTerms(terms),
        day=event_day(article.title, article.text, article.published.date()) if dated else None,
        roundup=is_roundup(article.title),
        short=len(body.words) < weights.short_words,
    )


def scan_texts(articles: Sequence[Article], weights: Weights) -> list[tuple[Scanned, Scanned]]:
    """Each article's title and body (its dateline dropped, the words it is read to) as
    ``entities.scan`` reads them, read together (``digest.cluster.tokens``)."""
    titles = scan_all([a.title for a in articles])
    bodies = [entities.strip_dateline(a.text) for a in articles]
    return list(zip(titles, scan_all(bodies, limit=weights.body_words), strict=True))


def _pair(a: str, b: str) -> str:
    """The key of a pair of adjacent terms, one string object for each pair alive (the
    same pairs recur across a day's reports): interned, it goes with the last article
    holding it, where a cache of the last 262k pairs stayed and was slower."""
    return sys.intern(f"{a} {b}" if a < b else f"{b} {a}")


def _stem(word: str, lang: str) -> str:
    """``word``'s stem in ``lang`` (English has its own light stripper)."""
    return stem(word) if lang == "en" else languages.stem(word, lang)


class _Content(dict[str, str]):
    """Word -> its content term in one language ("" for a stop word or a letter alone),
    filled as met."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.stop = STOPWORDS if lang == "en" else languages.stopwords(lang)

    def __missing__(self, word: str) -> str:
        term = "" if len(word) <= 1 or word in self.stop else _stem(word, self.lang)
        if len(self) >= _CONTENT_WORDS:  # a daemon meets new words for months
            self.clear()
        self[word] = term
        return term


_CONTENT_WORDS = 1 << 18
_CONTENTS: dict[str, _Content] = {}


class _Capitals(dict[str, tuple[str, str]]):
    """A word written capitalised -> its term in one language and its name key ("" when
    it is never a name: ``entities.is_name``'s tests of the word alone), filled as met."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def __missing__(self, word: str) -> tuple[str, str]:
        key = entities.name_key(word)
        may = entities.is_name(word, key, False, set())
        if len(self) >= _CONTENT_WORDS:
            self.clear()
        found = self[word] = (_stem(word, self.lang), key if may else "")
        return found


_CAPITALS: dict[str, _Capitals] = {}


def _capitals(lang: str) -> _Capitals:
    found = _CAPITALS.get(lang)
    if found is None:
        found = _CAPITALS[lang] = _Capitals(lang)
    return found


def _content(lang: str) -> _Content:
    found = _CONTENTS.get(lang)
    if found is None:
        found = _CONTENTS[lang] = _Content(lang)
    return found


@dataclass(slots=True)
class _Reader:
    terms: Terms
    known: set[str]
    own: frozenset[str]
    weights: Weights
    lang: str = "en"  # its stop words and stems

    def read(
        self,
        s: entities.Scanned,
        start: int,
        end: int,
        weight: float,
        *,
        headline: bool,
        head: bool,
    ) -> None:
        """Count words ``start:end`` of ``s`` at ``weight``; the title and lead (``head``)
        also give their years and adjacent pairs."""
        words = s.words[start:end]
        if weight <= 0 or not words:
            return
        terms, own = self.terms, self.own
        share = round(weight * TENTHS)
        lang = self.lang
        content = [t for t in map(_content(lang).__getitem__, words) if t]
        if own:
            content = [t for t in content if t not in own]
        for term, n in Counter(content).items():
            terms[term] = terms.get(term, 0) + n * share
        boost = round(weight * self.weights.name * TENTHS)
        caps, opening, known, info = s.caps, s.opening, self.known, _capitals(lang)
        all_words = s.words
        for i in caps[bisect.bisect_left(caps, start) : bisect.bisect_left(caps, end)]:
            term, key = info[all_words[i]]
            # a name: one that may be (``key``), in mid-sentence or known to be a name
            if key and term in terms and (not (headline or i in opening) or key in known):
                terms[term] += boost
                terms[NAME_MARK + key] = terms.get(NAME_MARK + key, 0) + share
        if not head:
            return
        for year in (w for w in words if len(w) == 4 and _YEAR.match(w)):
            terms[YEAR_MARK + year] = terms.get(YEAR_MARK + year, 0) + TENTHS
        if self.weights.pair > 0:
            pair = round(weight * self.weights.pair * TENTHS)
            for a, b in itertools.pairwise(content):
                key = _pair(a, b)
                terms[key] = terms.get(key, 0) + pair
