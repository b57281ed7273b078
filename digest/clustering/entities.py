"""Names in news text, for event signatures (pure).

A *name* is a capitalised word that is not capitalised only because it opens a sentence or
a Title Case headline: a word capitalised in mid-sentence is a name; a sentence-opening or
headline word is one only when the article also writes it capitalised in mid-sentence
("Volkov tells Halloway ..." is read with the body that says "President Arkady Volkov").
Titles and offices ("President", "Minister"), weekday and month names (time, kept apart),
and the outlet's own name ("(Atlas)", "told Atlas") are not names. A wire dateline
("CORRAN, May 11 (Atlas) - ") is dropped before anything is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from digest.text import STOPWORDS, stem, vocabulary

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january february march april may june july august september october november december"
).split()
_TIME_WORDS = frozenset(WEEKDAYS) | frozenset(MONTHS) | vocabulary("jan feb mar apr jun jul aug sep sept oct nov dec")
_OFFICES = vocabulary(
    """president presidents prime minister ministers secretary chancellor senator governor mayor
    judge justice general commander chief spokesman spokeswoman spokesperson ambassador envoy
    director commissioner king queen prince princess mr mrs ms dr prof sir dame lord lady rev
    ceo chairman chairwoman chair speaker leader deputy vice foreign defence defense interior
    finance state states aide adviser advisor official officials professor head the a an in
    on at of for and or but to by with from as after before over analysis opinion explainer
    editorial comment review live update updates watch breaking exclusive video photos
    new first last next north south east west northern southern eastern western central
    national international federal republic"""
)
NOT_NAMES = STOPWORDS | _TIME_WORDS | _OFFICES

# "CORRAN, May 11 (Atlas) - " / "CORRAN/STAVROGRAD, May 11 (Atlas) —": a wire dateline
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .'’/-]{1,60},?(?:\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
    r"(?:\s*\([^)]{1,40}\))?\s*[-–—]+\s+"
)
# a word; "Lisbon-based" is one, "Halvard-Tamlan" two (a capital after the hyphen)
_TOKEN = re.compile(
    r"[^\W\d_][^\W_]*(?:['’.][^\W\d_][^\W_]*|-(?![A-Z])[^\W\d_][^\W_]*)*|\d[\d.,]*%?", re.UNICODE
)
_SENTENCE_END = re.compile(r"[.!?:;…]['\"”’)\]]*\s*$|[—–]\s*$|^\s*$")
_INITIAL_OR_TITLE = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Ms|Mrs|Dr|St|Lt|Gen|Sen|Rep|Gov|Col|Sgt|Rev|Prof|Capt))\.\s*$"
)


def strip_dateline(text: str) -> str:
    """``text`` without a leading wire dateline."""
    return _DATELINE.sub("", text, count=1)


def _key(word: str) -> str:
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return stem(word)


def capitalised(text: str) -> Iterator[tuple[str, bool]]:
    """Capitalised words of ``text`` with whether each opens a sentence (so may be
    capitalised for that reason alone)."""
    for match in _TOKEN.finditer(text):
        word = match.group()
        if not word[0].isupper():
            continue
        before = text[max(0, match.start() - 12) : match.start()]
        opening = bool(_SENTENCE_END.search(before)) and not _INITIAL_OR_TITLE.search(before)
        yield word, opening


def title_case(title: str) -> bool:
    """Most of the title's longer words are capitalised ("Judge Blocks Texas Law")."""
    long = [w for w in _TOKEN.findall(title) if len(w) > 3 and not w[0].isdigit()]
    return len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.8 * len(long)


def mid_sentence_names(text: str) -> set[str]:
    """Keys of the words ``text`` writes capitalised in mid-sentence."""
    return {_key(w) for w, opening in capitalised(text) if not opening}


def names(
    text: str, *, known: set[str], outlet: Iterable[str] = (), headline: bool = False
) -> list[str]:
    """Name keys in ``text``, in order. ``known``: keys the article writes capitalised in
    mid-sentence (they are names wherever they stand); ``headline``: every word is read
    as if it opened a sentence (a Title Case headline)."""
    own = set(outlet)
    found = []
    for word, opening in capitalised(text):
        if word.isupper() and len(word) > 4:  # shouted, not a name: "BREAKING", "UPDATE"
            continue
        key = _key(word)
        if len(key) < 2 or key in NOT_NAMES or key in own or word.lower() in NOT_NAMES:
            continue
        if (opening or headline) and key not in known:
            continue
        found.append(key)
    return found


def outlet_keys(outlet: str) -> set[str]:
    """The keys of an outlet's own name ("Atlas Newswire" -> {"atlas", "newswire"})."""
    return {_key(w) for w in _TOKEN.findall(outlet) if len(w) > 1}
