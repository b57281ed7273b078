"""How well a sentence serves as a summary line, from 0.0 (never) to 1.0 (pure).

A fragment (under six words, or opening in lower case or with a comma), site furniture, or
the headline repeated scores 0.0; a long sentence, one that does not end like a statement, one
that opens on a word pointing back ("However,", "He"), or one that is mostly a quote scores
less. Works for any script: a sentence may open with a letter that has no case (Japanese),
or with „ « ¿ ¡ 「; a run of CJK characters counts as one word per two characters.
"""

from __future__ import annotations

import re

from digest.sentences import find_quote_spans
from digest.text import words

_BOILERPLATE = re.compile(
    r"https?://|www\.|click here|subscribe|sign up|newsletter|all rights reserved|©|cookie"
    r"|read more|follow us|related articles|advertisement|ai features",
    re.IGNORECASE,
)
_DANGLING = re.compile(
    r"^[\"'‘“]?(?:however|but|and|or|so|also|meanwhile|moreover|still|yet|instead|then|"
    r"in addition|this|that|these|those|it|its|he|she|they|his|her|their|there)\b",
    re.IGNORECASE,
)
_ENDS_WELL = re.compile(r"[.!…。！][\"'’”“»」』)]*$")
_QUOTE_OPENERS = "\"'‘“„«»「『"
_OPENERS = _QUOTE_OPENERS + "¿¡"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_SAME_AS_TITLE = 0.8  # word Jaccard with the headline at or above which it repeats it


def word_count(text: str) -> int:
    """Words of ``text``: white-space tokens, a CJK run counting one per two characters."""
    if not _CJK.search(text):
        return len(text.split())
    return sum(max(1, len(_CJK.findall(t)) // 2) for t in text.split())


def quality(text: str, title: frozenset[str]) -> float:
    """1.0 for a clean, self-contained, medium-length statement; 0.0 to never choose it
    (``title``: the words of its article's headline)."""
    n, first = word_count(text), text[:1]
    if n < 6 or not (
        first.isdigit() or first in _OPENERS or (first.isalpha() and not first.islower())
    ):
        return 0.0  # a fragment
    if _BOILERPLATE.search(text) or _repeats(frozenset(words(text)), title):
        return 0.0  # site furniture, or the headline repeated in the body
    factor = 1.0 if 10 <= n <= 35 else 0.8 if n <= 50 else 0.5
    if not _ENDS_WELL.search(text):
        factor *= 0.3 if not text.endswith(("?", "？")) else 0.2
    if _DANGLING.match(text):
        factor *= 0.5
    if first in _QUOTE_OPENERS or _quoted_share(text) > 0.6:
        factor *= 0.7
    return factor


def _repeats(mine: frozenset[str], title: frozenset[str]) -> bool:
    return bool(mine and title) and len(mine & title) >= _SAME_AS_TITLE * len(mine | title)


def _quoted_share(text: str) -> float:
    return sum(b - a for a, b in find_quote_spans(text)) / len(text)
