"""Sentence splitters compared on our own fixtures (``tests/data/sentences/LANG.txt``).

    python -m eval.sentences          # the table in the #14 closing note

Each fixture holds one gold sentence per line, paragraphs separated by a blank line; a
splitter sees each paragraph as one line of text (joined with a space, or with nothing in
Japanese). The score is sentence-level F1: a predicted sentence counts when it is exactly a
gold one (white space collapsed). Splitters: ``rules`` (``digest.sentences`` as it was, the
English rules for every language), ``sentencex``, ``pysbd``, and ``digest`` (what
``digest.sentences.split_sentences(text, lang)`` does now).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from digest.sentences import split_sentences

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "sentences"
LANGS = ("en", "de", "fr", "es", "ru", "ja")
Splitter = Callable[[str, str], list[str]]


def paragraphs(lang: str) -> list[list[str]]:
    """The gold sentences of one fixture, by paragraph."""
    out: list[list[str]] = [[]]
    for line in FIXTURES.joinpath(f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            out.append([])
        else:
            out[-1].append(" ".join(line.split()))
    return [p for p in out if p]


def joined(sentences: list[str], lang: str) -> str:
    return ("" if lang == "ja" else " ").join(sentences)


def f1(gold: list[str], predicted: list[str]) -> float:
    left = list(gold)
    hits = 0
    for sentence in predicted:
        if sentence in left:
            left.remove(sentence)
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


def score(splitter: Splitter, lang: str) -> float:
    gold: list[str] = []
    predicted: list[str] = []
    for para in paragraphs(lang):
        gold.extend(para)
        found = splitter(joined(para, lang), lang)
        predicted.extend(" ".join(s.split()) for s in found if s.strip())
    return f1(gold, predicted)


def _rules(text: str, lang: str) -> list[str]:
    return split_sentences(text, "en")


def _digest(text: str, lang: str) -> list[str]:
    return split_sentences(text, lang)


def _sentencex(text: str, lang: str) -> list[str]:
    import sentencex

    return list(sentencex.segment(lang, text))


@cache
def _pysbd_segmenter(lang: str) -> object:
    import pysbd

    return pysbd.Segmenter(language=lang, clean=False)


def _pysbd(text: str, lang: str) -> list[str]:
    return list(_pysbd_segmenter(lang).segment(text))  # type: ignore[attr-defined]


SPLITTERS: dict[str, Splitter] = {
    "rules": _rules,
    "sentencex": _sentencex,
    "pysbd": _pysbd,
    "digest": _digest,
}


def table() -> dict[str, dict[str, float]]:
    """splitter -> language -> F1."""
    return {name: {lang: score(fn, lang) for lang in LANGS} for name, fn in SPLITTERS.items()}


def main() -> None:
    rows = table()
    print("| splitter | " + " | ".join(LANGS) + " |")
    print("|---|" + "---|" * len(LANGS))
    for name, scores in rows.items():
        print(f"| {name} | " + " | ".join(f"{scores[lang]:.2f}" for lang in LANGS) + " |")


if __name__ == "__main__":
    main()
