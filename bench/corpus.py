"""A synthetic news corpus with real event structure, written as JSONL dumps.

Every text is generated here from our own word lists: an event has a kind (a quake, a
strike, a merger, ...), made-up people, places and organisations, and its own numbers;
its articles (several outlets, hours apart) retell it from templates, with generic filler
sentences for a realistic length (~300 words). A few articles are wire copies of another
with a changed outlet. Events start across ``span_days`` days, ~10k articles a day.

Wire-heavy days (``wire`` > 0): that share of events also gets a newswire report that 5-30
outlets run as it is (their own URL and time, some with their own headline), the way agency
copy fills real feeds. The other articles are the same as without ``wire`` (the wire copies
come from a random generator of their own), until ``n`` is reached.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
ARTICLES_PER_DAY = 10_000

_ONSETS = "b br c ch d dr f g gr h k kl l m n p pr r s st t tr v w z".split()
_VOWELS = "a e i o u ai ea io".split()
_CODAS = "n r l s k th m nd rk st v".split()
_ENDINGS = {
    "person": "sen son ov ova ez ic ani elli".split(),
    "place": "ia burg ton ford vale stad grad mouth".split(),
    "org": "corp tech ex ium gen".split(),
}

_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    # kind: (title templates, sentence templates, topic words)
    "quake": (
        ("Earthquake of magnitude {n1} strikes near {place}", "{place} quake kills {n2}"),
        (
            "An earthquake of magnitude {n1} struck near {place} early on {weekday}, "
            "killing at least {n2} people.",
            "Rescue teams led by {person} searched collapsed buildings in {place}.",
            "{org} said {n3} homes were damaged and power was cut across the region.",
            "Governor {person} declared a state of emergency in {place}.",
        ),
        "tremor aftershock rubble rescuers epicentre seismic shelters",
    ),
    "strike": (
        ("{org} workers walk out over pay", "Strike halts {org} plants in {place}"),
        (
            "About {n3} workers at {org} went on strike in {place} on {weekday}.",
            "Union leader {person} said members rejected a {n1} percent pay offer.",
            "{org} said production at its {place} plant had stopped.",
            "Talks between {org} and the union are due to resume, {person} said.",
        ),
        "union wages picket walkout negotiators overtime bargaining",
    ),
    "merger": (
        ("{org} agrees to buy rival for ${n2} billion", "{org} deal reshapes industry"),
        (
            "{org} agreed to buy a rival for ${n2} billion, chief executive {person} said.",
            "The deal values the company at {n1} times its annual earnings.",
            "Shares of {org} rose {n1} percent in trading in {place}.",
            "Regulators in {place} are expected to review the {org} deal.",
        ),
        "acquisition shareholders valuation antitrust takeover premium",
    ),
    "election": (
        ("{person} wins {place} election", "Voters in {place} back {person}"),
        (
            "{person} won the election in {place} with {n1} percent of the vote.",
            "Turnout reached {n2} percent, officials in {place} said.",
            "{person} promised to cut taxes and build {n3} homes.",
            "The {org} party conceded defeat late on {weekday}.",
        ),
        "ballot turnout campaign candidate coalition parliament mandate",
    ),
    "flood": (
        ("Floods force {n3} from homes in {place}", "{place} river bursts its banks"),
        (
            "Floods forced {n3} people from their homes in {place} after days of rain.",
            "The river rose {n1} metres above its normal level, {org} said.",
            "Mayor {person} said {n2} schools would stay closed.",
            "Soldiers piled sandbags along the banks in {place}.",
        ),
        "rainfall evacuation levee sandbags torrents drainage",
    ),
    "trial": (
        ("{person} goes on trial in {place}", "Court hears case against {person}"),
        (
            "{person} went on trial in {place} on charges of fraud at {org}.",
            "Prosecutors say {person} moved ${n2} million out of {org}.",
            "The trial in {place} is expected to last {n1} weeks.",
            "Lawyers for {person} said the charges were unfounded.",
        ),
        "prosecutors defendant verdict testimony jury indictment",
    ),
    "launch": (
        ("{org} launches satellite from {place}", "{org} rocket reaches orbit"),
        (
            "{org} launched a satellite from {place} on {weekday}.",
            "The rocket carried {n1} tonnes of cargo, mission chief {person} said.",
            "{org} plans {n3} more launches from {place} this decade.",
            "The satellite will monitor crops across {n2} countries.",
        ),
        "orbit payload booster countdown spacecraft telemetry",
    ),
    "match": (
        ("{place} beat rivals {n1}-{n2} in final", "{person} scores twice as {place} win"),
        (
            "{place} won the final {n1}-{n2} in front of {n3} fans.",
            "{person} scored twice for {place} in the second half.",
            "Coach {person} said the win was the best in the club's history.",
            "The {org} stadium in {place} was sold out.",
        ),
        "striker goalkeeper championship trophy supporters penalty",
    ),
}
_SUBJECTS = (
    "Officials",
    "Analysts",
    "Residents",
    "Local reporters",
    "Several witnesses",
    "Critics",
    "Economists",
    "Neighbours",
    "Aid groups",
    "Opposition figures",
    "Business owners",
    "Teachers",
    "Commuters",
    "Doctors",
    "Volunteers",
    "Police officers",
    "Farmers",
)
_VERBS = (
    "described",
    "questioned",
    "welcomed",
    "criticised",
    "played down",
    "pointed to",
    "warned about",
    "asked about",
    "expected",
    "doubted",
    "praised",
    "recalled",
    "complained about",
    "defended",
    "noted",
)
_ADJECTIVES = """
    slow official new long local public early late recent sudden limited broad costly
    unclear rising falling unusual modest sharp quiet open fresh partial final formal
    national regional urgent careful detailed brief repeated growing heavy
