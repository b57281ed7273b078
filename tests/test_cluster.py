"""Event clustering: events, not topics; continuation of stored threads; determinism."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from digest.cluster import ClusterParams, article_terms, plan_clusters
from digest.models import Article, EventThread

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


def _groups(plan_threads: tuple[EventThread, ...], articles: list[Article]) -> set[frozenset[str]]:
    titles = {a.id: a.title for a in articles}
    return {frozenset(titles[i] for i in t.article_ids) for t in plan_threads}


def test_same_event_joins_and_shared_names_do_not(make_article: Make, now) -> None:
    articles = [
        make_article(
            "Dukov tells Halvorsen he will not back down", CALL_A, outlet="North Post", hours=5
        ),
        make_article(
            "Halvorsen call yields no progress on Varnia", CALL_B, outlet="Daily Ledger", hours=3
        ),
        make_article(
            "Ostrava strikes tariff deal with Halvorsen", TARIFF, outlet="Daily Ledger", hours=4
        ),
    ]
    plan = plan_clusters(articles, (), now=now)
    assert _groups(plan.new_threads, articles) == {
        frozenset(
            {
                "Dukov tells Halvorsen he will not back down",
                "Halvorsen call yields no progress on Varnia",
            }
        ),
        frozenset({"Ostrava strikes tariff deal with Halvorsen"}),
    }
    assert plan.extensions == ()


def test_different_meetings_of_one_leader_on_different_days_stay_apart(
    make_article: Make, now
) -> None:
    articles = [
        make_article("Dukov tells Halvorsen he will not back down", CALL_A, hours=80),
        make_article("Dukov and Amsel sign gas memorandum in Lindau", SUMMIT, hours=1),
    ]
    assert len(plan_clusters(articles, (), now=now).new_threads) == 2


def test_a_later_run_extends_the_stored_thread(make_article: Make, now) -> None:
    first = make_article("Dukov tells Halvorsen he will not back down", CALL_A, hours=30)
    (thread,) = plan_clusters([first], (), now=now - timedelta(hours=30)).new_threads
    later = make_article("Halvorsen call yields no progress on Varnia", CALL_B, hours=2)
    other = make_article("Dukov and Amsel sign gas memorandum in Lindau", SUMMIT, hours=1)
    plan = plan_clusters([later, other], (thread,), now=now)
    (ext,) = plan.extensions
    assert ext.thread_id == thread.id
    assert ext.article_ids == (later.id,)
    assert ext.last_updated == later.published
    assert [t.title for t in plan.new_threads] == ["Dukov and Amsel sign gas memorandum in Lindau"]


def test_a_thread_quiet_past_the_window_is_not_extended(make_article: Make, now) -> None:
    first = make_article("Dukov tells Halvorsen he will not back down", CALL_A, hours=24 * 6)
    (thread,) = plan_clusters([first], (), now=now).new_threads
    later = make_article("Halvorsen call yields no progress on Varnia", CALL_B)
    plan = plan_clusters([later], (thread,), now=now, params=ClusterParams(window_days=3))
    assert plan.extensions == ()
    assert len(plan.new_threads) == 1


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
ARREST_MORE = (
    "{who} of the city's football team faces a drunk driving charge after the arrest on "
    "the coastal freeway. police said {who} failed a field sobriety test; the team declined to "
    "comment on whether {who} will play."
)


def _arrests(
    make: Make, who: str, role: str, hours: float, outlet: str = "Test Wire"
) -> list[Article]:
    return [
        make(
            f"{who} arrested on suspicion of drunk driving",
            ARREST.format(who=who, role=role),
            hours=hours,
            outlet=outlet,
        ),
        make(
            f"{who} charged after drunk driving arrest",
            ARREST_MORE.format(who=who),
            hours=hours - 1,
            outlet=outlet,
        ),
    ]


def test_two_events_of_one_kind_with_different_people_stay_apart(make_article: Make, now) -> None:
    articles = _arrests(make_article, "Tomas Varga", "receiver", 9) + _arrests(
        make_article, "Emil Brandt", "tackle", 6
    )
    plan = plan_clusters(articles, (), now=now, params=ClusterParams(similarity_threshold=2.0))
    groups = {frozenset(t.article_ids) for t in plan.new_threads}
    assert groups == {frozenset(a.id for a in articles[:2]), frozenset(a.id for a in articles[2:])}
    lax = ClusterParams(similarity_threshold=2.0, merge_name_threshold=0.0, merge_max_size=9)
    assert len(plan_clusters(articles, (), now=now, params=lax).new_threads) < 4


def test_a_continuing_story_with_the_same_people_merges(make_article: Make, now) -> None:
    articles = _arrests(make_article, "Tomas Varga", "receiver", 9) + _arrests(
        make_article, "Tomas Varga", "receiver", 6, "Daily Ledger"
    )
    plan = plan_clusters(articles, (), now=now, params=ClusterParams(similarity_threshold=2.0))
    assert [len(t.article_ids) for t in plan.new_threads] == [4]


def test_different_years_in_the_lead_lower_the_score(make_article: Make, now) -> None:
    first = make_article(
        "Quake shakes Varnia", f"In March 2008 a strong earthquake {CALL_B}", hours=2
    )
    second = make_article("Quake shakes Varnia", f"In March 2013 a strong earthquake {CALL_B}")
    blocked = ClusterParams(year_penalty=0.0, merge_threshold=1.0)
    assert len(plan_clusters([first, second], (), now=now, params=blocked).new_threads) == 2
    assert len(plan_clusters([first, second], (), now=now).new_threads) == 1


def test_names_and_years_survive_in_the_stored_signature(make_article: Make, now) -> None:
    first = make_article("Varga arrested", ARREST.format(who="Tomas Varga", role="receiver"))
    (thread,) = plan_clusters([first], (), now=now).new_threads
    marks = {term[0] for term, _ in thread.signature}
    assert {"@"} <= marks


_ARRESTED = "{who} arrested on suspicion of drunk driving"


def _desk_reports(
    make: Make, who: str, role: str, outlets: str, *, hours: float, title: str = _ARRESTED
) -> list[Article]:
    """One ARREST report of ``who`` per outlet desk, a few minutes apart from ``hours`` ago
    (``title``: "{who}" is the surname, "{o}" the outlet)."""
    return [
        make(
            title.format(who=who.split()[-1], o=o),
            ARREST.format(who=who, role=role) + f" Reported by the {o} desk.",
            outlet=o,
            hours=hours - i / 10,
        )
        for i, o in enumerate(outlets)
    ]


COURT = (
    "Tomas Varga, the receiver of the city's football team, appeared before judge Ilse Moreau "
    "on Monday and pleaded not guilty to drunk driving after his arrest on the coastal freeway. "
    "His lawyer Karl Weiss asked for a jury trial; the drunk driving hearing resumes in May."
)


def test_a_long_run_gives_small_threads_their_second_look_as_it_goes(
    make_article: Make, now
) -> None:
    # five reports of an arrest, then a court hearing that opens a thread of its own and is
    # copied by five more outlets: looked at again only at the end of the run, both threads
    # have grown past merge_max_size and stay apart; looked at as the run goes (as separate
    # runs would), the hearing joins the arrest while it is small and its copies follow it
    arrest = _desk_reports(make_article, "Tomas Varga", "receiver", "ABCDE", hours=20)
    court = [
        make_article(
            f"Varga pleads not guilty ({o})",
            f"{COURT} Reported by the {o} desk.",
            outlet=o,
            hours=9 - i / 10,
        )
        for i, o in enumerate("FGHIJK")
    ]
    articles = arrest + court
    params = ClusterParams(merge_name_threshold=0.0)
    at_end = plan_clusters(articles, (), now=now, params=params)
    assert sorted(len(t.article_ids) for t in at_end.new_threads) == [5, 6]
    as_it_goes = dataclasses.replace(params, sweep_articles=len(arrest) + 1)
    (thread,) = plan_clusters(articles, (), now=now, params=as_it_goes).new_threads
    assert set(thread.article_ids) == {a.id for a in articles}


def test_names_after_initials_and_titles_are_names(make_article: Make) -> None:
    text = (
        "Union leader G. Zolhekson met Mr. Putin and U.S. President Biden in St. Petersburg. "
        "Gov. Newsom spoke. The talks ended."
    )
    terms = article_terms(make_article("", text), ClusterParams())
    names = {t[1:] for t in terms if t.startswith("@")}
    assert {"zolhekson", "putin", "president", "biden", "petersburg", "newsom"} <= names
    assert not names & {"union", "the", "gov", "mr"}  # sentence openers and titles


def test_a_big_thread_does_not_take_in_an_event_of_its_kind_sharing_no_names(
    make_article: Make, now
) -> None:
    varga = _desk_reports(
        make_article, "Tomas Varga", "receiver", "ABCDEFGH", hours=20, title=f"{_ARRESTED} ({{o}})"
    )
    brandt = make_article(
        "Brandt arrested on suspicion of drunk driving",
        ARREST.format(who="Emil Brandt", role="tackle"),
        outlet="I",
        hours=10,
    )
    plan = plan_clusters([*varga, brandt], (), now=now)
    assert sorted(len(t.article_ids) for t in plan.new_threads) == [1, 8]
    unguarded = ClusterParams(join_name_threshold=0.0, merge_name_threshold=0.0)
    assert len(plan_clusters([*varga, brandt], (), now=now, params=unguarded).new_threads) == 1


def test_a_small_thread_grown_by_merges_is_a_thread_of_its_own(make_article: Make, now) -> None:
    # Brandt's arrest: one thread of seven copies. Varga's arrest of the same kind: two
    # copies open a thread, three follow-up reports open threads of their own (too unlike
    # to join, alike enough to merge). The second look gathers the follow-ups into the
    # Varga thread; grown past merge_max_size, it is a thread in its own right and is not
    # offered on to Brandt's (with names giving no evidence, as in lower-case text)
    brandt = _desk_reports(make_article, "Emil Brandt", "tackle", "ABCDEFG", hours=30)
    varga = [
        make_article(
            "Varga arrested on suspicion of drunk driving",
            ARREST.format(who="Tomas Varga", role="receiver"),
            outlet=o,
            hours=20 - i / 10,
        )
        for i, o in enumerate("HI")
    ] + [
        make_article(
            f"Varga charged ({o})",
            ARREST_MORE.format(who="Tomas Varga") + f" {o} desk.",
            outlet=o,
            hours=10 - i / 10,
        )
        for i, o in enumerate("JKL")
    ]
    params = ClusterParams(similarity_threshold=0.8, merge_threshold=0.25, merge_name_threshold=0.0)
    plan = plan_clusters(brandt + varga, (), now=now, params=params)
    groups = {frozenset(t.article_ids) for t in plan.new_threads}
    assert groups == {frozenset(a.id for a in brandt), frozenset(a.id for a in varga)}
