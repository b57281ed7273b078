"""Person names in news text, for quote speakers (pure).

A name is a run of capitalised words; titles before it ("Kremlin spokesman", "Foreign
Minister", "Professor") are dropped, and so are lower-case descriptors ("duty forecaster"),
"-based"/"-born" adjectives and affiliations after it ("X of Firm Y"). A ministry or
department keeps its whole name. "he"/"she" come back as ``PRONOUN`` + the pronoun, a person
known only by a title ("the Secretary-General", "the harbour master") as ``UNNAMED``.
"""

from __future__ import annotations

import re

from digest.text import vocabulary

# Capital and small letters of the Latin, Greek and Cyrillic alphabets ("José", "Müller").
UPPER = "".join(ch for ch in map(chr, range(0x0500)) if ch.isupper() and ch.isalpha())
LOWER = "".join(ch for ch in map(chr, range(0x0500)) if ch.islower() and ch.isalpha())
PREPOSITIONS = vocabulary(
    """from in on at to after before during by with of for as nach vor von vom bei beim mit am
    im auf aus zu zum zur für à après du des dans lors pour avec au aux al tras en con del para
    por según"""
)
_NAME_TOKEN = re.compile(rf"^(?:[{UPPER}][{UPPER}{LOWER}'’-]*\.?|[{UPPER}]\.)+$")
_PARTICLES = vocabulary("de del della van von der den bin al da di la le du")
AUX = vocabulary(
    """has have had was were is also later then previously repeatedly reportedly earlier once
    would will did not further separately recently publicly again today yesterday"""
)
DETERMINERS = vocabulary("the a an his her their its our these those this that phone")
_PRONOUNS = frozenset({"he", "she"})
_TITLES = vocabulary(
    """president prime minister secretary chancellor senator sen rep gov governor mayor judge
    justice general gen col lt sgt capt adm chief spokesman spokeswoman spokesperson ambassador
    envoy director commissioner pope king queen prince princess mr mrs ms dr prof sir dame lord
    lady rev ceo chairman chairwoman chair speaker leader deputy vice foreign defence defense
    interior finance attorney lawyer state aide adviser advisor official manager officer
    professor coach head secretary-general the herr frau mme mlle sr sra srta don doña
    bürgermeister bürgermeisterin ministerin kanzler kanzlerin sprecher sprecherin präsident
    präsidentin chefin vorsitzende vorsitzender direktor direktorin ministre présidente
    ministro ministra presidenta alcalde alcaldesa"""
)
_LOWER_TITLES = vocabulary(
    """spokesman spokeswoman spokesperson aide adviser advisor minister secretary president
    chancellor senator governor mayor official chief head leader director envoy ambassador
    commander the a an of for senior deputy foreign press prime former top state fire police
    city county regional national military health port engineer officer inspector analyst
    economist professor lawyer attorney judge coach manager executive founder researcher
    expert strategist correspondent editor historian"""
)
_NOT_NAMES = vocabulary(
    """it this that these those there they we i you however but and officials police analysts
    experts critics residents witnesses sources authorities investigators prosecutors
    researchers scientists observers others many some both one earlier later meanwhile
    separately speaking asked on in at then also still yet now today yesterday last when while
    after before monday tuesday wednesday thursday friday saturday sunday"""
)
_NOT_LEADING = _NOT_NAMES | DETERMINERS | vocabulary("der die das des dem den ein eine les los las")
_NO_DESCRIPTOR = PREPOSITIONS | AUX | _PRONOUNS | DETERMINERS | vocabulary("that it they")
_OF = frozenset({"of", "for"})
_BODIES = vocabulary(  # "Foreign Ministry", "Interior Department" stay whole
    """ministry department office council commission agency court government embassy
    committee service authority"""
)
_NOT_AFFILIATED = _TITLES | _BODIES  # "Office of X", "Secretary of State X": not "X of Y"
_ATTRIBUTIVE = re.compile(r"^[A-Z][a-z]+-(?:based|born|bred|listed|educated)$")  # "Lisbon-based"
PRONOUN = "\x00"  # + "he" / "she": a pronoun, resolved by _Speakers
UNNAMED = "\x01"  # a speaker known only by a title
_ARTICLES = frozenset({"the", "a", "an"})
_PERSON_NOUNS = vocabulary(  # "the … said" with one of these is someone left unnamed
    """spokesman spokeswoman spokesperson aide adviser advisor minister secretary president
    official chief head leader director envoy ambassador commander officer inspector analyst
    economist professor lawyer attorney judge coach manager executive founder researcher
    expert master source witness neighbour neighbor relative resident man woman friend doctor
    nurse teacher student worker driver passenger survivor victim mother father son daughter
    brother sister wife husband owner engineer captain pilot farmer fisherman diplomat"""
)
_ORGANISATION = re.compile(
    r"\b(?:Ministry|Department|Office|Council|Commission|Agency|Court|Government|Embassy|"
    r"Committee|Service|Authority|Survey|Institute|University|Center|Centre|Association|"
    r"Group|Party|Police|Corp|Inc|Company|Bank|News|Times|Post|Press|Reuters)\b"
)
_FULL_NAME = re.compile(rf"\b[{UPPER}][{LOWER}'’-]+(?:\s+(?:[{UPPER}]\.|[{UPPER}][{LOWER}'’-]+))+")
_INITIAL = re.compile(rf"^[{UPPER}]\.$")


def full_names(text: str) -> dict[str, str]:
    """Surname -> the full name the article first gives it ("Okonkwo" -> "Mara Okonkwo");
    a surname two different people share is left alone."""
    found: dict[str, set[str]] = {}
    for match in _FULL_NAME.finditer(text):
        name = clean_name(match.group().split())
        if name and " " in name:
            found.setdefault(name.rsplit(" ", 1)[1], set()).add(name)
    return {last: min(names) for last, names in found.items() if len(names) == 1}


