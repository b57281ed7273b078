"""Stop words, stems and content terms per language (pure).

English keeps :mod:`digest.text` exactly (its light stemmer and stop words are what the
clusterer and the quality gate are tuned on). German, French, Spanish and Russian have
compact lists of our own (function words, reporting verbs, days and months, like the English
one); other languages take jusText's stop list (installed with trafilatura) when it is short
enough to hold only function words. Stems come from Snowball
(``snowballstemmer``). Japanese and Chinese, written without spaces, give character bigrams.
"""

from __future__ import annotations

import functools

import snowballstemmer
from babel import Locale, UnknownLocaleError

from digest import text as english
from digest.text import vocabulary, words

_OWN_STOPWORDS = {
    "de": vocabulary(
        """der die das des dem den ein eine einer eines einem einen und oder aber doch sondern
        denn weil dass daß ob wenn als wie wo was wer wem wen wessen welche welcher welches
        ich du er sie es wir ihr mich dich sich uns euch ihm ihn ihnen mein dein sein seine
        seiner seinen seinem ihre ihrer ihren ihrem unser unsere euer eure kein keine nicht
        nur auch noch schon sehr so dann da dort hier heute gestern morgen jetzt nun mehr
        in im ins an am auf aus bei beim mit nach seit von vom vor zu zum zur über unter um
        durch für gegen ohne bis zwischen während wegen trotz ist sind war waren wird werden
        wurde wurden worden hat haben hatte hatten habe sei seien wäre kann können konnte
        soll sollen sollte muss müssen will wollen darf man dies diese dieser dieses diesem
        diesen jene alle allen alles viele vielen einige mehrere sagte sagt sagten sagen
        würde würden wären hätte hätten
        erklärte betonte teilte mit laut zufolge jahr jahre jahren tag tage tagen woche
        montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz
        april mai juni juli august september oktober november dezember herr frau dr prof"""
    ),
    "fr": vocabulary(
        """le la les l un une des du de d au aux et ou mais donc or ni car que qu qui quoi
        dont où si ne pas plus moins très aussi encore déjà ce cet cette ces c ça cela ceci
        je j tu il elle on nous vous ils elles me m te t se s lui leur leurs eux mon ma mes
        ton ta tes son sa ses notre nos votre vos en y dans sur sous avec sans pour par vers
        chez entre depuis pendant avant après contre selon est sont était étaient sera
        seront été être a ont avait avaient aura auront avoir fait faire peut peuvent
        pourrait doit doivent tout tous toute toutes autre autres même comme ainsi alors
        dit a-t-il a-t-elle déclaré affirmé indiqué expliqué annoncé estimé souligné
        selon an ans année années jour jours semaine lundi mardi mercredi jeudi vendredi
        samedi dimanche janvier février mars avril mai juin juillet août septembre octobre
        novembre décembre m mme"""
    ),
    "es": vocabulary(
        """el la los las lo un una unos unas del al de y e o u pero sino que quien quienes
        cual cuales cuyo donde cuando como si no ni más menos muy también ya aún todavía
        este esta estos estas ese esa esos esas aquel eso esto yo tú él ella ello nosotros
        vosotros ellos ellas me te se nos os le les mi mis tu tus su sus nuestro nuestra
        en con sin para por sobre entre hasta desde durante ante tras contra según hacia
        es son era eran fue fueron será serán sido ser está están estaba estar ha han había
        habían habrá haber hay hace hacer puede pueden podría debe deben todo todos toda
        todas otro otros otra otras mismo así dijo dice afirmó declaró señaló explicó
        aseguró indicó añadió año años día días semana lunes martes miércoles jueves
        viernes sábado domingo enero febrero marzo abril mayo junio julio agosto
        septiembre octubre noviembre diciembre sr sra"""
    ),
    "ru": vocabulary(
        """и в во не что он она оно они на я с со как а то все всё так его её их но да ты к
        у же вы за бы по только ее мне было вот от меня еще ещё нет о из ему теперь когда
        даже ну ли если уже или ни быть был была были будет будут него до вас нибудь опять
        уж вам ведь там потом себя ничего ей может могут тут где есть надо ней для мы тебя
        чем сам чтобы без будто чего раз тоже себе под жизнь кто этот эта это эти того
        этого этой этом этих тот та те при после над про между перед через также который
        которая которое которые которых году год года лет день дня заявил заявила сказал
        сказала сообщил сообщила отметил отметила понедельник вторник среда среду четверг
        пятница пятницу суббота субботу воскресенье января февраля марта апреля мая июня
        июля августа сентября октября ноября декабря г т д"""
    ),
}
_JUSTEXT_NAMES = {"nb": "Norwegian_Bokmal", "nn": "Norwegian_Nynorsk", "no": "Norwegian_Bokmal"}
_BIGRAM_LANGS = frozenset({"ja", "zh"})
_MAX_BORROWED = 1000  # a longer jusText list holds content words too: not used


def _english_name(lang: str) -> str | None:
    try:
        return Locale.parse(lang).english_name
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@functools.cache
def stopwords(lang: str) -> frozenset[str]:
    """The stop words of ``lang`` (lower case); empty when none are known."""
    if lang == "en":
        return english.STOPWORDS
    if lang in _OWN_STOPWORDS:
        return _OWN_STOPWORDS[lang]
    import justext  # lxml: only for a language with no stop list of our own

    name = _JUSTEXT_NAMES.get(lang) or _english_name(lang)
    if not name or name not in justext.get_stoplists():
        return frozenset()
    borrowed = frozenset(w for w in justext.get_stoplist(name) if w.isalpha())
    return borrowed if len(borrowed) <= _MAX_BORROWED else frozenset()


@functools.cache
def _stemmer(lang: str) -> snowballstemmer.stemmer | None:
    name = (_english_name(lang) or "").lower()
    return snowballstemmer.stemmer(name) if name in snowballstemmer.algorithms() else None


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str, lang: str = "en") -> str:
    """The stem of a lower-case ``word``; the word itself when ``lang`` has no stemmer."""
    if lang == "en":
        return english.stem(word)
    stemmer = _stemmer(lang)
    if stemmer is None or word.isdigit():
        return word
    return str(stemmer.stemWord(word))


def content_terms(text: str, lang: str = "en") -> list[str]:
    """Stemmed content words of ``text`` in ``lang`` (stop words and 1-letter tokens
    dropped); for Japanese and Chinese, character bigrams of each run of letters."""
    if lang == "en":
        return english.content_terms(text)
    if lang in _BIGRAM_LANGS:
        return [w[i : i + 2] for w in words(text) for i in range(max(1, len(w) - 1))]
    stop = stopwords(lang)
    return [stem(w, lang) for w in words(text) if len(w) > 1 and w not in stop]
