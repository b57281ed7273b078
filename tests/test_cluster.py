"""Event clustering: events, not topics or leaders; angles attach; continuation and merges of
stored threads; names, event days, roundups; determinism."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from digest.cluster import ClusterParams, LinkParams, plan_clusters, read_articles, when
from digest.cluster.entities import scan, strip_dateline
from digest.cluster.features import Weights, features, is_roundup
from digest.cluster.when import event_day
from digest.models import Article, ClusterPlan, EventThread

Make = Callable[..., Article]

CALL_A = (
    "President Halvorsen and President Dukov spoke by phone on Thursday for over an hour, "
    "discussing the Varnia border conflict, grain exports and a possible prisoner exchange. "
    "Dukov told Halvorsen his country would not abandon its demands over Varnia, aide Petra "
    "Lind said after the phone call. Halvorsen said afterwards he was disappointed by the call."
)
CALL_B = (
    "The Dukov–Halvorsen phone call on Thursday ended without progress on the Varnia conflict. "
    "Aide Petra Lind described the hour-long conversation as candid, and said Dukov insisted "
    "on his demands over Varnia while agreeing to study a prisoner exchange."
)
TARIFF = (
    "Ostrava agreed a trade deal with President Halvorsen's administration that cuts the new "
    "import tariff on its textiles to 20 percent. Ostravan exporters of shoes and garments "
    "welcomed the tariff deal, while economists warned about transshipment rules."
)
SUMMIT = (
    "President Dukov met Chancellor Amsel in Lindau for a summit on pipeline gas prices. "
    "The two leaders signed a memorandum on gas storage and agreed to meet again in spring."
)
REACTION = (
    "Lawmakers in Varnia said on Friday that the Halvorsen-Dukov call had changed nothing. "
    "Opposition leader Mira Stoll urged the cabinet to stock fuel and medicine for a long "
    "winter, and farmers asked for loans to replant fields burnt along the border."
)


def _groups(threads: tuple[EventThread, ...], articles: list[Article]) -> set[frozenset[str]]:
    titles = {a.id: a.title for a in articles}
    return {frozenset(titles[i] for i in t.article_ids) for t in threads}


def _calls(make: Make, hours: float = 5) -> list[Article]:
    return [
        make("Dukov tells Halvorsen he will not back down", CALL_A, outlet="North", hours=hours),
        make("Halvorsen call yields no progress", CALL_B, outlet="Ledger", hours=hours - 2),
    ]


def test_same_event_joins_and_a_shared_leader_does_not(make_article: Make, now) -> None:
    articles = [
        *_calls(make_article),
        make_article("Ostrava strikes tariff deal with Halvorsen", TARIFF, hours=4),
    ]
    plan = plan_clusters(articles, (), now=now)
    assert _groups(plan.new_threads, articles) == {
        frozenset(
            {"Dukov tells Halvorsen he will not back down", "Halvorsen call yields no progress"}
        ),
        frozenset({"Ostrava strikes tariff deal with Halvorsen"}),
    }
    assert plan.extensions == ()
    assert plan.merges == ()


def test_a_reaction_the_next_day_attaches_to_the_event(make_article: Make, now) -> None:
    reaction = make_article("Varnia lawmakers brace for winter", REACTION, hours=2)
    articles = [*_calls(make_article, hours=30), reaction]
    plan = plan_clusters(articles, (), now=now)
    (thread,) = plan.new_threads
    assert len(thread.article_ids) == 3
    (why,) = [r for r in plan.reasons if r.article_id == reaction.id]
    assert why.via == "attach"  # too unlike the reports for their core; it follows them
    strict = ClusterParams(link=LinkParams(attach_threshold=1.0))
    assert len(plan_clusters(articles, (), now=now, params=strict).new_threads) == 2


def test_the_same_two_leaders_calling_again_days_later_is_a_new_event(
    make_article: Make, now
) -> None:
    monday = datetime(2026, 3, 2, 12, tzinfo=UTC)
    first = [dataclasses.replace(a, published=monday) for a in _calls(make_article)]
    again = [
        dataclasses.replace(
            a,
            id=a.id + "b",
            text=a.text.replace("Thursday", "Friday"),
            published=monday + timedelta(days=4),
        )
        for a in _calls(make_article)
    ]
    plan = plan_clusters(first + again, (), now=monday + timedelta(days=4))
    assert sorted(len(t.article_ids) for t in plan.new_threads) == [2, 2]


def test_a_later_run_extends_the_stored_thread(make_article: Make, now) -> None:
    first = make_article("Dukov tells Halvorsen he will not back down", CALL_A, hours=30)
    (thread,) = plan_clusters([first], (), now=now - timedelta(hours=30)).new_threads
    later = make_article("Halvorsen call yields no progress", CALL_B, hours=2)
    other = make_article("Dukov and Amsel sign gas memorandum in Lindau", SUMMIT, hours=1)
    plan = plan_clusters([later, other], (thread,), now=now)
    (ext,) = plan.extensions
    assert (ext.thread_id, ext.article_ids, ext.last_updated) == (
        thread.id,
        (later.id,),
        later.published,
    )
    assert [t.title for t in plan.new_threads] == ["Dukov and Amsel sign gas memorandum in Lindau"]
    (joined,) = [r for r in plan.reasons if r.article_id == later.id]
    assert joined.thread_id == thread.id
    assert joined.via in {"core", "attach"}
    assert joined.score is not None
    assert "varnia" in joined.terms


def test_a_thread_quiet_past_the_window_is_not_extended(make_article: Make, now) -> None:
    first = make_article("Dukov tells Halvorsen he will not back down", CALL_A, hours=24 * 6)
    (thread,) = plan_clusters([first], (), now=now).new_threads
    later = make_article("Halvorsen call yields no progress", CALL_B)
    plan = plan_clusters([later], (thread,), now=now, params=ClusterParams(window_days=3))
    assert plan.extensions == ()
    assert len(plan.new_threads) == 1


def test_a_thread_older_than_max_thread_days_takes_no_more_articles(
    make_article: Make, now
) -> None:
    """A thread that kept getting articles (last one an hour ago) but began 8 days ago is
    closed: it would otherwise grow for ever into later events of its kind."""
    first = make_article("Dukov tells Halvorsen he will not back down", CALL_A, hours=30)
    (thread,) = plan_clusters([first], (), now=now - timedelta(hours=30)).new_threads
    old = dataclasses.replace(thread, first_seen=now - timedelta(days=8))
    later = make_article("Halvorsen call yields no progress", CALL_B, hours=2)
    plan = plan_clusters([later], (old,), now=now, params=ClusterParams(max_thread_days=7))
    assert plan.extensions == ()
    assert len(plan.new_threads) == 1
    unbounded = plan_clusters([later], (old,), now=now, params=ClusterParams(max_thread_days=0))
    assert [e.thread_id for e in unbounded.extensions] == [thread.id]


def test_two_stored_threads_an_article_shows_to_be_one_event_merge(make_article: Make, now) -> None:
    a, b = _calls(make_article, hours=20)
    split = ClusterParams(link=LinkParams(threshold=2.0, attach_threshold=2.0))
    first, second = plan_clusters([a, b], (), now=now, params=split).new_threads
    bridge = make_article("Halvorsen and Dukov phone call: no progress", CALL_A + " " + CALL_B)
    plan = plan_clusters([bridge], (first, second), now=now)
    (merge,) = plan.merges
    assert {merge.merged_id, merge.into_id} == {first.id, second.id}
    assert merge.terms  # what the two threads shared
    apart = frozenset({frozenset({first.id, second.id})})
    assert plan_clusters([bridge], (first, second), now=now, apart=apart).merges == ()


def test_ids_are_stable_and_the_plan_deterministic(make_article: Make, now) -> None:
    articles = [make_article(f"Story {i}", f"{CALL_A} {i}", hours=i) for i in range(4)]
    first = plan_clusters(articles, (), now=now)
    again = plan_clusters(list(reversed(articles)), (), now=now)
    assert first == again
    assert all(t.id.startswith("t") and len(t.id) == 13 for t in first.new_threads)


ARREST = (
    "police arrested {who}, the {role} of the city's football team, on suspicion of drunk "
    "driving early on Sunday after a traffic stop on the coastal freeway. the team said it was "
    "aware of the arrest of {who} and was gathering information. {who} was released on bail."
)


def _desk_reports(make: Make, who: str, role: str, outlets: str, *, hours: float) -> list[Article]:
    return [
        make(
            f"{who.split()[-1]} arrested on suspicion of drunk driving",
            ARREST.format(who=who, role=role) + f" Reported by the {o} desk.",
            outlet=o,
            hours=hours - i / 10,
        )
        for i, o in enumerate(outlets)
    ]


def test_two_events_of_one_kind_with_different_people_stay_apart(make_article: Make, now) -> None:
    varga = _desk_reports(make_article, "Tomas Varga", "receiver", "ABCDEFGH", hours=20)
    brandt = _desk_reports(make_article, "Emil Brandt", "tackle", "IJ", hours=10)
    plan = plan_clusters([*varga, *brandt], (), now=now)
    assert sorted(len(t.article_ids) for t in plan.new_threads) == [2, 8]
    unguarded = ClusterParams(link=LinkParams(names_threshold=0.0))
    assert len(plan_clusters([*varga, *brandt], (), now=now, params=unguarded).new_threads) == 1


def test_different_years_in_the_lead_lower_the_score(make_article: Make, now) -> None:
    first = make_article(
        "Quake shakes Varnia", f"In March 2008 a strong earthquake {CALL_B}", hours=2
    )
    second = make_article("Quake shakes Varnia", f"In March 2013 a strong earthquake {CALL_B}")
    blocked = ClusterParams(link=LinkParams(year_penalty=0.0))
    assert len(plan_clusters([first, second], (), now=now, params=blocked).new_threads) == 2
    assert len(plan_clusters([first, second], (), now=now).new_threads) == 1


def test_a_roundup_stands_alone(make_article: Make, now) -> None:
    articles = [
        *_calls(make_article),
        make_article(
            "Markets wrap: stocks slip after the Halvorsen-Dukov call",
            CALL_B + " Stocks fell 1% and oil rose.",
            hours=1,
        ),
    ]
    plan = plan_clusters(articles, (), now=now)
    assert sorted(len(t.article_ids) for t in plan.new_threads) == [1, 2]
    for title in ("Morning briefing: what happened overnight", "10 things you need to know today"):
        assert is_roundup(title)
    assert not is_roundup("Dockers strike: ports fall silent")


def test_headlines_alone_cluster_by_centroid(make_article: Make, now) -> None:
    titles = [
        "Dockers strike at Portanza port",
        "Portanza port strike strands ships",
        "Ships queue as Portanza dockers strike",
        "Central bank holds rates",
    ]
    articles = [make_article(t, "", hours=i) for i, t in enumerate(titles)]
    plan = plan_clusters(articles, (), now=now)
    assert sorted(len(t.article_ids) for t in plan.new_threads) == [1, 3]


# ── what the clusterer reads ──────────────────────────────────────────────────────────────


def _names(article: Article) -> set[str]:
    return {t[1:] for t in features(article, Weights()).terms if t.startswith("@")}


def test_names_are_words_capitalised_in_mid_sentence(make_article: Make) -> None:
    text = (
        "Union leader G. Zolhekson met Mr. Putin and U.S. President Biden in St. Petersburg. "
        "Gov. Newsom spoke on Monday. The talks ended. Zolhekson left."
    )
    names = _names(make_article("Zolhekson meets Putin", text))
    assert {"zolhekson", "putin", "biden", "petersburg", "newsom"} <= names
    assert not names & {"union", "the", "gov", "mr", "president", "monday", "meet"}


def test_a_title_case_headline_is_not_read_as_a_string_of_names(make_article: Make) -> None:
    text = "A federal judge blocked the Texas law on Tuesday, siding with app makers."
    names = _names(make_article("Texas App Store Age Verification Law Blocked by Judge", text))
    assert names == {"texa"}  # stemmed keys
    twin = make_article("Judge blocks Texas app store age verification law", text)
    assert _names(twin) == {"texa"}


def test_the_outlets_own_name_and_the_dateline_are_not_event_terms(make_article: Make) -> None:
    text = "CORRAN, May 11 (Atlas) - Dockers walked out at Portanza, a union told Atlas."
    assert strip_dateline(text).startswith("Dockers walked out")
    terms = features(
        make_article("Dockers walk out", text, outlet="Atlas Newswire"), Weights()
    ).terms
    assert "atlas" not in terms
    assert "@atlas" not in terms
    assert "@corran" not in terms
    assert "@portanza" in terms


def test_the_event_day_is_the_day_the_lead_names() -> None:
    tuesday = date(2026, 5, 12)
    assert event_day("x", "Velmar said on Tuesday the call changed nothing.", tuesday) == tuesday
    monday = date(2026, 5, 11)
    assert event_day("x", "The call on Monday lasted an hour.", tuesday) == monday
    assert event_day("x", "Officials said yesterday.", tuesday) == monday
    assert event_day("x", "The bill is signed on Wednesday.", tuesday) == date(2026, 5, 13)
    assert event_day("x", "VELMAR, May 9 (Atlas) - Drones hit.", tuesday) == date(2026, 5, 9)
    assert event_day("Talks end", "No day is named here.", tuesday) == tuesday


def test_the_event_day_is_read_in_any_case_as_matching_ignoring_case_reads_it() -> None:
    """Lower-cased text is matched case-sensitively (faster); a text where that would read
    otherwise (the dotless i and the long s match "i" and "s" ignoring case; "İ" lower-cases
    to two characters) is matched ignoring case, as the plain pattern always was. A word
    matched so is read case-folded ("ſunday" was a KeyError)."""
    tuesday = date(2026, 5, 12)
    monday, sunday = date(2026, 5, 11), date(2026, 5, 10)
    cases = {
        "THE CALL ON MONDAY LASTED AN HOUR.": monday,
        "Signed LAST NIGHT in Corran.": monday,
        "The vote on sunday: MAY 11 was the day.": sunday,
        "The vote on ſunday.": sunday,  # the long s is an "s" ignoring case
        "İstanbul talks on Monday.": monday,
        "Talks in Dıyarbakır, and on Sunday a vote.": sunday,
        "On FRİDAY, nothing; on Monday, the call.": monday,  # (no day folds to "frİday")
    }
    for text, day in cases.items():
        assert event_day("x", text, tuesday) == day, text
        plain = [m.group(0) for m in when._REFERENCE.finditer(text)]
        assert [m.group(0).lower() for m in when._references(text)] == [p.lower() for p in plain]


def test_an_undated_article_has_no_event_day(make_article: Make) -> None:
    article = dataclasses.replace(make_article("Call", "Talks on Monday."), dated=False)
    assert features(article, Weights()).day is None


def test_sentence_openers_after_abbreviations_and_quotes() -> None:
    s = scan('Mr. Putin said: "We will" and P. Vantosen agreed.')
    assert {s.words[i] for i in s.caps} == {"mr", "putin", "we", "p", "vantosen"}
    assert {s.words[i] for i in s.opening} == {"mr", "we"}  # not after "Mr." or an initial


def test_the_plan_carries_the_batchs_document_frequencies(make_article: Make, now) -> None:
    articles = [*_calls(make_article), make_article("Ostrava deal", TARIFF, hours=4)]
    df = plan_clusters(articles, (), now=now).document_frequencies
    read = read_articles(articles, ClusterParams())
    assert df["varnia"] == sum("varnia" in f.terms for f in read.values()) == 2
    assert df["@halvorsen"] == 3


DE_CALL = (
    "Präsident Halvorsen und Präsident Dukov haben über eine Stunde lang telefoniert. Sie "
    "sprachen über den Grenzkonflikt in Varnia, Getreideexporte und einen möglichen "
    "Gefangenenaustausch. Dukov habe Halvorsen gesagt, sein Land werde seine Forderungen zu "
    "Varnia nicht aufgeben, sagte die Beraterin Petra Lind."
)
DE_TARIFF = (
    "Ostrava hat mit der Regierung von Präsident Halvorsen ein Handelsabkommen geschlossen. "
    "Der neue Einfuhrzoll auf Textilien aus Ostrava sinkt auf 20 Prozent; Exporteure von "
    "Schuhen begrüßten das Abkommen, Ökonomen warnten vor Umgehungsgeschäften."
)


def test_threads_form_across_languages_only_when_their_names_agree(make_article: Make, now) -> None:
    call = make_article(
        "Dukov tells Halvorsen he will not back down", CALL_A.replace(" on Thursday", "")
    )
    german = dataclasses.replace(
        make_article("Halvorsen und Dukov telefonieren über Varnia", DE_CALL, hours=1), lang="de"
    )
    tariff = dataclasses.replace(
        make_article("Ostrava und Halvorsen einigen sich auf Zollabkommen", DE_TARIFF, hours=1),
        lang="de",
    )
    plan = plan_clusters([call, german, tariff], (), now=now)
    assert _groups(plan.new_threads, [call, german, tariff]) == {
        frozenset({call.title, german.title}),  # the same call: its names agree
        frozenset({tariff.title}),  # shares only Halvorsen with it
    }
    # the German side's stop words and stems are German ones
    terms = features(german, Weights()).terms
    assert "telefoni" in terms  # Snowball's German stem of "telefoniert"
    assert not {"und", "sein", "die"} & terms.keys()
    # a stored German thread keeps its language for the next run
    (alone,) = plan_clusters([tariff], (), now=now).new_threads
    assert ("&lang:de", 1.0) in alone.signature


def test_a_limited_scan_reads_the_first_words_of_the_whole_text() -> None:
    text = " ".join(
        ("don't", "Halvorsen’s", "x", "grain-exports", "(Varnia)", "2026.", "a" * 9) * 300
    )
    whole = scan(text)
    for limit in (1, 7, 50, 399, 400, 401, 2100):
        part = scan(text, limit=limit)
        assert part.words == whole.words[:limit]
        assert part.caps == [i for i in whole.caps if i < limit]


def test_a_thread_nodes_weights_up_to_one_are_shared_objects() -> None:
    """A window's threads hold ~0.7M weights; those up to 1 (most: small threads) are the
    one shared object of their value, as an article's are, and every weight is the one
    ``on_grid`` gives (#16: 20 MB less at the 30th run of the growth bench)."""
    from digest.cluster import nodes
    from digest.models import PackedSignature

    weights = [0.25, 1.0, 0.0001, 2.75, 1 / nodes.STEPS, 7.123456, 0.5 + 1e-7]
    terms = tuple(f"t{i}" for i in range(len(weights)))
    at = datetime(2026, 1, 6, tzinfo=UTC)
    thread = EventThread(
        id="t1", title="A", article_ids=("a",), first_seen=at, last_updated=at,
        signature=PackedSignature.of(list(zip(terms, weights, strict=True))),
    )  # fmt: skip
    vec = nodes.thread_node(thread).vec
    assert list(vec.values()) == nodes.on_grid(weights)
    shared = set(map(id, nodes._SHARED.tolist()))
    assert [id(w) in shared for w in vec.values()] == [w <= 1.0 for w in vec.values()]
    again = nodes.thread_node(thread).vec
    assert all(a is b for a, b in zip(vec.values(), again.values(), strict=True) if a <= 1.0)


def test_signatures_are_kept_on_the_grid_and_plans_do_not_depend_on_their_order(
    make_article: Make, now
) -> None:
    """A stored thread's weights are whole 1/16384 steps (one made by an older digest, to 6
    decimals, is read onto them), so every dot product is exact: the plan is the same
    whichever order the signature lists its terms in."""
    from digest.cluster.nodes import STEPS, thread_node
    from digest.models import PackedSignature

    first, second = _calls(make_article, hours=30)
    (thread,) = plan_clusters([first, second], (), now=now - timedelta(hours=28)).new_threads
    assert all((w * STEPS).is_integer() for _, w in thread.signature)
    old = dataclasses.replace(
        thread, signature=PackedSignature.of([(t, round(w, 6)) for t, w in thread.signature])
    )
    assert old.signature != thread.signature  # (6 decimals are off the grid)
    assert dict(thread_node(old).vec) == dict(thread_node(thread).vec)
    later = [
        make_article("Varnia lawmakers say the call changed nothing", REACTION, hours=3),
        make_article("Dukov and Amsel sign gas memorandum in Lindau", SUMMIT, hours=2),
    ]
    plans = [
        plan_clusters(later, (dataclasses.replace(old, signature=order),), now=now)
        for order in (old.signature, PackedSignature.of(list(old.signature)[::-1]))
    ]
    plans.append(plan_clusters(later, (thread,), now=now))

    def exactly(plan: ClusterPlan) -> tuple[object, ...]:
        grown = [(e.thread_id, e.article_ids, dict(e.signature)) for e in plan.extensions]
        return plan.new_threads, plan.merges, plan.reasons, grown

    assert plans[0].extensions  # (the reaction joined the stored thread)
    assert exactly(plans[0]) == exactly(plans[1]) == exactly(plans[2])


def test_a_clusters_sums_keep_their_heaviest_terms_ties_by_the_larger_term() -> None:
    """``link.top_entries`` keeps what sorting by (weight, term), heaviest first, kept."""
    import operator
    import random

    from digest.cluster.link import top_entries
    from digest.cluster.nodes import STEPS

    rng = random.Random(16)  # noqa: S311 (test data)
    for _ in range(300):
        size, keep = rng.randint(0, 60), rng.randint(1, 40)
        steps = rng.choice((3, 8, 1000))  # few distinct weights: many ties at the cut
        v = {f"t{rng.randint(0, 99):02d}": rng.randint(1, steps) / STEPS for _ in range(size)}
        expected = sorted(v.items(), key=operator.itemgetter(1, 0), reverse=True)[:keep]
        assert top_entries(v, keep) == dict(expected)
