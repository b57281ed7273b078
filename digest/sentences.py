"""A compact rule-based English sentence splitter for news text (pure); other languages are
split by :mod:`digest.lang.segment` (``lang`` is an ISO 639-1 code).

Paragraphs (blank-line separated) never share a sentence. Inside a paragraph a boundary is
terminal punctuation (``.``, ``!``, ``?``, ``…``), optionally followed by closing quotes or
brackets, then white space and something that can open a sentence (a capital, a digit or an
opening quote). Scraped text that glues sentences together (``...preparedness.'The plan``,
``...talks.The``) is split too. Abbreviations, initials, dotted acronyms (``U.S.``, ``a.m.``)
and decimals are not boundaries, except that an acronym or initial followed by a typical
sentence opener ("The", "He", ...) is ("chief executive P. Vantosen said": no boundary).
"""

from __future__ import annotations

import re

from digest.lang.segment import sentence_spans as other_language_spans
from digest.text import vocabulary

_CLOSERS = "\"'’”)]"
_OPENERS = "\"'‘“(["
_CLOSE = re.escape(_CLOSERS)
_OPEN = re.escape(_OPENERS)

# terminal punctuation + closers, then either white space or (after a closing quote or a
# lowercase word) nothing at all, and then something that can start a sentence.
_BOUNDARY = re.compile(
    rf"""(?P<end>[.!?…]+[{_CLOSE}]*)
         (?:\s+|(?<=['’"”])|(?<=[a-z]{{3}}[.!?]))
         (?=[{_OPEN}]?[A-Z0-9])""",
    re.VERBOSE,
)
_NEXT_WORD = re.compile(rf"[{_OPEN}]?([^\W_]+)")
_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$|^[A-Z]$")
_PARAGRAPHS = re.compile(r"\n\s*\n")
_QUOTE_OPEN = re.compile(
    r"“|‘|„|«|‹|「|『|(?<!\S)»(?=[^\W\d_])|(?<![^\s(\[{—–/:-])[\"'](?=[^\s\"'])"
)
_QUOTE_MARK = re.compile("[“‘„«‹「『»\"']")
# Marks that close what they open: German „…“ (or „…”), French and Spanish « … », German
# »…«, ‹…›, Japanese 「…」 and 『…』.
_PAIRED_CLOSE = {"„": "“”", "«": "»", "‹": "›", "»": "«", "「": "」", "『": "』"}
_DOUBLE_CLOSE = re.compile(r"[”\"]")
_SINGLE_CLOSE = re.compile(r"(?<=[.,!?;])['’]|(?<=\S)['’](?![^\W_])")
_WEAK_TAIL = re.compile(r"\s[a-z]")
_LONGEST_KEPT_QUOTE = 300  # a quote longer than this may hold sentence boundaries

# Never end a sentence (titles, months, common short forms).
_ABBREVIATIONS = vocabulary(
    """mr mrs ms dr prof sen rep gov gen col lt sgt capt cmdr adm maj rev hon pres supt det
    insp st mt ft jan feb mar apr jun jul aug sep sept oct nov dec vs fig vol approx dept
    univ ave blvd rd"""
)
# May end a sentence: treated like acronyms (a boundary only before a sentence opener).
_WEAK_ABBREVIATIONS = vocabulary("inc ltd co corp etc jr sr plc llc bros")
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "art", "p", "pp"})
_OPENER_WORDS = vocabulary(
    """the a an he she it they we i you but and this that these those in on at for his her
    its their our there when while after before as if however meanwhile then so still yet
    officials police some many most both one"""
)


def split_sentences(text: str, lang: str = "en") -> list[str]:
    """The sentences of ``text``, white space collapsed, in order."""
    out: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        out.extend(_squash(paragraph[a:b]) for a, b in sentence_spans(paragraph, lang))
    return [s for s in out if s]


def sentence_spans(paragraph: str, lang: str = "en") -> list[tuple[int, int]]:
    """``(start, end)`` offsets of each sentence in one paragraph (white space trimmed)."""
    if lang != "en" and paragraph.strip():
        return other_language_spans(paragraph, lang)
    spans: list[tuple[int, int]] = []
    quotes = [q for q in find_quote_spans(paragraph) if q[1] - q[0] <= _LONGEST_KEPT_QUOTE]
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        inside = any(a < match.start() and match.end("end") < b for a, b in quotes)
        if not inside and _is_boundary(paragraph, match):
            spans.append((start, match.end("end")))
            start = match.end()
    spans.append((start, len(paragraph)))
    return [_trim(paragraph, a, b) for a, b in spans if paragraph[a:b].strip()]


def find_quote_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each quote in ``text``, quotation marks included."""
    spans: list[tuple[int, int]] = []
    pos = 0
    if not _QUOTE_MARK.search(text):
        return spans  # most sentences: one fast scan for any mark that can open a quote
    while match := _QUOTE_OPEN.search(text, pos):
        if closers := _PAIRED_CLOSE.get(match.group()):
            close = _find_paired(text, match.end(), closers)
        else:
            close = _find_close(text, match.end(), match.group() in '"“')
        if close is None:
            pos = match.end()
            continue
        spans.append((match.start(), close + 1))
        pos = close + 1
    return spans


def _find_paired(text: str, start: int, closers: str) -> int | None:
    found = [i for i in (text.find(c, start) for c in closers) if i >= 0]
    return min(found) if found else None


def _find_close(text: str, start: int, double: bool) -> int | None:
    if double:
        found = _DOUBLE_CLOSE.search(text, start)
        return found.start() if found else None
    weak: int | None = None
    for match in _SINGLE_CLOSE.finditer(text, start):
        pos = match.start()
        if text[pos - 1] in "sS" and _WEAK_TAIL.match(text, pos + 1):
            weak = pos if weak is None else weak  # maybe a plural possessive: leaders' talks
            continue
        if weak is not None and _QUOTE_OPEN.search(text, weak + 1, pos):
            return weak
        return pos
    return weak


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    end = match.group("end")
    if not end.startswith(".") or end.startswith(".."):
        return True  # "!", "?", ellipses
    before = text[max(0, match.start("end") - 40) : match.start("end")].split()
    token = before[-1].lstrip(_OPENERS) if before else ""
    word = token.lower()
    following = _NEXT_WORD.match(text, match.end())
    next_word = following.group(1) if following else ""
    if word in _ABBREVIATIONS:
        return False
    if word in _NUMBER_ABBREVIATIONS and not token.isupper():  # "p. 4", not "P. Vantosen"
        return not next_word[:1].isdigit()
    if word in _WEAK_ABBREVIATIONS or _ACRONYM.match(token):
        return next_word.lower() in _OPENER_WORDS
    return True


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _squash(text: str) -> str:
    return " ".join(text.split())
