"""German, French and Spanish sample editions through the real CLI (#14): dates, interface
words, quotes with their speakers and whole sentences in every output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from tests.test_cli import digest

EDITIONS = {
    "de": {
        "title": "Tagesüberblick",
        "date": "Montag, 2. März 2026",
        "words": ("Nr. 1", "Quellen", "In dieser Ausgabe", "Erstellt"),
        "quote": "„Niemand hat die Händler in der Altstadt gefragt“",
        "speaker": "Markus Brandt",
        "sentence": "Die Arbeiten sollen am 1. Juni beginnen und bis zum 31. Oktober 2027 dauern.",
    },
    "fr": {
        "title": "Le point du jour",
        "date": "lundi 2 mars 2026",
        "words": ("N° 1", "Sources", "Dans cette édition", "Produit le"),
        "quote": "«\u00a0Personne n'a consulté les commerçants de la vieille ville\u00a0»",
        "speaker": "Paul Girard",
        "sentence": "M. Paul Girard, chef de l'opposition, a dénoncé une décision précipitée.",
    },
    "es": {
        "title": "Resumen del día",
        "date": "lunes, 2 de marzo de 2026",
        "words": ("N.º 1", "Fuentes", "En esta edición", "Generado el"),
        "quote": "«Nadie ha consultado a los comerciantes del casco antiguo»",
        "speaker": "Pablo Ruiz",
        "sentence": "Las obras empezarán el 1 de junio y durarán hasta octubre de 2027.",
    },
}
# a sentence cut after an ordinal or an abbreviation: "… am 1." / "… ca." / "… M." / "… Sr."
_FRAGMENT_END = re.compile(
    r"\b(?:am|dem|zum|im|die|der) \d{1,2}\.$|\b(?:ca|Nr|Dr|Prof|z|u|M|Mme|p|Sr|Sra|núm)\.$"
)


def edition(tmp_path: Path, lang: str) -> tuple[str, str, dict]:  # type: ignore[type-arg]
    expected = EDITIONS[lang]
    result = digest(
        "run",
        f"samples/lang/{lang}",
        "--date=2026-03-02",
        "--now=2026-03-02T22:00:00Z",
        f"--db={tmp_path / 'digest.sqlite3'}",
        f"--output={tmp_path / 'site'}",
        "--no-email",
        f"--set=output.language={lang}",
        f"--set=output.title={expected['title']}",
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "site" / "2026-03-02"
    html = (folder / "index.html").read_text(encoding="utf-8")
    md = (folder / "briefing.md").read_text(encoding="utf-8")
    return html, md, json.loads((folder / "briefing.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", sorted(EDITIONS))
def test_a_sample_edition_reads_in_its_language(tmp_path: Path, lang: str) -> None:
    expected = EDITIONS[lang]
    html, md, doc = edition(tmp_path, lang)
    assert f'<html lang="{lang}">' in html
    assert f">{expected['date']}</time>" in html
    assert md.startswith(f"# {expected['title']} — {expected['date']}\n")
    for word in expected["words"]:
        assert word in html, word
        assert word in md, word
    assert f"<p>{escape(expected['quote'])}</p>" in html
    assert f"{expected['quote']} — {expected['speaker']}" in md
    sentences = [s["text"] for t in doc["threads"] for s in t["summary"]]
    assert expected["sentence"] in sentences
    for sentence in sentences:
        assert not _FRAGMENT_END.search(sentence), sentence
        assert not sentence[0].islower(), sentence
        assert sentence[-1] in ".!?»“", sentence
    quotes = [q for t in doc["threads"] for q in t["quotes"]]
    assert quotes
    assert all(q["speaker"] for q in quotes)
    for english in ("No stories", "New since", "Generated", "story", "outlets", "Latest"):
        assert english not in html  # no English interface word left