""".split()
_ADVERBS = """
    again briefly sharply quietly openly loudly firmly slowly quickly twice today
    yesterday repeatedly privately publicly cautiously angrily calmly
""".split()
_LINKS = "near beside behind against after before despite without over under".split()


def _filler(rng: random.Random) -> str:
    """A generic sentence of random parts, so that two articles rarely share five words
    in a row (as in real reporting, where only wire copies do)."""
    return (
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} the {rng.choice(_ADJECTIVES)}"
        f" {rng.choice(_NOUNS)} {rng.choice(_LINKS)} {rng.choice(_ADJECTIVES)}"
        f" {rng.choice(_NOUNS)} {rng.choice(_ADVERBS)}."
    )


_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def _name(rng: random.Random, kind: str) -> str:
    syllables = "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
        for _ in range(rng.randint(1, 2))
    )
    return (syllables + rng.choice(_ENDINGS[kind])).capitalize()


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str
    slots: dict[str, str]
    start: datetime
    topic: tuple[str, ...]


def _event(rng: random.Random, span_days: int) -> _Event:
    kind = rng.choice(sorted(_KINDS))
    slots = {
        "person": f"{_name(rng, 'person')[:1]}. {_name(rng, 'person')}",
        "person2": f"{_name(rng, 'person')[:1]}. {_name(rng, 'person')}",
        "place": _name(rng, "place"),
        "org": _name(rng, "org"),
        "n1": str(rng.randint(2, 9)),
        "n2": str(rng.randint(10, 99)),
        "n3": f"{rng.randint(1, 90) * 100:,}",
        "weekday": rng.choice(_WEEKDAYS),
        **{f"d{i}": w for i, w in enumerate(rng.sample(_NOUNS, 8), 1)},
    }
    start = START + timedelta(hours=rng.uniform(0, 24 * span_days))
    return _Event(kind=kind, slots=slots, start=start, topic=tuple(_KINDS[kind][2].split()))


_NOUNS = """
    bridge harbour school hospital market station airport factory stadium museum library
    prison refinery mine farm port warehouse depot tunnel dam highway railway clinic
    court embassy ministry council parliament garrison camp village district suburb
    valley island coast border plateau forest lake river canal reservoir pipeline
    cable tower reactor laboratory archive cathedral monastery university academy
    bakery brewery shipyard terminal quarry orchard vineyard ranch plantation mill
    convoy fleet battalion squad committee tribunal delegation consortium cartel
    syndicate cooperative federation league union coalition alliance network
    budget subsidy tariff levy pension loan bond mortgage contract licence permit
    treaty ceasefire referendum census survey audit inquiry probe lawsuit verdict
