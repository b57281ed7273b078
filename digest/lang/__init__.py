"""Language-aware text helpers: detection, stop words, stems, content terms, sentence
boundaries (:mod:`digest.lang.segment`) and the interface words of the outputs
(:mod:`digest.lang.interface`). Languages are ISO 639-1 codes ("en", "de", ...).

The API the clusterer and the summarizer use::

    detect(text, default="en") -> str
    stopwords(lang) -> frozenset[str]
    stem(word, lang) -> str
    content_terms(text, lang) -> list[str]

For ``lang == "en"`` the last three are exactly :mod:`digest.text`'s functions.
"""

from __future__ import annotations

from digest.lang.detect import detect
from digest.lang.terms import content_terms, stem, stopwords

__all__ = ["content_terms", "detect", "stem", "stopwords"]
