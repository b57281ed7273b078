"""Source health: the pure decider and state transitions, the store table, ``digest sources``."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import main
from digest.errors import FetchError, GoneError, ParseError, RetryLaterError, SourceSkipped
from digest.health import (
    HealthParams,
    backoff_seconds,
    current,
    fresh_state,
    health_table,
    label,
    next_state,
    plan_health,
    schedule,
    skip_reason,
)
from digest.models import (
    FetchInfo,
    NotModified,
    SourceOk,
    SourceResult,
    SourceSpec,
    SourceState,
    SourceStatus,
    Validators,
)
from digest.schema import MIGRATIONS
from digest.store import Store
from tests.conftest import NOW

PARAMS = HealthParams(backoff_base_seconds=600, backoff_max_seconds=3600, quiet_after_days=7)
FEED = SourceSpec(name="courier", kind="feed", location="https://courier.example/rss")
LATER = NOW + timedelta(hours=1)


def status(kind: str = "new", new: int = 2, seen: int = 1, error: str | None = None):
    return SourceStatus(name="courier", kind="feed", status=kind, new=new, seen=seen, error=error)  # type: ignore[arg-type]


def ok(url: str = FEED.location, etag: str | None = '"v1"') -> SourceResult:
    info = FetchInfo(url=url, validators=Validators(etag=etag, last_modified="Mon, 02 Mar 2026"))
    return SourceResult(source=FEED, value=SourceOk(items=()), fetch=info)


def failed(error: Exception) -> SourceResult:
    return SourceResult(source=FEED, value=error)  # type: ignore[arg-type]


def step(state: SourceState | None, result: SourceResult, st: SourceStatus, now=NOW):
    return next_state(FEED, state, result, st, now=now, params=PARAMS)


# ── the decider ──────────────────────────────────────────────────────────────────────────


def test_a_new_source_is_fetched() -> None:
    assert skip_reason(None, NOW) is None
    assert skip_reason(fresh_state(FEED, NOW), NOW) is None


def test_a_backing_off_source_is_skipped_until_its_time() -> None:
    state = replace(fresh_state(FEED, NOW), failures=2, backoff_until=LATER)
    assert skip_reason(state, NOW) == "backing off until 2026-03-02 23:00 UTC after 2 failed runs"
    assert skip_reason(state, LATER - timedelta(seconds=1)) is not None
    assert skip_reason(state, LATER) is None


def test_a_disabled_source_is_skipped_and_says_how_to_retry() -> None:
    state = replace(fresh_state(FEED, NOW), disabled=True, last_attempt=NOW, last_error="gone")
    assert skip_reason(state, NOW + timedelta(days=400)) == (
        "disabled since 2026-03-02 22:00 UTC after: gone"
        " (to retry: digest sources --reset 'courier')"
    )


def test_a_changed_url_or_kind_in_the_config_starts_afresh() -> None:
    state = replace(fresh_state(FEED, NOW), disabled=True)
    assert current(FEED, state) is state
    assert current(replace(FEED, location="https://courier.example/new"), state) is None
    assert current(replace(FEED, kind="page"), state) is None


@pytest.mark.parametrize(
    ("failures", "retry_after", "seconds"),
    [(1, None, 600), (2, None, 1200), (3, None, 2400), (4, None, 3600), (500, None, 3600)],
)
def test_backoff_doubles_up_to_the_cap(failures, retry_after, seconds) -> None:
    assert backoff_seconds(failures, PARAMS, retry_after) == seconds


def test_retry_after_replaces_the_backoff_but_is_capped() -> None:
    assert backoff_seconds(1, PARAMS, 120) == 120
    assert backoff_seconds(5, PARAMS, 10) == 10
    assert backoff_seconds(1, PARAMS, 10**9) == 3600


# ── the schedule of worker rounds (next_check_at) ────────────────────────────────────────

SCHED = replace(PARAMS, min_check_seconds=900, max_check_seconds=86400)


def checked(state: SourceState | None, result: SourceResult, st: SourceStatus, now=NOW):
    """One worker round's check: the health step, then the schedule."""
    after = next_state(FEED, state, result, st, now=now, params=SCHED)
    return schedule(state, after, now=now, params=SCHED)


