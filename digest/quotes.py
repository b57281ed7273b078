"""Direct quotes and their speakers, found with rules over one article (pure).

A quote is text in straight or curly double quotes, or in single quotes (``'…'``, ``‘…’``,
mixed ``‘…'``) with at least ``MIN_QUOTE_WORDS`` words. Apostrophes inside words (``Trump's``,
``don't``) never open or close a quote. The speaker comes from the quote's own sentence,
tried in this order:

1. after the quote: ``"…," said X`` / ``"…," X said`` / ``"…," he added``;
2. before it: ``X said: "…"`` / ``X told reporters on Friday that '…'`` / ``X described it
   as '…'`` (the subject right before the nearest speech verb; titles such as "Kremlin
   spokesman" are dropped, keeping the name);
3. ``according to X`` anywhere in the sentence;
4. ``…, said X.`` ending the sentence, whatever comes between the quote and it.

"he"/"she" resolve to the most recent named person earlier in the same article (including
sentences like "X has said." that carry no quote) that they can be: not an organisation,
not a "Mr." for "she" nor a "Ms." for "he", and not past a speaker left unnamed ("the
harbour master said"). A bare quote (a sentence with no words outside its quotes) right
after a quote in the same paragraph has that quote's speaker, as in ``"…," X said. "…"``.
A surname gets the full name the article gave it. A speaker is never invented: when no rule
names one, it is ``None``, and such a quote is never picked for a briefing. How a run of
words becomes a name is in :mod:`digest.names`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from digest.models import Article, Quote
from digest.names import (
    AUX,
    DETERMINERS,
    LOWER,
    PREPOSITIONS,
    PRONOUN,
    UNNAMED,
    UPPER,
    clean_name,
    full_names,
    is_organisation,
    leading_name,
    local_name,
    subject_name,
    trailing_name,
)
from digest.sentences import find_quote_spans, sentence_spans
from digest.text import vocabulary, words

MIN_QUOTE_WORDS = 5


# German, French and Spanish speech verbs ("„…“, sagte X", "« … », a déclaré X", "«…», dijo X")
_OTHER_VERBS = vocabulary(
    """sagte sagt sagten erklärte erklärt betonte betont warnte warnt meinte meint kritisierte
    forderte fordert ergänzte sprach déclaré déclare dit affirmé affirme expliqué explique
    ajouté ajoute estimé estime souligné souligne regretté regrette demandé demande dénoncé
    dénonce assuré assure indiqué indique prévenu prévient lancé confié dijo dice afirmó
    afirma declaró declara explicó explica añadió añade señaló señala aseguró asegura
    lamentó lamenta pidió pide advirtió advierte indicó indica criticó critica"""
)
_VERB_WORDS = sorted(
    vocabulary(
        """said says say told tells added adds stated wrote writes warned warns insisted
    insists argued argues explained explains announced declared replied responded described
    describes urged urges tweeted recalled acknowledged admitted concluded emphasised
    emphasized stressed remarked observed predicted promised vowed suggested lamented
    complained conceded confirmed denied"""
    )
    | _OTHER_VERBS
)
_PARTICIPLES = sorted(
    vocabulary(
        """saying adding telling noting warning insisting calling describing stressing
    explaining arguing"""
    )
)
_VERB = re.compile(r"\b(?:" + "|".join(_VERB_WORDS + _PARTICIPLES) + r")\b")
_AUX = r"(?:(?:a|ont|hat|ha|han)\s+)?"  # "a déclaré", "hat gesagt", "ha dicho"
_AFTER_VERB_FIRST = re.compile(
    r"^[\s,;:—–-]*" + _AUX + r"(?:" + "|".join(_VERB_WORDS) + r")\s+(?P<rest>.+)"
)
_AFTER_SUBJECT = re.compile(r"^[\s,;:—–-]*(?P<subj>[^.!?;:'\"‘’“”_]{1,80}?)\s+" + _VERB.pattern)
_SUBJECT_RUN = re.compile(
    rf"(?:^|(?<=, ))(?P<run>(?:[{UPPER}][{UPPER}{LOWER}'’.-]*\s+)+)(?=[{LOWER}]+\b)"
)
_ACCORDING = re.compile(r"\b[Aa]ccording to\s+(?P<rest>.+)")
_AFFILIATION = re.compile(r"\s(?:of|for|at|from|with)\s")
_INVERTING = vocabulary(  # verbs whose subject may follow them: "…, said X." ("told X": no)
    """said says added adds stated wrote writes warned warns insisted insists argued argues
    explained explains declared replied responded recalled acknowledged admitted concluded
    stressed emphasised emphasized remarked observed"""
)
_INVERTED = re.compile(
    r",\s+(?:" + "|".join(sorted(_INVERTING)) + r")\s+(?P<rest>[^,;:]+)[,.]?\s*$"
)

_MR = re.compile(r"\b(?P<title>Mr|Mrs|Ms|Miss)\.?\s+(?P<name>[A-Z][a-z'’-]+)")
_HONORIFIC_PRONOUN = {"Mr": "he", "Mrs": "she", "Ms": "she", "Miss": "she"}


@dataclass(slots=True)
class _Speakers:
    """The named speakers of the article so far, for "he said" / "she said"."""

    recent: list[str] = field(default_factory=list)  # most recent last
    known: frozenset[str] = frozenset()  # capitalised words the article uses more than once
    pronouns: dict[str, str] = field(default_factory=dict)  # surname -> "he"/"she" (Mr./Ms.)

    def resolve(self, found: str | None) -> str | None:
        """``found``, remembered; for a pronoun, the most recent named person it can be
        (not an organisation, not someone the article calls Mr. for "she" or Ms. for "he")."""
        if found is None or not found.startswith(PRONOUN):
            if found:
                self.recent.append(found)
            return None if found == UNNAMED else found
        pronoun = found[len(PRONOUN) :]
        for name in reversed(self.recent):
            if name == UNNAMED:
                return None  # "the official said … he said": still no name
            if is_organisation(name):
                continue
            if self.pronouns.get(name.split()[-1], pronoun) == pronoun:
                return name
        return None


def extract_quotes(article: Article) -> tuple[Quote, ...]:
    """Every direct quote of at least ``MIN_QUOTE_WORDS`` words, with its speaker or None."""
    counts = Counter(_CAPITALISED.findall(article.text))
    speakers = _Speakers(
        known=frozenset(w for w, n in counts.items() if n > 1),
        pronouns={m["name"]: _HONORIFIC_PRONOUN[m["title"]] for m in _MR.finditer(article.text)},
    )
    quotes: list[Quote] = []
    full = full_names(article.text)
    for paragraph in article.paragraphs:
        for text, speaker in _paragraph_quotes(paragraph, speakers, article.lang):
            name = local_name(full.get(speaker, speaker), article.lang) if speaker else None
            quotes.append(
                Quote(text=text, speaker=name, outlet=article.outlet, article_id=article.id)
            )
    return tuple(quotes)


def pick_quotes(
    articles: Sequence[Article],
    *,
    centrality: Callable[[str], float],
    shown: str = "",
    prefer: frozenset[str] = frozenset(),
    limit: int = 3,
) -> tuple[Quote, ...]:
    """Up to ``limit`` quotes from ``articles`` that name their speaker and are not already
    in ``shown`` (the summary): those from ``prefer`` (article ids) first, then the most
    central; one per wording across outlets, a second quote by the same speaker only to
    fill."""
    ranked = []
    shown_words = " ".join(words(shown))
    for doc, article in enumerate(articles):
        for index, quote in enumerate(extract_quotes(article)):
            if quote.speaker is None or " ".join(words(quote.text)) in shown_words:
                continue
            other = article.id not in prefer
            ranked.append(((other, -round(centrality(quote.text), 9), doc, index), quote))
    ranked.sort(key=lambda pair: pair[0])
    kept: list[Quote] = []
    for new_speaker in (True, False):
        for _, quote in ranked:
            if len(kept) == limit:
                continue
            repeat = new_speaker and any(k.speaker == quote.speaker for k in kept)
            if not repeat and not any(_same(quote, k) for k in kept):
                kept.append(quote)
    return tuple(kept)


def _same(a: Quote, b: Quote) -> bool:
    """The same words (one inside the other, or nearly all shared)."""
    wa, wb = frozenset(words(a.text)), frozenset(words(b.text))
    return wa <= wb or wb <= wa or len(wa & wb) >= 0.8 * len(wa | wb)


def _paragraph_quotes(
    paragraph: str, speakers: _Speakers, lang: str = "en"
) -> list[tuple[str, str | None]]:
    spans = find_quote_spans(paragraph)
    masked = _mask(paragraph, spans)
    out: list[tuple[str, str | None]] = []
    last: str | None = None  # the speaker of the paragraph's previous quote
    for start, end in sentence_spans(masked, lang):
        inside = [(a, b) for a, b in spans if start <= a < end]
        sentence = masked[start:end]
        if not inside:
            speakers.resolve(_speaker_before(sentence, speakers.known) or _inverted(sentence))
            last = None
            continue
        bare = not _FRAME_WORD.search(_without(sentence, inside, start))
        for a, b in inside:
            found = _speaker_for(sentence, a - start, b - start, speakers.known)
            speaker = speakers.resolve(found)
            speaker = speaker or (last if bare else None)  # '"…," X said. "…"': X goes on
            last = speaker
            text = " ".join(paragraph[a + 1 : b - 1].split()).rstrip(" ,")
            if len(text.split()) >= MIN_QUOTE_WORDS:
                out.append((text, speaker))
    return out


_FRAME_WORD = re.compile(r"[^\W_]")


def _without(sentence: str, spans: list[tuple[int, int]], offset: int) -> str:
    """``sentence`` with its quotes cut out: the words that frame them, if any."""
    kept, at = [], 0
    for a, b in spans:
        kept.append(sentence[at : a - offset])
        at = b - offset
    return "".join(kept) + sentence[at:]


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Hide quoted words so rules see only the frame; the first letter and the final
    punctuation stay, so sentence boundaries around the quote still show."""
    chars = list(text)
    for start, end in spans:
        keep = end - 2 if text[end - 2] in ".!?。！？" else end - 1
        for i in range(start + 2, keep):
            chars[i] = "_"
    return "".join(chars)


