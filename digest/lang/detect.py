"""The language of a text, with py3langid (a naive Bayes model shipped inside the package:
nothing is downloaded). Pure once the model is loaded (on first use, about 0.7 s).

The sample is the first ``SAMPLE_CHARS`` characters (the title and the opening): the model's
cost grows faster than the text. A sample whose words are plain ASCII letters and a good share
of them English function words is English without asking the model (most of a news stream,
at a tenth of the cost; French or Spanish without accents has few such words). Only the
words are looked at: curly quotes and dashes, in nearly every real page, say nothing of the
language.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from digest.text import STOPWORDS, words

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

SAMPLE_CHARS = 300  # the title and the opening are enough (a call near 0.1 ms)
MIN_LETTERS = 20  # fewer letters than this: too little to tell, the default is kept
MIN_PROBABILITY = 0.5  # a less certain answer keeps the default
ENGLISH_SHARE = 0.2  # of an ASCII sample's words in the English stop list: English


@functools.cache
def _identifier() -> LanguageIdentifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # numpy: only when used

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, default: str = "en") -> str:
    """The ISO 639-1 code of ``text``'s language, or ``default`` when it cannot be told."""
    sample = text[:SAMPLE_CHARS]
    tokens = list(words(sample))
    if sum(map(len, tokens)) < MIN_LETTERS:
        return default
    if all(map(str.isascii, tokens)) and (
        sum(map(STOPWORDS.__contains__, tokens)) >= ENGLISH_SHARE * len(tokens)
    ):
        return "en"  # English news: 23 % or more of its words are function words
    lang, probability = _identifier().classify(sample)
    return str(lang) if float(probability) >= MIN_PROBABILITY else default
