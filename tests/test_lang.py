"""Languages (#14): detection, stop words and stems per language, quotes in „…“ « … » «…»
「…」 with their speakers, on articles of our own in German, French and Spanish."""

from __future__ import annotations

import importlib
import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from digest import text as english
from digest.config import load_settings
from digest.errors import ConfigError
from digest.lang import content_terms, detect, interface, stem, stopwords
from digest.models import Article, Fetched, RawItem, SourceSpec, Validators
from digest.normalize import normalize
from digest.quotes import extract_quotes
from digest.sentences import find_quote_spans
from digest.sources.dumps import read_dump
from digest.sources.feeds import parse_feed
from tests.conftest import NOW, REPO

SAMPLES = REPO / "samples" / "lang"


def sample_articles(lang: str) -> list[Article]:
    (path,) = SAMPLES.joinpath(lang).glob("*.jsonl")
    items = read_dump(path, source=lang, outlet=None, captured_at=NOW, now=NOW)
    return [normalize(item) for item in items]


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_each_sample_article_is_detected_in_its_language(lang: str) -> None:
    assert {a.lang for a in sample_articles(lang)} == {lang}


def test_detection_keeps_the_default_or_the_declared_language_when_text_is_too_short() -> None:
    assert detect("Port Brenna") == "en"
    assert detect("Kessa", default="de") == "de"
    item = RawItem(
        source="s",
        outlet="Radio Kessa",
        origin="o",
        url=None,
        title="Kessa",
        text="",
        published=NOW,
        fetched_at=NOW,
        lang="de-DE",
    )
    assert normalize(item).lang == "de"
    assert normalize(replace(item, lang=None)).lang == "en"


