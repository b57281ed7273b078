"""Interface words of the skim layer, the thread pages and wire copies (#14), by language:
merged into :mod:`digest.lang.interface`'s catalogue (English message ids, as there;
plurals by babel's categories, with the number as ``%(num)s``)."""

from __future__ import annotations

from collections.abc import Mapping

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "%(n)s more": "%(n)s weitere",
        "%(names)s and %(rest)s": "%(names)s und %(rest)s",
        "%(names)s, %(more)s and %(copies)s": "%(names)s, %(more)s und %(copies)s",
        "%(reports)s from %(outlets)s": "%(reports)s von %(outlets)s",
        "One report": "Eine Meldung",
        "In this edition": "In dieser Ausgabe",
        "In this edition:": "In dieser Ausgabe:",
        "Previous:": "Vorherige:",
        "Next:": "Nächste:",
        "Other editions": "Weitere Ausgaben",
    },
    "fr": {
        "%(n)s more": "%(n)s autres",
        "%(names)s and %(rest)s": "%(names)s et %(rest)s",
        "%(names)s, %(more)s and %(copies)s": "%(names)s, %(more)s et %(copies)s",
        "%(reports)s from %(outlets)s": "%(reports)s de %(outlets)s",
        "One report": "Un seul article",
        "In this edition": "Dans cette édition",
        "In this edition:": "Dans cette édition :",
        "Previous:": "Précédente :",
        "Next:": "Suivante :",
        "Other editions": "Autres éditions",
    },
    "es": {
        "%(n)s more": "%(n)s más",
        "%(names)s and %(rest)s": "%(names)s y %(rest)s",
        "%(names)s, %(more)s and %(copies)s": "%(names)s, %(more)s y %(copies)s",
        "%(reports)s from %(outlets)s": "%(reports)s de %(outlets)s",
        "One report": "Una sola noticia",
        "In this edition": "En esta edición",
        "In this edition:": "En esta edición:",
        "Previous:": "Anterior:",
        "Next:": "Siguiente:",
        "Other editions": "Otras ediciones",
    },
}
PLURALS: dict[str, dict[str, Mapping[str, str]]] = {
    "de": {
        "%(num)s copy": {"one": "%(num)s Kopie", "other": "%(num)s Kopien"},
        "%(num)s independent report": {
            "one": "%(num)s unabhängige Meldung",
            "other": "%(num)s unabhängige Meldungen",
        },
        "%(num)s outlet": {"one": "%(num)s Medium", "other": "%(num)s Medien"},
        "carried by %(num)s outlet": {
            "one": "übernommen von %(num)s Medium",
            "other": "übernommen von %(num)s Medien",
        },
        "%(num)s more report": {
            "one": "%(num)s weitere Meldung",
            "other": "%(num)s weitere Meldungen",
        },
        "and %(num)s more report": {
            "one": "und %(num)s weitere Meldung",
            "other": "und %(num)s weitere Meldungen",
        },
        "%(num)s new story": {"one": "%(num)s neue Meldung", "other": "%(num)s neue Meldungen"},
        "%(num)s continuing story with new reports": {
            "one": "%(num)s fortgesetzte Meldung mit neuen Berichten",
            "other": "%(num)s fortgesetzte Meldungen mit neuen Berichten",
        },
        "%(num)s new article": {"one": "%(num)s neuer Artikel", "other": "%(num)s neue Artikel"},
        "and %(num)s more story on the web": {
            "one": "und %(num)s weitere Meldung im Web",
            "other": "und %(num)s weitere Meldungen im Web",
        },
    },
    "fr": {
        "%(num)s copy": {"one": "%(num)s copie", "other": "%(num)s copies"},
        "%(num)s independent report": {
            "one": "%(num)s article indépendant",
            "other": "%(num)s articles indépendants",
        },
        "%(num)s outlet": {"one": "%(num)s média", "other": "%(num)s médias"},
        "carried by %(num)s outlet": {
            "one": "repris par %(num)s média",
            "other": "repris par %(num)s médias",
        },
        "%(num)s more report": {"one": "%(num)s autre article", "other": "%(num)s autres articles"},
        "and %(num)s more report": {
            "one": "et %(num)s autre article",
            "other": "et %(num)s autres articles",
        },
        "%(num)s new story": {"one": "%(num)s nouveau sujet", "other": "%(num)s nouveaux sujets"},
        "%(num)s continuing story with new reports": {
            "one": "%(num)s sujet suivi avec de nouveaux articles",
            "other": "%(num)s sujets suivis avec de nouveaux articles",
        },
        "%(num)s new article": {
            "one": "%(num)s nouvel article",
            "other": "%(num)s nouveaux articles",
        },
        "and %(num)s more story on the web": {
            "one": "et %(num)s autre sujet sur le web",
            "other": "et %(num)s autres sujets sur le web",
        },
    },
    "es": {
        "%(num)s copy": {"one": "%(num)s copia", "other": "%(num)s copias"},
        "%(num)s independent report": {
            "one": "%(num)s noticia independiente",
            "other": "%(num)s noticias independientes",
        },
        "%(num)s outlet": {"one": "%(num)s medio", "other": "%(num)s medios"},
        "carried by %(num)s outlet": {
            "one": "reproducida por %(num)s medio",
            "other": "reproducida por %(num)s medios",
        },
        "%(num)s more report": {"one": "%(num)s noticia más", "other": "%(num)s noticias más"},
        "and %(num)s more report": {
            "one": "y %(num)s noticia más",
            "other": "y %(num)s noticias más",
        },
        "%(num)s new story": {"one": "%(num)s noticia nueva", "other": "%(num)s noticias nuevas"},
        "%(num)s continuing story with new reports": {
            "one": "%(num)s noticia en curso con novedades",
            "other": "%(num)s noticias en curso con novedades",
        },
        "%(num)s new article": {
            "one": "%(num)s artículo nuevo",
            "other": "%(num)s artículos nuevos",
        },
        "and %(num)s more story on the web": {
            "one": "y %(num)s noticia más en la web",
            "other": "y %(num)s noticias más en la web",
        },
    },
}