def trailing_name(tokens: list[str]) -> str | None:
    """The name that ends ``tokens`` ("Kremlin aide Yuri Ushakov" -> "Yuri Ushakov")."""
    if tokens and tokens[-1].lower().strip(",") in _PRONOUNS:
        return PRONOUN + tokens[-1].lower().strip(",")
    run: list[str] = []
    for i, token in enumerate(reversed(tokens)):
        word = token.rstrip(",") if i == 0 else token
        if not (_NAME_TOKEN.match(word) or (run and word in _PARTICLES)):
            break
        run.insert(0, word)
    return clean_name(run)


def subject_name(tokens: list[str]) -> str | None:
    """The speaker that ends a verb's subject: its name, ``UNNAMED`` for a person the
    subject leaves unnamed ("the harbour master"), or None."""
    return trailing_name(tokens) or (UNNAMED if _unnamed_person(tokens) else None)


def _unnamed_person(tokens: list[str]) -> bool:
    """``tokens`` end in a person without a name: "the harbour master", "a police source"."""
    return (
        len(tokens) >= 2
        and tokens[-1].strip(",").lower() in _PERSON_NOUNS
        and any(t.lower() in _ARTICLES for t in tokens[-3:-1])
    )


def leading_name(text: str) -> str | None:
    """The name that starts ``text`` ("Kremlin spokesman Dmitry Peskov on Friday")."""
    tokens = _after_descriptors(text.split())
    if tokens and tokens[0].lower().strip(",.") in _PRONOUNS:
        return PRONOUN + tokens[0].lower().strip(",.")
    taken: list[str] = []
    for at, token in enumerate(tokens):
        word = token.rstrip(",.;:")
        if not (_NAME_TOKEN.match(word) or word in _LOWER_TITLES or word in _PARTICLES):
            if taken and word.isalpha() and word.islower() and word not in _NO_DESCRIPTOR:
                # the name was a modifier: "Aceh district resident Bensu Elianita"
                return leading_name(" ".join(tokens[at:])) or _name_of(taken)
            if taken and word[:1] in "'’":
                return None  # "Ms. Davis ’ s sister": the name is a possessive
            break
        if word in _OF and any(_plain(t) not in _NOT_AFFILIATED for t in taken if t[0].isupper()):
            break  # "Dan Martin of Asian Partners": the name is before "of"
        initial = _INITIAL.match(token) is not None  # "Patrick J. Buchanan"
        taken.append(token if initial else word)
        titled = token.endswith(",") and word in _LOWER_TITLES  # "spokesman, Ana Lind"
        if token != word and not initial and not titled and not _abbreviated_title(token):
            break
    return _name_of(taken)


def _abbreviated_title(token: str) -> bool:
    """A title such as "Dr.", "Prof." or "Sra.": the name goes on after it."""
    return token.endswith(".") and _plain(token) in _TITLES


def _name_of(taken: list[str]) -> str | None:
    """The last run of name tokens in ``taken`` (titles before it dropped)."""
    run: list[str] = []
    for word in reversed(taken):
        if not (_NAME_TOKEN.match(word) or (run and word in _PARTICLES)):
            if run:
                break
            continue
        run.insert(0, word)
    return clean_name(run)


def _after_descriptors(tokens: list[str]) -> list[str]:
    """Without up to three lower-case words that describe the name after them ("duty
    meteorologist Jorunn Bask" -> "Jorunn Bask"); unchanged when no name follows."""
    for skip, token in enumerate(tokens[:4]):
        if _NAME_TOKEN.match(token.rstrip(",.;:")):
            return tokens[skip:]
        word = token.rstrip(",")  # "la maire, Mme Anne Leroy": an apposition
        if not word.isalpha() or not word.islower() or word in _NO_DESCRIPTOR:
            break
    return tokens


_INITIAL_END = re.compile(rf"\b[{UPPER}]\.$")
_JOB_NOUN = re.compile(r"^[A-ZÄÖÜ][a-zäöüß]{9,}(?:in|er|e|ent|ist|or|chef|leiter)$")


def local_name(name: str, lang: str) -> str:
    """German capitalises job nouns: "Katastrophenschützerin Petra Lang" -> "Petra Lang"."""
    tokens = name.split()
    if lang == "de" and len(tokens) >= 3 and _JOB_NOUN.match(tokens[0]):
        return " ".join(tokens[1:])
    return name


def clean_name(run: list[str]) -> str | None:
    """The name in a run of capitalised words, without leading particles, non-names and
    titles; ``UNNAMED`` when only titles were there, None when nothing was."""
    while run and (
        run[0] in _PARTICLES
        or run[0].lower().rstrip(",") in _NOT_LEADING
        or _ATTRIBUTIVE.match(run[0])
    ):
        run = run[1:]
    titled = [i for i, t in enumerate(run) if _plain(t) in _TITLES or (i, t) == (0, "M.")]
    if titled and not (len(run) == titled[-1] + 2 and _plain(run[-1]) in _BODIES):
        run = run[titled[-1] + 1 :]  # "Foreign Minister Ana Lind" -> "Ana Lind"
        if not run:
            return UNNAMED  # "the Secretary-General said": someone, but no name
    if not run:
        return None
    name = " ".join(run)
    return name[:-1] if name.endswith(".") and not _INITIAL_END.search(name) else name


def _plain(token: str) -> str:
    """A token as the vocabularies spell it: lower case, no final period."""
    return token.lower().rstrip(".")


def is_organisation(name: str) -> bool:
    """``name`` reads as an organisation ("US Geological Survey", "NRDC"), not a person."""
    return bool(_ORGANISATION.search(name)) or name.isupper()
