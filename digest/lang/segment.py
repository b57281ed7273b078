"""Sentence boundaries in languages other than English (pure).

English keeps the rules of :mod:`digest.sentences` (tuned on news and pinned by the quality
gate). Other languages use the library that split our fixtures best (``python -m
eval.sentences``; the table is in the #14 closing note): pysbd for French and Japanese,
sentencex (rules for ~300 languages) for everything else. A few cuts both libraries make
in mid-sentence are joined again: after an abbreviation that never ends a sentence
("M. Dupont", "Nr. 4", "z. B."), and in German after a day or ordinal number
("am 3. Oktober", "in die 2. Bundesliga").
"""

from __future__ import annotations

import functools
import re

import pysbd
import sentencex

from digest.text import vocabulary

_PYSBD = frozenset({"fr", "ja"})
# Lower-cased tokens (without the final period) after which a sentence never ends.
_NEVER_LAST = {
    "de": vocabulary(
        """nr dr prof hr fr st str ca bzw vgl ggf jh abs art bd z u d o s inkl zzgl evtl
        sog bspw mio mrd gegr geb"""
    ),
    "fr": vocabulary("m mm mme mlle me dr pr st ste p ex av bd cf vol nº n°"),
    "es": vocabulary("sr sra srta dr dra lic ing ud uds núm p ej av pág vol"),
    "it": vocabulary("sig sigg dott prof ing avv on"),
    "pt": vocabulary("sr sra dr dra prof av"),
    "ru": vocabulary("ул им пр д т тыс проф"),
}
_LAST_TOKEN = re.compile(r"(\S+)\.\s*$")
# German ordinals: "am 3. Oktober", "die 2. Bundesliga", "im 19. Jh." (not "Nr. 4. Wer ...")
_ORDINAL_END = re.compile(r"(?:^|\s)(?P<before>\S+)\s+\d{1,2}\.\s*$")
_BEFORE_ORDINAL = vocabulary(
    """am im vom zum zur beim bis ab seit dem den der die das des ein eine einem einen einer
    jeden jede jedes bis zum"""
)
_MONTHS_DE = vocabulary(
    """januar jänner februar märz april mai juni juli august september oktober november
    dezember"""
)


def sentence_spans(paragraph: str, lang: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``paragraph`` (white space trimmed)."""
    pieces = _pieces(paragraph, lang)
    spans: list[tuple[int, int]] = []
    at = 0
    for piece in pieces:
        start = paragraph.find(piece, at)
        if start < 0:  # a library that changed the text: keep what is left whole
            break
        end = start + len(piece)
        if spans and _joins(paragraph[spans[-1][0] : spans[-1][1]], piece, lang):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        at = end
    if at < len(paragraph) and paragraph[at:].strip():
        spans.append((at, len(paragraph)))
    return [_trim(paragraph, a, b) for a, b in spans if paragraph[a:b].strip()]


def _pieces(paragraph: str, lang: str) -> list[str]:
    if lang in _PYSBD:
        found = _pysbd(lang).segment(paragraph)
    else:
        found = sentencex.segment(lang, paragraph)
    return [s.strip() for s in found if s.strip()]


@functools.cache
def _pysbd(lang: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=lang, clean=False)


def _joins(previous: str, piece: str, lang: str) -> bool:
    """The cut between ``previous`` and ``piece`` is inside a sentence."""
    if not piece[:1].isalnum():
        return False
    last = _LAST_TOKEN.search(previous)
    if last and last.group(1).lower().rsplit(".", 1)[-1] in _NEVER_LAST.get(lang, ()):
        return True
    ordinal = _ORDINAL_END.search(previous) if lang == "de" else None
    if ordinal is None:
        return False
    following = piece.split(maxsplit=1)[0].lower().strip(",.;:")
    return ordinal.group("before").lower() in _BEFORE_ORDINAL or following in _MONTHS_DE


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