def test_english_with_curly_quotes_is_told_without_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real pages write ’ “ ” and — : only the words decide whether the model is asked."""
    detection = importlib.import_module("digest.lang.detect")
    asked: list[str] = []
    real = detection._identifier

    class Counting:
        def classify(self, sample: str) -> tuple[str, float]:
            asked.append(sample)
            return real().classify(sample)  # type: ignore[no-any-return]

    monkeypatch.setattr(detection, "_identifier", Counting)
    curly = "The council’s “final” vote on the harbour plan — delayed twice — is set for Friday."
    assert detect(curly) == "en"
    assert asked == []
    french = "Le conseil a voté le plan du port à la fin de la semaine, après deux reports."
    assert detect(french) == "fr"
    assert asked == [french]
    # plain ASCII words, too few of them English function words: the model decides
    spanish = "Concejo vota plan portuario tras meses debate sobre costos muelle norte"
    detect(spanish)
    assert asked == [french, spanish]


def test_english_terms_are_exactly_the_english_helpers() -> None:
    text = "The councils approved budgets; talks resumed on Monday."
    assert content_terms(text, "en") == english.content_terms(text)
    assert stem("talks", "en") == english.stem("talks")
    assert stopwords("en") is english.STOPWORDS


def test_terms_per_language_drop_function_words_and_join_inflections() -> None:
    de = content_terms("Die Brücken der Stadt wurden gesperrt, sagte die Bürgermeisterin.", "de")
    assert not {"die", "der", "sagte", "wurden"} & set(de)
    assert stem("brücken", "de") == stem("brücke", "de")
    assert stem("ponts", "fr") == stem("pont", "fr")
    assert stem("puentes", "es") == stem("puente", "es")
    assert content_terms("Городской совет утвердил бюджет.", "ru")[:2] == ["городск", "совет"]
    assert content_terms("予算案を可決", "ja")[:2] == ["予算", "算案"]
    assert [w in stopwords(lang) for w, lang in (("und", "de"), ("les", "fr"), ("los", "es"))] == [
        True,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("„Wir haben verhandelt. Jetzt ist es entschieden“, sagte sie.", "Wir haben"),
        ("Er sagte: »Das reicht jetzt wirklich.« Dann ging er.", "Das reicht"),
        ("« Nous avons beaucoup négocié », a déclaré la maire.", "Nous avons"),
        ("«Hemos negociado mucho», dijo la alcaldesa.", "Hemos negociado"),
        ("市長は「長く交渉した。ようやく決まった。」と述べた。", "長く交渉した"),
    ],
)
def test_quote_marks_of_other_languages(text: str, quoted: str) -> None:
    (span,) = find_quote_spans(text)
    assert text[span[0] + 1 :].startswith(quoted) or text[span[0] + 2 :].startswith(quoted)


SPEAKERS = {
    "de": {"Anna Keller", "Markus Brandt", "Jan Weber", "Petra Lang"},
    "fr": {"Anne Leroy", "Paul Girard", "Jean Weber", "Sophie Laurent"},
    "es": {"Ana López", "Pablo Ruiz", "Juan Weber", "Sofía Navarro"},
}


@pytest.mark.parametrize("lang", sorted(SPEAKERS))
def test_every_sample_quote_keeps_its_speaker(lang: str) -> None:
    quotes = [q for a in sample_articles(lang) for q in extract_quotes(a)]
    assert len(quotes) == 4
    assert {q.speaker for q in quotes} == SPEAKERS[lang]
    assert all(not q.text.startswith(("„", "«", " ")) for q in quotes)


def test_a_french_monsieur_is_a_title_but_a_middle_initial_is_not() -> None:
    text = (
        '"It is too expensive for patients," said Dr. Regina M. Benjamin on Monday.\n\n'
        "« Le pont est dangereux depuis des années », a déclaré M. Paul Girard."
    )
    article = Article(
        id="x",
        canonical_url=None,
        outlet="o",
        title="t",
        text=text,
        published=datetime(2026, 3, 2, tzinfo=UTC),
        fetched_at=NOW,
        source="s",
        origin="o",
    )
    assert [q.speaker for q in extract_quotes(article)] == ["Regina M. Benjamin", "Paul Girard"]


def test_interface_words_and_plurals_follow_the_language() -> None:
    assert interface.gettext("de")("Sources") == "Quellen"
    assert interface.gettext("it")("Sources") == "Sources"  # no catalogue: English
    assert interface.ngettext("de")("story", "stories", 1) == "Meldung"
    assert interface.ngettext("fr")("article", "articles", 0) == "article"  # French: 0 is one
    assert interface.ngettext("en")("article", "articles", 0) == "articles"


def test_dates_are_spelled_in_the_language_and_english_keeps_its_house_style() -> None:
    day = date(2026, 3, 2)
    assert interface.spell_date(day, "long", "en") == "Monday 2 March 2026"
    assert interface.spell_date(day, "long", "de") == "Montag, 2. März 2026"
    assert interface.spell_date(day, "medium", "fr") == "2 mars 2026"
    assert interface.spell_date(day, "short", "es") == "2 mar"
    assert interface.spell_date(day, "long", "it") == "lunedì 2 marzo 2026"


def test_an_unknown_output_language_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={}, overrides=["output.language=xx-nowhere"])
    assert "[output].language: unknown language 'xx-nowhere'" in str(info.value)
    assert load_settings(None, environ={}, overrides=["output.language=de"]).output.language == "de"


def test_a_feeds_declared_language_reaches_its_items() -> None:
    feeds = REPO / "tests" / "data" / "feeds"
    fetched = Fetched(
        url="http://feeds.test/feeds/full.rss",
        status=200,
        headers=(("content-type", "application/rss+xml"),),
        body=feeds.joinpath("full.rss").read_bytes(),
        validators=Validators(),
    )
    spec = SourceSpec(name="courier", kind="feed", location=fetched.url)
    items = parse_feed(spec, fetched, now=NOW, subject="t")
    assert {i.lang for i in items} == {"en"}


def test_every_interface_word_in_the_templates_has_a_translation() -> None:
    templates = REPO / "digest" / "templates"
    text = "\n".join(p.read_text(encoding="utf-8") for p in templates.rglob("*") if p.is_file())
    messages = set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', text))
    plurals = set(re.findall(r'(?:ngettext|plural)\([^"()\n]*"([^"]+)"', text))
    assert "Sources" in messages
    assert "story" in plurals
    for lang in ("de", "fr", "es"):
        translate = interface.gettext(lang)
        missing = sorted(m for m in messages if translate(m) == m and m != "Sources")
        assert not missing, f"{lang}: no translation for {missing}"
        pick = interface.ngettext(lang)
        untranslated = sorted(w for w in plurals if pick(w, "\x00", 2) == "\x00")
        assert not untranslated, f"{lang}: no plural forms for {untranslated}"
