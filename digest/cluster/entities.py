"""Words and names in news text, for event signatures (pure).

``scan`` reads a text once into its words, each lower-cased, with whether it was written
capitalised and whether it opens a sentence (so may be capitalised for that reason alone).
A *name* is then a capitalised word that is not capitalised only because it opens a
sentence or a Title Case headline: a word capitalised in mid-sentence is a name; a word that
opens a sentence or stands in a Title Case headline is one only when the article also writes
it capitalised in mid-sentence ("Volkov tells Halloway ..." is read with the body that says
"President Arkady Volkov"). Function words, titles and offices ("President", "Minister"),
weekday and month names (time, kept apart) and the outlet's own name ("told Atlas") are
never names. A wire dateline ("CORRAN, May 11 (Atlas) - ") is dropped before reading.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from digest.text import STOPWORDS, stem, vocabulary

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_OFFICES = vocabulary(
    """president presidents prime minister ministers secretary chancellor senator governor
    mayor judge justice general commander chief spokesman spokeswoman spokesperson ambassador
    envoy director commissioner king queen prince princess sir dame lord lady ceo chairman
    chairwoman chair speaker leader deputy vice foreign defence defense interior finance state
    states aide adviser advisor official officials professor head analysis opinion explainer
    editorial comment review live update updates watch breaking exclusive video photos new
    first last next north south east west northern southern eastern western central national
    international federal republic jan feb mar apr jun jul aug sep sept oct nov dec"""
)
NOT_NAMES = STOPWORDS | frozenset(WEEKDAYS) | frozenset(MONTHS) | _OFFICES

# "CORRAN, May 11 (Atlas) - " / "CORRAN/STAVROGRAD, May 11 (Atlas) —": a wire dateline
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .'’/-]{1,60},?(?:\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
    r"(?:\s*\([^)]{1,40}\))?\s*[-–—]+\s+"
)
# what comes before a word (punctuation, spaces), then the word (as digest.text.words)
_SCAN = re.compile(r"([^\w]*)([^\W_]+(?:['’][^\W_]+)*)")
# what opens a sentence before a word: an end mark, a quote or bracket, a spaced dash
# (a dash inside "Dukov–Halvorsen" joins two names)
ENDS_SENTENCE = re.compile(r"[.!?…:;\"“”‘«»「」()\[\]]|\s[—–-]|[—–-]\s")
# a text's first ``limit`` words are read from its first ``limit`` x SHORT_HEAD characters
# (words with what comes before them are ~6), else from limit x LONG_HEAD (words are
# shorter than that on average)
SHORT_HEAD, LONG_HEAD = 8, 16
ABBREVIATIONS = vocabulary(
    "mr ms mrs dr st lt gen sen rep gov col sgt rev prof capt no vs"
)  # "Mr. Putin", "Gen. Ruiz": the period does not end a sentence


@dataclass(frozen=True, slots=True)
class Scanned:
    """A text's words (lower-cased, ``’`` as ``'``), which were capitalised (``caps``: their
    positions), and which of those opened a sentence."""

    words: list[str]
    caps: list[int]
    opening: set[int]  # positions of capitalised words that open a sentence


def strip_dateline(text: str) -> str:
    """``text`` without a leading wire dateline."""
    return _DATELINE.sub("", text, count=1)


def scan(text: str, *, limit: int | None = None) -> Scanned:
    """Read ``text`` (its first ``limit`` words) once."""
    pairs = _SCAN.findall(text) if limit is None else _first(text, limit)
    originals = [w for _, w in pairs]
    # lower-cased at once (in C): a word's case never depends on the words beside it
    words = " ".join(originals).lower().split(" ") if originals else []
    if "’" in text:
        words = [w.replace("’", "'") for w in words]
    caps = [i for i, w in enumerate(originals) if w[0].isupper()]
    opening = set()
    for i in caps:
        before = pairs[i][0]
        if i == 0 or (before != " " and ENDS_SENTENCE.search(before)):
            if i and before.lstrip().startswith(".") and abbreviation(originals[i - 1]):
                continue
            opening.add(i)
    return Scanned(words=words, caps=caps, opening=opening)


def _first(text: str, limit: int) -> list[tuple[str, str]]:
    """The first ``limit`` (before, word) pairs of ``text``. Read from a short head first
    (words with what comes before them are ~6 characters): when it holds more than
    ``limit`` words, its first ``limit`` end before it does, so are those of the whole."""
    short = limit * SHORT_HEAD
    if len(text) > short:
        pairs = _SCAN.findall(text, 0, short)
        if len(pairs) > limit:
            del pairs[limit:]
            return pairs
    pairs = _SCAN.findall(text, 0, limit * LONG_HEAD)
    del pairs[limit:]
    return pairs


def abbreviation(word: str) -> bool:
    """An initial ("G.") or a title ("Gen.", "Mr."): its period ends no sentence."""
    return (len(word) == 1 and word.isupper()) or word.lower() in ABBREVIATIONS


def title_case(scanned: Scanned) -> bool:
    """Most of a headline's longer words are capitalised ("Judge Blocks Texas Law")."""
    long = [i for i, w in enumerate(scanned.words) if len(w) > 3]
    capital = set(scanned.caps)
    return len(long) >= 3 and sum(i in capital for i in long) >= 0.8 * len(long)


def name_key(word: str) -> str:
    """The key a name is counted under ("Halloway's" -> "halloway")."""
    return stem(word[:-2] if word.endswith("'s") else word)


def mid_sentence(scanned: Scanned) -> set[str]:
    """Keys of the words written capitalised in mid-sentence."""
    words, opening = scanned.words, scanned.opening
    return {
        name_key(words[i]) for i in scanned.caps if i not in opening and words[i] not in NOT_NAMES
    }


def is_name(word: str, key: str, opening: bool, known: set[str]) -> bool:
    """Whether a capitalised word is a name (see the module docstring)."""
    if len(key) < 2 or word in NOT_NAMES or word.isdigit():
        return False
    return not opening or key in known


@functools.lru_cache(maxsize=4096)  # a run meets the same few hundred outlets
def outlet_keys(outlet: str) -> frozenset[str]:
    """The keys of an outlet's own name ("Atlas Newswire" -> {"atlas", "newswire"})."""
    return frozenset(name_key(w) for w in scan(outlet).words if len(w) > 1)