""".split()
_DETAIL = (
    "The {d1} near the {d2} in {place} was at the centre of attention.",
    "Crews were sent to the {d1} and the {d3} before noon, {person2} said.",
    "Questions were raised about the {d2} and its {d4} by {person2}.",
    "The {d3} remained closed while the {d5} was inspected.",
    "Footage showed the {d4} beside the {d6} on the edge of {place}.",
    "Access to the {d5} was restricted for {n1} hours.",
    "{person2}, who oversees the {d6}, said the {d7} would be reviewed.",
    "Around {n2} people gathered at the {d7} near the {d8}.",
    "The {org} office next to the {d8} issued a short statement.",
    "Witnesses said the {d3} and the {d6} were badly affected.",
)


def _paragraphs(rng: random.Random, event: _Event) -> list[str]:
    _, sentences, _ = _KINDS[event.kind]
    slots = event.slots
    chosen = [s.format(**slots) for s in rng.sample(sentences, 2)]
    chosen += [s.format(**slots) for s in rng.sample(_DETAIL, rng.randint(5, 8))]
    topic = " ".join(rng.sample(event.topic, 3))
    chosen.insert(2, f"Reporters saw {topic}.")
    chosen += [_filler(rng) for _ in range(rng.randint(12, 18))]
    return [" ".join(chosen[i : i + 3]) for i in range(0, len(chosen), 3)]


def articles(n: int, seed: int = 5, *, wire: float = 0.0) -> list[dict[str, str]]:
    """``n`` JSON-ready article objects (title, text, outlet, url, published); ``wire``: the
    share of events that newswire copies repeat (see the module's docstring)."""
    rng = random.Random(seed)
    wire_rng = random.Random(seed + 1)  # the wire copies never change the rest of the corpus
    span_days = max(1, -(-n // ARTICLES_PER_DAY))
    outlets = [f"{_name(rng, 'place')} {rng.choice(['Times', 'Post', 'Herald', 'Wire'])}"]
    outlets += [f"{_name(rng, 'place')} {w}" for w in ("News", "Daily", "Courier") * 20]
    out: list[dict[str, str]] = []
    events = 0
    wires = [f"{_name(wire_rng, 'place')} Newswire" for _ in range(3)]
    while len(out) < n:
        event = _event(rng, span_days)
        events += 1
        if wire and wire_rng.random() < wire:
            out += _wire_story(wire_rng, event, str(events), wires, outlets)[: n - len(out)]
        for _ in range(min(n - len(out), 60, int(rng.paretovariate(1.3)) + rng.randint(0, 4))):
            titles = _KINDS[event.kind][0]
            outlet = rng.choice(outlets)
            when = event.start + timedelta(hours=rng.uniform(0, 30))
            if out and rng.random() < 0.04:  # a wire copy of the previous article
                copy = dict(out[-1], outlet=outlet)
                copy["url"] = f"https://{outlet.lower().replace(' ', '')}.example/{len(out)}"
                out.append(copy)
                continue
            out.append(
                {
                    "title": rng.choice(titles).format(**event.slots),
                    "text": "\n\n".join(_paragraphs(rng, event)),
                    "outlet": outlet,
                    "url": f"https://{outlet.lower().replace(' ', '')}.example/{len(out)}",
                    "published": when.isoformat(),
                    "event": str(events),  # ground truth for the benchmark's own check
                }
            )
    return out


def _wire_story(
    rng: random.Random, event: _Event, label: str, wires: list[str], outlets: list[str]
) -> list[dict[str, str]]:
    """A newswire report on ``event`` and 5-30 outlets' copies of it."""
    titles = _KINDS[event.kind][0]
    wire = rng.choice(wires)
    when = event.start + timedelta(hours=rng.uniform(0, 3))
    original = {
        "title": rng.choice(titles).format(**event.slots),
        "text": "\n\n".join(_paragraphs(rng, event)),
        "outlet": wire,
        "url": f"https://{wire.lower().replace(' ', '')}.example/{label}",
        "published": when.isoformat(),
        "event": label,
    }
    story = [original]
    for i, outlet in enumerate(rng.sample(outlets, rng.randint(5, 30))):
        copy = dict(original, outlet=outlet)
        copy["url"] = f"https://{outlet.lower().replace(' ', '')}.example/wire-{label}-{i}"
        copy["published"] = (when + timedelta(hours=rng.uniform(0.2, 6))).isoformat()
        if rng.random() < 0.3:
            copy["title"] = rng.choice(titles).format(**event.slots)
        story.append(copy)
    return story


def write_dumps(n: int, folder: Path, seed: int = 5, *, wire: float = 0.0) -> Path:
    """Write the corpus as one JSONL dump per publication day (reused if present)."""
    folder = folder / (f"n{n}-s{seed}" + (f"-w{wire:g}" if wire else ""))
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[str]] = {}
    for obj in articles(n, seed, wire=wire):
        by_day.setdefault(obj["published"][:10], []).append(json.dumps(obj))
    for day, lines in by_day.items():
        (folder / f"{day}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "done").write_text("ok\n", encoding="utf-8")
    return folder