def _speaker_for(sentence: str, start: int, end: int, known: frozenset[str]) -> str | None:
    return (
        _speaker_after(sentence[end:])
        or _speaker_before(sentence[:start], known)
        or _according_to(sentence)
        or _inverted(sentence)
    )


def _speaker_after(after: str) -> str | None:
    if match := _AFTER_VERB_FIRST.match(after):
        return leading_name(match.group("rest"))
    if match := _AFTER_SUBJECT.match(after):
        return subject_name(match.group("subj").split())
    return None


def _speaker_before(before: str, known: frozenset[str] = frozenset()) -> str | None:
    """The named subject of the last speech verb that has one (``known``: see _set_off)."""
    for verb in reversed(list(_VERB.finditer(before))):
        tokens = before[: verb.start()].split()
        while tokens and tokens[-1].lower() in AUX:
            tokens.pop()
        if not tokens or tokens[-1].lower() in DETERMINERS or tokens[-1].endswith(","):
            if verb.group() in _PARTICIPLES:
                return _clause_subject(before[: verb.start()])  # "X met Y, saying: '...'"
            if tokens and tokens[-1].endswith(",") and (found := _set_off(before, known)):
                return found  # "X, in a statement, said"
            continue  # a noun use: "the claims"
        found = subject_name(tokens)
        if found or verb.group() not in _PARTICIPLES:
            return found
    return None