def test_a_feed_that_publishes_rarely_is_checked_less_and_less_often() -> None:
    first = checked(None, ok(), status())
    assert (first.check_interval_seconds, first.next_check_at) == (900, NOW + timedelta(minutes=15))
    state, intervals = first, []
    for n in range(1, 9):  # nothing new at each check
        state = checked(state, ok(), status("seen", 0, 3), NOW + timedelta(hours=n))
        intervals.append(state.check_interval_seconds)
    assert intervals == [1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]  # up to max
    assert state.next_check_at == NOW + timedelta(hours=8, seconds=86400)
    # then one new item, two days after the last: its interval is that gap (capped)
    two_days = NOW + timedelta(days=2)
    assert checked(first, ok(), status("new", 1, 0), two_days).check_interval_seconds == 86400
    hours = checked(first, ok(), status("new", 1, 0), NOW + timedelta(hours=5))
    assert hours.check_interval_seconds == 5 * 3600


def test_a_feed_that_publishes_often_is_checked_at_the_minimum_interval() -> None:
    state = checked(None, ok(), status())
    later = checked(state, ok(), status("new", 12, 0), NOW + timedelta(hours=1))
    assert later.check_interval_seconds == 900  # 5 minutes between items: the minimum


def test_a_failing_feed_backs_off_instead_of_following_its_schedule() -> None:
    good = checked(None, ok(), status())
    bad = checked(good, failed(FetchError("feed 'courier'", "HTTP 500")), status("error"), LATER)
    assert bad.next_check_at is None  # its back-off decides
    assert bad.backoff_until == LATER + timedelta(seconds=600)
    assert skip_reason(bad, LATER + timedelta(seconds=599)) is not None
    assert bad.check_interval_seconds == good.check_interval_seconds
    # a round that skipped it (backing off) leaves it as it was
    skipped = next_state(FEED, bad, failed(SourceSkipped("x", "backing off")), status("error"),
                         now=LATER + timedelta(minutes=1), params=SCHED)  # fmt: skip
    assert schedule(bad, skipped, now=LATER + timedelta(minutes=1), params=SCHED) == bad


# ── transitions ──────────────────────────────────────────────────────────────────────────


def test_success_records_validators_items_and_time() -> None:
    state = step(None, ok(), status())
    assert state.etag == '"v1"'
    assert state.last_success == state.last_attempt == state.first_seen == NOW
    assert (state.items_new, state.items_seen, state.failures) == (2, 1, 0)
    assert state.last_new_at == NOW


def test_failures_count_up_back_off_and_keep_what_was_stored() -> None:
    good = step(None, ok(), status())
    once = step(good, failed(FetchError("feed 'courier'", "HTTP 500")), status("error"), LATER)
    assert once.failures == 1
    assert once.backoff_until == LATER + timedelta(seconds=600)
    assert once.last_error == "HTTP 500: feed 'courier'"
    assert (once.etag, once.last_success, once.url) == ('"v1"', NOW, FEED.location)
    twice = step(once, failed(ParseError("x", "bad")), status("error"), LATER)
    assert twice.failures == 2
    assert twice.backoff_until == LATER + timedelta(seconds=1200)
    recovered = step(twice, ok(), status(), LATER)
    assert (recovered.failures, recovered.backoff_until, recovered.last_error) == (0, None, None)


def test_gone_disables_and_retry_after_sets_the_wait() -> None:
    gone = step(None, failed(GoneError("x")), status("error"))
    assert gone.disabled
    assert gone.backoff_until is None
    busy = step(None, failed(RetryLaterError("x", retry_after_seconds=90)), status("error"))
    assert busy.backoff_until == NOW + timedelta(seconds=90)
    assert not busy.disabled


def test_a_skipped_source_keeps_its_state() -> None:
    state = replace(fresh_state(FEED, NOW), failures=3, backoff_until=LATER)
    assert step(state, failed(SourceSkipped("x", "backing off")), status("error")) == state


def test_a_permanent_redirect_updates_the_url_and_304_keeps_validators() -> None:
    moved = step(None, ok(url="https://courier.example/feed.xml"), status())
    assert moved.url == "https://courier.example/feed.xml"
    assert moved.configured_url == FEED.location
    bare = FetchInfo(url=moved.url, validators=Validators())
    same = step(
        moved, SourceResult(source=FEED, value=NotModified(), fetch=bare), status("seen", 0, 0)
    )
    assert same.etag == '"v1"'
    assert same.last_new_at == NOW  # nothing new since the first run


def test_quiet_feeds_are_flagged_after_quiet_after_days() -> None:
    state = step(None, ok(), status())
    results, statuses = [ok()], [status("not modified", 0, 0)]
    _, (fresh,) = plan_health({"courier": state}, results, statuses, now=LATER, params=PARAMS)
    assert fresh.quiet_since is None
    week = NOW + timedelta(days=8)
    (stored,), (quiet,) = plan_health(
        {"courier": state}, results, statuses, now=week, params=PARAMS
    )
    assert quiet.quiet_since == NOW
    assert quiet.last_success == week
    assert stored.last_new_at == NOW


