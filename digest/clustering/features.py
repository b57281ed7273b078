"""What clustering reads of an article (pure): weighted terms, names, the event's day.

News is written as an inverted pyramid: the title and the lead say what happened, to whom,
where and when; later paragraphs give background, which often names *other* events (the
call's report recalls the sanctions fight). So terms are weighted by position (title, lead,
the next words, the rest), and the event's participants are the names of the title and lead.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from digest.clustering import entities
from digest.clustering.when import event_day
from digest.models import Article
from digest.text import content_terms

NAME_MARK = "@"  # term keys of names (their own vector and document frequencies)
YEAR_MARK = "#"  # term keys of years named in the title or lead
MARKS = frozenset((NAME_MARK, YEAR_MARK))
Terms = dict[str, float]

_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """Position weights of an article's terms, and how far it is read."""

    title: float = 3.0
    lead: float = 2.0
    next: float = 0.5
    rest: float = 0.2
    name: float = 2.0  # a name counts this much more than a plain word
    pair: float = 0.0  # adjacent content words of the title and lead ("portanza strike")
    lead_words: int = 50
    next_words: int = 150
    body_words: int = 400  # text beyond this is not read (speed; leads carry the event)
    short_words: int = 25  # a body shorter than this leaves a headline alone


@dataclass(frozen=True, slots=True, kw_only=True)
class Features:
    """One article as clustering sees it (term keys are stems; names and years marked)."""

    terms: Terms  # the whole article, position-weighted, names boosted
    head: Terms  # the title and lead alone
    participants: frozenset[str]  # name keys of the title and lead (marked)
    day: date | None  # the event's day (None: the article is undated)
    roundup: bool  # a market wrap or news roundup: several events in one article
    short: bool  # a headline with little or no body


_ROUNDUP = re.compile(
    r"\b(?:wrap(?:-?up)?|round-?up|recap|rundown|briefing|digest|bulletin|in brief|at a glance"
    r"|opening bell|closing bell|week ahead|week in review|live updates?|live blog"
    r"|what (?:you need|to know|we know today)|things (?:to know|you need to know|we learned))\b",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^([^:]{2,40}):\s")


def is_roundup(title: str) -> bool:
    """A roundup's title says so: a label before a colon ("Markets wrap: ...", "Morning
    briefing: ..."), or a list headline ("10 things in tech you need to know today")."""
    label = _LABEL.match(title)
    if label and _ROUNDUP.search(label.group(1)):
        return True
    return bool(re.search(r"\bthings\b.*\b(?:need to know|to know)\b", title, re.IGNORECASE))


def features(article: Article, weights: Weights) -> Features:
    body = entities.strip_dateline(article.text).split()[: weights.body_words]
    headline_cased = entities.title_case(article.title)
    known = entities.mid_sentence_names(" ".join(body))
    if not headline_cased:
        known |= entities.mid_sentence_names(article.title)
    own = entities.outlet_keys(article.outlet)
    parts = (
        (article.title, weights.title, True),
        (" ".join(body[: weights.lead_words]), weights.lead, False),
        (" ".join(body[weights.lead_words : weights.next_words]), weights.next, False),
        (" ".join(body[weights.next_words :]), weights.rest, False),
    )
    terms: Terms = {}
    head: Terms = {}
    participants: set[str] = set()
    for n, (text, weight, is_title) in enumerate(parts):
        if not text or weight <= 0:
            continue
        found = entities.names(text, known=known, outlet=own, headline=is_title and headline_cased)
        into = (terms, head) if n < 2 else (terms,)
        for target in into:
            _add(target, text, found, weight, weights.name, own)
            if n < 2 and weights.pair > 0:
                _pairs(target, text, weight * weights.pair)
        if n < 2:
            participants.update(NAME_MARK + k for k in found)
            for year in _YEAR.findall(text):
                terms[YEAR_MARK + year] = terms.get(YEAR_MARK + year, 0.0) + 1.0
    day = event_day(article.title, article.text, article.published.date()) if article.dated else None
    return Features(
        terms=terms,
        head=head,
        participants=frozenset(participants),
        day=day,
        roundup=is_roundup(article.title),
        short=len(body) < weights.short_words,
    )


def _pairs(target: Terms, text: str, weight: float) -> None:
    words = content_terms(text)
    for a, b in zip(words, words[1:]):
        key = f"{a}_{b}" if a < b else f"{b}_{a}"
        target[key] = target.get(key, 0.0) + weight


def _add(
    target: Terms, text: str, found: list[str], weight: float, name_weight: float, own: set[str]
) -> None:
    for term, n in Counter(content_terms(text)).items():
        if term not in own:
            target[term] = target.get(term, 0.0) + n * weight
    for key, n in Counter(found).items():
        target[key] = target.get(key, 0.0) + n * weight * name_weight
        target[NAME_MARK + key] = target.get(NAME_MARK + key, 0.0) + n * weight