_CAPITALISED = re.compile(rf"\b[{UPPER}][{LOWER}'’-]+")
_NAME_WORD = rf"[{UPPER}][{UPPER}{LOWER}'’.-]*"
_SET_OFF = re.compile(rf"^\s*(?P<run>(?:{_NAME_WORD}\s+)*{_NAME_WORD}),\s")


def _set_off(sentence: str, known: frozenset[str]) -> str | None:
    """The name opening ``sentence`` before a comma ("Jackson, in a statement, said"); one
    word only if the article uses it more than once (not "Showrunner, 51, adds")."""
    if not (match := _SET_OFF.match(sentence)):
        return None
    run = match.group("run").split()
    return clean_name(run) if len(run) > 1 or run[0] in known else None


def _clause_subject(text: str) -> str | None:
    """The first name directly followed by a lowercase word (its verb), if any."""
    for match in _SUBJECT_RUN.finditer(text):
        if found := clean_name(match.group("run").split()):
            return found
    return None


def _inverted(sentence: str) -> str | None:
    """The speaker of a sentence that ends ", said X" (whatever it quotes before that)."""
    if not (match := _INVERTED.search(sentence)):
        return None
    if match.group("rest").split()[0] in PREPOSITIONS:
        return None  # "…, she said from Sofia."
    who = _AFFILIATION.split(match.group("rest"), maxsplit=1)[0]  # "X of Y Partners"
    return trailing_name(who.split())  # "trade expert Rana Lind" -> "Rana Lind"


def _according_to(sentence: str) -> str | None:
    match = _ACCORDING.search(sentence)
    return leading_name(match.group("rest")) if match else None
