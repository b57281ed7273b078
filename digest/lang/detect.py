"""The language of a text, with py3langid (a naive Bayes model shipped inside the package:
nothing is downloaded). Pure once the model is loaded (on first use, about 0.7 s)."""

from __future__ import annotations

import functools

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SAMPLE_CHARS = 600  # the title and the opening are enough (and keep a call near 0.1 ms)
MIN_LETTERS = 20  # fewer letters than this: too little to tell, the default is kept
MIN_PROBABILITY = 0.5  # a less certain answer keeps the default


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, default: str = "en") -> str:
    """The ISO 639-1 code of ``text``'s language, or ``default`` when it cannot be told."""
    sample = text[:SAMPLE_CHARS]
    if sum(1 for ch in sample if ch.isalpha()) < MIN_LETTERS:
        return default
    lang, probability = _identifier().classify(sample)
    return str(lang) if float(probability) >= MIN_PROBABILITY else default