def test_dumps_have_no_health() -> None:
    dump = SourceSpec(name="d.txt", kind="dump", location="/d.txt")
    result = SourceResult(source=dump, value=SourceOk(items=()))
    st = SourceStatus(name="d.txt", kind="dump", status="seen")
    assert plan_health({}, [result], [st], now=NOW, params=PARAMS) == ((), (st,))


@pytest.mark.parametrize(
    ("changes", "spec_changes", "expected"),
    [
        ({}, {}, "ok"),
        ({"failures": 1}, {}, "failing"),
        ({"failures": 1, "backoff_until": LATER}, {}, "backing off"),
        ({"disabled": True}, {}, "disabled"),
        ({"last_new_at": NOW - timedelta(days=9)}, {}, "quiet"),
        ({"next_check_at": LATER}, {}, "not due"),
        ({"next_check_at": NOW}, {}, "ok"),
        ({"last_new_at": NOW - timedelta(days=9)}, {"kind": "page"}, "ok"),
        ({}, {"enabled": False}, "off in config"),
    ],
)
def test_labels(changes, spec_changes, expected) -> None:
    spec = replace(FEED, **spec_changes)
    state = replace(fresh_state(spec, NOW - timedelta(days=30)), **{"last_new_at": NOW, **changes})
    assert label(spec, state, now=NOW, params=PARAMS) == expected
    assert label(spec, None, now=NOW, params=PARAMS) in {"not yet run", "off in config"}


def test_health_table_lines_up() -> None:
    state = replace(step(None, ok(), status()), failures=0)
    other = replace(FEED, name="gazette-with-a-long-name", location="https://g.example/atom")
    broken = replace(fresh_state(other, NOW), failures=3, last_error="HTTP 500: feed 'gazette'")
    lines = health_table(
        [FEED, other], {"courier": state, other.name: broken}, now=NOW, params=PARAMS
    )
    assert lines[0].split() == [
        "name",
        "kind",
        "status",
        "last",
        "success",
        "new",
        "seen",
        "fails",
        "last",
        "error",
    ]
    assert lines[1].split()[:3] == ["courier", "feed", "ok"]
    assert lines[2].endswith("3  HTTP 500: feed 'gazette'")
    assert len({line.index("feed") for line in lines[1:]}) == 1


# ── store ────────────────────────────────────────────────────────────────────────────────


def test_source_states_round_trip_and_reset(tmp_path: Path) -> None:
    state = replace(
        step(None, ok(), status()), failures=2, backoff_until=LATER, disabled=True, last_error="e"
    )
    with Store(tmp_path / "s.sqlite3") as store:
        store.save_source_states([state])
        assert store.source_states() == {"courier": state}
        assert store.reset_source("courier")
        assert not store.reset_source("nobody")
        after = store.source_states()["courier"]
    assert (after.failures, after.backoff_until, after.disabled, after.last_error) == (
        0,
        None,
        False,
        None,
    )
    assert after.etag == state.etag


def test_a_version_1_store_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO meta (key, value) VALUES ('n_docs', '7')")
    db.close()
    with Store(path) as store:
        assert store.version == len(MIGRATIONS)
        assert store.source_states() == {}
        assert store.vocabulary().n_docs == 7


# ── digest sources ───────────────────────────────────────────────────────────────────────


def test_digest_sources_prints_health_and_resets(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(
        '[store]\npath = "db.sqlite3"\n'
        '[[sources]]\nname = "courier"\nkind = "feed"\nurl = "https://courier.example/rss"\n'
        '[[sources]]\nname = "new-one"\nkind = "page"\nurl = "https://pages.example/a"\n',
        encoding="utf-8",
    )
    broken = replace(
        step(None, ok(), status()), failures=1, backoff_until=LATER, last_error="HTTP 500: x"
    )
    with Store(tmp_path / "db.sqlite3") as store:
        store.save_source_states([broken])
    runner = CliRunner()
    shown = runner.invoke(main, ["sources", "--config", str(config), "--now", NOW.isoformat()])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[1].split()[:4] == ["courier", "feed", "backing", "off"]
    assert lines[1].endswith("HTTP 500: x")
    assert lines[2].split()[:5] == ["new-one", "page", "not", "yet", "run"]
    reset = runner.invoke(main, ["sources", "--config", str(config), "--reset", "courier"])
    assert reset.exit_code == 0, reset.output
    assert "reset courier: it is fetched on the next run" in reset.output
    unknown = runner.invoke(main, ["sources", "--config", str(config), "--reset", "nobody"])
    assert unknown.exit_code == 2
    assert "no stored state for 'nobody'" in unknown.output
