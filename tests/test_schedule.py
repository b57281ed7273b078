"""schedule.py as pure functions: cron triggers across DST in Europe/Berlin, catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.schedule import (
    crontab_weekdays,
    fire_times,
    last_fire_time,
    make_trigger,
    owed_edition,
    repeats_wall_time,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_seven_am_stays_seven_am_across_the_spring_change():
    trigger = make_trigger("0 7 * * *", BERLIN)
    fires = fire_times(trigger, utc(2026, 3, 27, 12), 3)
    assert [f.astimezone(UTC) for f in fires] == [
        utc(2026, 3, 28, 6),  # CET, UTC+1
        utc(2026, 3, 29, 5),  # CEST from 29 March, UTC+2
        utc(2026, 3, 30, 5),
    ]
    assert {f.astimezone(BERLIN).hour for f in fires} == {7}


def test_seven_am_stays_seven_am_across_the_autumn_change():
    trigger = make_trigger("0 7 * * *", BERLIN)
    fires = fire_times(trigger, utc(2026, 10, 24, 12), 2)
    assert [f.astimezone(UTC) for f in fires] == [utc(2026, 10, 25, 6), utc(2026, 10, 26, 6)]


def test_get_next_fire_time_directly_across_the_change():
    """The APScheduler call itself: previous fire time + now, as its own tests do."""
    trigger = make_trigger("0 7 * * *", BERLIN)
    previous = datetime(2026, 3, 28, 7, tzinfo=BERLIN)
    nxt = trigger.get_next_fire_time(previous, previous)
    assert nxt.astimezone(UTC) == utc(2026, 3, 29, 5)
    assert nxt.astimezone(BERLIN).strftime("%H:%M %Z") == "07:00 CEST"


def test_a_time_that_does_not_exist_fires_an_hour_later():
    trigger = make_trigger("30 2 * * *", BERLIN)
    (spring,) = fire_times(trigger, utc(2026, 3, 28, 12), 1)
    assert spring.astimezone(UTC) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST: 02:30 is skipped


def test_a_repeated_time_fires_twice_and_the_second_is_recognised():
    trigger = make_trigger("30 2 * * *", BERLIN)
    first, second, third = fire_times(trigger, utc(2026, 10, 24, 12), 3)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)  # CEST, then CET
    assert repeats_wall_time(second, first, BERLIN)
    assert not repeats_wall_time(first, utc(2026, 10, 24, 0, 30), BERLIN)
    assert not repeats_wall_time(third, second, BERLIN)
    assert not repeats_wall_time(first, None, BERLIN)
    assert not repeats_wall_time(first, first, BERLIN)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("sat,sun", "sun,sat"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
    ],
)
def test_crontab_weekdays_mean_what_crontab_means(field, expected):
    assert crontab_weekdays(field) == expected


def test_weekday_numbers_follow_crontab_not_apscheduler():
    trigger = make_trigger("0 7 * * 1-5", BERLIN)  # crontab: Monday..Friday
    friday = datetime(2026, 3, 6, 12, tzinfo=BERLIN)
    (nxt,) = fire_times(trigger, friday, 1)
    assert nxt.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 07:00"
    (sunday,) = fire_times(make_trigger("0 7 * * 0", BERLIN), friday, 1)
    assert sunday.astimezone(BERLIN).strftime("%a") == "Sun"


def test_six_fields_have_seconds_first():
    trigger = make_trigger("*/20 * * * * *", "UTC")
    assert fire_times(trigger, utc(2026, 1, 1, 0, 0, 5), 3) == (
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 40),
        utc(2026, 1, 1, 0, 1, 0),
    )


@pytest.mark.parametrize("cron", ["0 7 * *", "0 25 * * *", "0 7 * * funday", "a b c d e"])
def test_bad_cron_is_a_value_error_naming_it(cron):
    with pytest.raises(ValueError, match=r"cron|day of week"):
        make_trigger(cron, BERLIN)


def test_last_fire_time_is_the_slot_just_passed():
    trigger = make_trigger("0 7 * * *", BERLIN)
    assert last_fire_time(trigger, utc(2026, 3, 3, 6, 0)) == utc(2026, 3, 3, 6, 0)  # exactly on it
    assert last_fire_time(trigger, utc(2026, 3, 3, 5, 59)) == utc(2026, 3, 2, 6, 0)
    yearly = make_trigger("0 7 1 1 *", BERLIN)
    assert last_fire_time(yearly, utc(2026, 3, 3)) == utc(2026, 1, 1, 6, 0)


# ── owed_edition: the catch-up decision ──────────────────────────────────────────────────

DAILY = make_trigger("0 7 * * *", BERLIN)
SLOT_MON = utc(2026, 3, 2, 6)  # 07:00 CET
SLOT_TUE = utc(2026, 3, 3, 6)


def test_nothing_is_owed_when_the_last_slot_was_served():
    assert owed_edition(SLOT_TUE, utc(2026, 3, 3, 9), DAILY) is None


def test_a_missed_slot_is_owed():
    assert owed_edition(SLOT_MON, utc(2026, 3, 3, 9), DAILY) == SLOT_TUE


def test_many_missed_slots_owe_one_edition_the_latest():
    assert owed_edition(SLOT_MON, utc(2026, 3, 9, 9), DAILY) == utc(2026, 3, 9, 6)


def test_before_the_next_slot_nothing_is_owed():
    assert owed_edition(SLOT_MON, utc(2026, 3, 3, 5, 59), DAILY) is None


def test_an_empty_ledger_owes_nothing():
    assert owed_edition(None, utc(2026, 3, 3, 9), DAILY) is None


def test_owed_across_the_spring_change():
    before = utc(2026, 3, 28, 6)  # Saturday 07:00 CET
    assert owed_edition(before, utc(2026, 3, 29, 8), DAILY) == utc(2026, 3, 29, 5)  # 07:00 CEST
