"""Sentence boundaries per language (#14), on our own fixtures in tests/data/sentences."""

from __future__ import annotations

import pytest

from digest.sentences import sentence_spans, split_sentences
from eval.sentences import LANGS, SPLITTERS, score


@pytest.mark.parametrize("lang", LANGS)
def test_the_splitter_kept_for_a_language_is_at_least_as_good_as_the_libraries(lang: str) -> None:
    ours = score(SPLITTERS["digest"], lang)
    assert ours >= max(score(SPLITTERS[name], lang) for name in ("sentencex", "pysbd"))
    assert ours >= (0.79 if lang == "ru" else 0.999)  # ru: "руб." and "г." ending sentences


CASES = [
    ("en", "The chief executive P. Vantosen said the deal was done. Shares rose.", 2),
    ("en", "Page references are on p. 4 of the report. It was long.", 2),
    ("de", "Die Regelung gilt ab dem 1. Januar 2027. Der Rat stimmte zu.", 2),
    ("de", "Der Verein stieg in die 2. Bundesliga auf. Die Fans feierten.", 2),
    ("fr", "M. Dupont a quitté la réunion. « C'est fini. Rentrons », a-t-il dit.", 2),
    ("es", "¿Qué pasará ahora? Nadie lo sabe. ¡Es una vergüenza!", 3),
    ("ru", "Мэр заявил, что работы начнутся весной. Почему сейчас? Никто не ответил!", 3),
    ("ja", "市議会は予算案を可決した。市長は「決まった。」と述べた。なぜ今なのか？", 3),
]


@pytest.mark.parametrize(("lang", "text", "count"), CASES, ids=[c[1][:24] for c in CASES])
def test_known_boundaries(lang: str, text: str, count: int) -> None:
    sentences = split_sentences(text, lang)
    assert len(sentences) == count, sentences
    assert "".join(sentences).replace(" ", "") == text.replace(" ", "")
    spans = sentence_spans(text, lang)
    assert [text[a:b] for a, b in spans] == sentences
