"""The outputs' interface words and dates in ``[output].language`` (pure).

Templates use Jinja's i18n calls: ``_("Sources")``, ``_("No. %(n)s", n=...)`` and
``ngettext("story", "stories", n)``; the English text is the message id, so a template
reads as English and a language without a translation shows English. Plural forms follow
the language's rules (babel: French says "0 article", Russian has "few" and "many").
Dates are spelled by babel in every language but English, which keeps the house style
of :func:`digest.formatting.humandate` ("Monday 2 March 2026").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

from digest.formatting import humandate
from digest.lang import skim

DEFAULT = "en"
_Forms = Mapping[str, str]  # babel plural category ("one", "other", ...) -> word

_DE: dict[str, str] = {
    "%(stories)s from %(outlets)s · %(articles)s": "%(stories)s aus %(outlets)s · %(articles)s",
    "No. %(n)s": "Nr. %(n)s",
    "%(sources)s could not be read today:": "Heute nicht lesbar (%(sources)s):",
    "Nothing new lately from": "Zuletzt nichts Neues von",
    "News published %(span)s (%(zone)s)": "Nachrichten veröffentlicht %(span)s (%(zone)s)",
    "on %(day)s between %(start)s and %(end)s": "am %(day)s zwischen %(start)s und %(end)s",
    "from %(start)s to %(end)s": "vom %(start)s bis %(end)s",
    "late edition": "verspätete Ausgabe",
    "late": "verspätet",
    "New since the last edition:": "Neu seit der letzten Ausgabe:",
    "first report from %(outlets)s": "erste Meldung von %(outlets)s",
    "Continuing": "Fortsetzung",
    "Continuing since %(date)s": "Fortsetzung seit %(date)s",
    "since %(date)s": "seit %(date)s",
    "New": "Neu",
    "New:": "Neu:",
    "[new]": "[neu]",
    "Sources": "Quellen",
    "Sources:": "Quellen:",
    "Generated %(when)s (%(zone)s).": "Erstellt %(when)s (%(zone)s).",
    "time unknown": "Zeit unbekannt",
    "No stories in this briefing.": "Keine Meldungen in diesem Überblick.",
    "No stories in this edition.": "Keine Meldungen in dieser Ausgabe.",
    "Latest": "Aktuell",
    "Archive": "Archiv",
    "Atom feed": "Atom-Feed",
    "Briefings": "Überblicke",
    "archive": "Archiv",
    "%(title)s: archive": "%(title)s: Archiv",
    "Read the edition →": "Zur Ausgabe →",
    "No editions yet.": "Noch keine Ausgaben.",
    "Earlier editions": "Frühere Ausgaben",
    "Last updated %(when)s (%(zone)s).": "Zuletzt aktualisiert %(when)s (%(zone)s).",
    "Read this edition on the web": "Diese Ausgabe im Web lesen",
    "Read the full edition on the web": "Die ganze Ausgabe im Web lesen",
    "This email shows the top %(shown)s of %(total)s stories.": (
        "Diese E-Mail zeigt die wichtigsten %(shown)s von %(total)s Meldungen."
    ),
    "The full edition is at %(location)s.": "Die ganze Ausgabe: %(location)s.",
    "The full edition: %(location)s": "Die ganze Ausgabe: %(location)s",
    "On the web: %(url)s": "Im Web: %(url)s",
    "“%(quote)s”": "„%(quote)s“",
}
_FR: dict[str, str] = {
    "%(stories)s from %(outlets)s · %(articles)s": "%(stories)s de %(outlets)s · %(articles)s",
    "No. %(n)s": "N° %(n)s",
    "%(sources)s could not be read today:": "Illisibles aujourd'hui (%(sources)s) :",
    "Nothing new lately from": "Rien de nouveau ces derniers temps de",
    "News published %(span)s (%(zone)s)": "Nouvelles publiées %(span)s (%(zone)s)",
    "on %(day)s between %(start)s and %(end)s": "le %(day)s entre %(start)s et %(end)s",
    "from %(start)s to %(end)s": "du %(start)s au %(end)s",
    "late edition": "édition en retard",
    "late": "en retard",
    "New since the last edition:": "Nouveau depuis la dernière édition :",
    "first report from %(outlets)s": "premier article de %(outlets)s",
    "Continuing": "Suite",
    "Continuing since %(date)s": "Suite depuis le %(date)s",
    "since %(date)s": "depuis le %(date)s",
    "New": "Nouveau",
    "New:": "Nouveau :",
    "[new]": "[nouveau]",
    "Sources": "Sources",
    "Sources:": "Sources :",
    "Generated %(when)s (%(zone)s).": "Produit le %(when)s (%(zone)s).",
    "time unknown": "heure inconnue",
    "No stories in this briefing.": "Aucune nouvelle dans ce point.",
    "No stories in this edition.": "Aucune nouvelle dans cette édition.",
    "Latest": "Dernière édition",
    "Archive": "Archives",
    "Atom feed": "Flux Atom",
    "Briefings": "Points d'actualité",
    "archive": "archives",
    "%(title)s: archive": "%(title)s : archives",
    "Read the edition →": "Lire l'édition →",
    "No editions yet.": "Aucune édition pour l'instant.",
    "Earlier editions": "Éditions précédentes",
    "Last updated %(when)s (%(zone)s).": "Mis à jour le %(when)s (%(zone)s).",
    "Read this edition on the web": "Lire cette édition sur le web",
    "Read the full edition on the web": "Lire l'édition complète sur le web",
    "This email shows the top %(shown)s of %(total)s stories.": (
        "Ce courriel montre les %(shown)s premières nouvelles sur %(total)s."
    ),
    "The full edition is at %(location)s.": "L'édition complète : %(location)s.",
    "The full edition: %(location)s": "L'édition complète : %(location)s",
    "On the web: %(url)s": "Sur le web : %(url)s",
    "“%(quote)s”": "«\u00a0%(quote)s\u00a0»",
}
_ES: dict[str, str] = {
    "%(stories)s from %(outlets)s · %(articles)s": "%(stories)s de %(outlets)s · %(articles)s",
    "No. %(n)s": "N.º %(n)s",
    "%(sources)s could not be read today:": "No se pudieron leer hoy (%(sources)s):",
    "Nothing new lately from": "Nada nuevo últimamente de",
    "News published %(span)s (%(zone)s)": "Noticias publicadas %(span)s (%(zone)s)",
    "on %(day)s between %(start)s and %(end)s": "el %(day)s entre las %(start)s y las %(end)s",
    "from %(start)s to %(end)s": "del %(start)s al %(end)s",
    "late edition": "edición con retraso",
    "late": "con retraso",
    "New since the last edition:": "Nuevo desde la última edición:",
    "first report from %(outlets)s": "primera noticia de %(outlets)s",
    "Continuing": "Continúa",
    "Continuing since %(date)s": "Continúa desde el %(date)s",
    "since %(date)s": "desde el %(date)s",
    "New": "Nuevo",
    "New:": "Nuevo:",
    "[new]": "[nuevo]",
    "Sources": "Fuentes",
    "Sources:": "Fuentes:",
    "Generated %(when)s (%(zone)s).": "Generado el %(when)s (%(zone)s).",
    "time unknown": "hora desconocida",
    "No stories in this briefing.": "No hay noticias en este resumen.",
    "No stories in this edition.": "No hay noticias en esta edición.",
    "Latest": "Última edición",
    "Archive": "Archivo",
    "Atom feed": "Canal Atom",
    "Briefings": "Resúmenes",
    "archive": "archivo",
    "%(title)s: archive": "%(title)s: archivo",
    "Read the edition →": "Leer la edición →",
    "No editions yet.": "Todavía no hay ediciones.",
    "Earlier editions": "Ediciones anteriores",
    "Last updated %(when)s (%(zone)s).": "Actualizado el %(when)s (%(zone)s).",
    "Read this edition on the web": "Leer esta edición en la web",
    "Read the full edition on the web": "Leer la edición completa en la web",
    "This email shows the top %(shown)s of %(total)s stories.": (
        "Este correo muestra las %(shown)s noticias principales de %(total)s."
    ),
    "The full edition is at %(location)s.": "La edición completa: %(location)s.",
    "The full edition: %(location)s": "La edición completa: %(location)s",
    "On the web: %(url)s": "En la web: %(url)s",
    "“%(quote)s”": "«%(quote)s»",
}
_WORDS: dict[str, dict[str, str]] = {"de": _DE, "fr": _FR, "es": _ES}

# English singular -> the language's words by plural category
_PLURALS: dict[str, dict[str, _Forms]] = {
    "de": {
        "story": {"one": "Meldung", "other": "Meldungen"},
        "outlet": {"one": "Medium", "other": "Medien"},
        "article": {"one": "Artikel", "other": "Artikel"},
        "edition": {"one": "Ausgabe", "other": "Ausgaben"},
        "source": {"one": "Quelle", "other": "Quellen"},
        "edition in the archive": {"one": "Ausgabe im Archiv", "other": "Ausgaben im Archiv"},
    },
    "fr": {
        "story": {"one": "nouvelle", "other": "nouvelles"},
        "outlet": {"one": "média", "other": "médias"},
        "article": {"one": "article", "other": "articles"},
        "edition": {"one": "édition", "other": "éditions"},
        "source": {"one": "source", "other": "sources"},
        "edition in the archive": {"one": "édition archivée", "other": "éditions archivées"},
    },
    "es": {
        "story": {"one": "noticia", "other": "noticias"},
        "outlet": {"one": "medio", "other": "medios"},
        "article": {"one": "artículo", "other": "artículos"},
        "edition": {"one": "edición", "other": "ediciones"},
        "source": {"one": "fuente", "other": "fuentes"},
        "edition in the archive": {"one": "edición archivada", "other": "ediciones archivadas"},
    },
}

for _lang, _extra in skim.WORDS.items():  # the skim layer's, thread pages' and copies' words
    _WORDS[_lang].update(_extra)
for _lang, _forms in skim.PLURALS.items():
    _PLURALS[_lang].update(_forms)


def known(lang: str) -> bool:
    """``lang`` is a language babel knows (its dates can be spelled)."""
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def gettext(lang: str) -> Callable[[str], str]:
    """``_(message)`` for ``lang``: the translation, else the English message."""
    words = _WORDS.get(lang, {})
    return lambda message: words.get(message, message)


def ngettext(lang: str) -> Callable[[str, str, int], str]:
    """``ngettext(singular, plural, n)`` for ``lang``, by its plural rules."""
    forms = _PLURALS.get(lang, {})
    rule = _plural_rule(lang)

    def pick(singular: str, plural: str, n: int) -> str:
        if singular not in forms:
            return singular if n == 1 else plural
        words = forms[singular]
        return words.get(rule(n), words["other"])

    return pick


def _plural_rule(lang: str) -> Callable[[int], str]:
    try:
        return Locale.parse(lang).plural_form
    except (UnknownLocaleError, ValueError, TypeError):
        return lambda n: "one" if n == 1 else "other"


@functools.lru_cache(maxsize=512)
def spell_date(value: date, style: str = "long", lang: str = DEFAULT) -> str:
    """``long`` Monday 2 March 2026 / Montag, 2. März 2026; ``medium`` without the weekday;
    ``short`` 2 Mar / 2. März."""
    if lang == DEFAULT or not known(lang):
        return humandate(value, style)
    if style == "short":
        return str(format_skeleton("MMMd", value, locale=lang))
    return str(format_date(value, "full" if style == "long" else "long", locale=lang))
