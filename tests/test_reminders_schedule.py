"""The reminder schedule: pure functions, walked through weekends and daylight saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.deadline import DayError, deadline_problem, parse_day, parse_deadline
from bot.reminders.schedule import (
    days_left,
    deadline_end,
    due_reminder,
    in_sending_hours,
    next_reminder,
    reminder_key,
    reminder_times,
)

BERLIN = ZoneInfo("Europe/Berlin")
NINE = time(9, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def in_utc(schedule: list[tuple[int, datetime]]) -> list[tuple[int, datetime]]:
    return [(offset, moment.astimezone(UTC)) for offset, moment in schedule]


def test_reminders_are_at_send_at_local_time_days_before_the_deadline() -> None:
    schedule = reminder_times(date(2027, 6, 30), (14, 7, 3, 1), NINE, True, BERLIN)  # a Wednesday
    assert [(o, m.date(), m.time()) for o, m in schedule] == [
        (14, date(2027, 6, 16), NINE),
        (7, date(2027, 6, 23), NINE),
        (3, date(2027, 6, 25), NINE),  # Sunday the 27th moves to Friday the 25th
        (1, date(2027, 6, 29), NINE),
    ]
    assert all(m.tzinfo is BERLIN for _, m in schedule)


def test_weekend_reminders_move_to_friday_and_days_that_meet_give_one() -> None:
    monday = date(2027, 3, 8)
    moved = reminder_times(monday, (3, 2, 1), NINE, True, BERLIN)
    assert [(o, m.date()) for o, m in moved] == [(1, date(2027, 3, 5))]  # Fri, Sat, Sun → Friday
    kept = reminder_times(monday, (3, 2, 1), NINE, False, BERLIN)
    assert [m.date().weekday() for _, m in kept] == [4, 5, 6]


def test_deadline_on_a_sunday_is_reminded_on_the_friday_before() -> None:
    schedule = reminder_times(date(2027, 3, 14), (0,), NINE, True, BERLIN)
    assert [(o, m.date()) for o, m in schedule] == [(0, date(2027, 3, 12))]


def test_deadline_just_after_the_switch_to_summer_time() -> None:
    # Europe/Berlin switches to CEST on Sunday 28 March 2027: 09:00 is 08:00 UTC before, 07:00
    # after.
    schedule = reminder_times(date(2027, 3, 30), (14, 7, 3, 1, 0), NINE, True, BERLIN)
    assert in_utc(schedule) == [
        (14, utc(2027, 3, 16, 8)),
        (7, utc(2027, 3, 23, 8)),
        (3, utc(2027, 3, 26, 8)),  # Saturday the 27th → Friday, still winter time
        (1, utc(2027, 3, 29, 7)),
        (0, utc(2027, 3, 30, 7)),
    ]
    assert deadline_end(date(2027, 3, 30), BERLIN) == utc(2027, 3, 30, 22)


def test_deadline_just_after_the_switch_back_to_winter_time() -> None:
    # Back to CET on Sunday 31 October 2027.
    schedule = reminder_times(date(2027, 11, 2), (7, 3, 1, 0), NINE, True, BERLIN)
    assert in_utc(schedule) == [
        (7, utc(2027, 10, 26, 7)),
        (3, utc(2027, 10, 29, 7)),
        (1, utc(2027, 11, 1, 8)),
        (0, utc(2027, 11, 2, 8)),
    ]
    assert deadline_end(date(2027, 11, 2), BERLIN) == utc(2027, 11, 2, 23)


def test_send_at_in_the_hour_the_clocks_skip_or_repeat_still_gives_one_moment() -> None:
    spring = reminder_times(date(2027, 3, 28), (0,), time(2, 30), False, BERLIN)
    autumn = reminder_times(date(2027, 10, 31), (0,), time(2, 30), False, BERLIN)
    assert in_utc(spring) == [(0, utc(2027, 3, 28, 1, 30))]  # 02:30 does not exist: 03:30 CEST
    assert in_utc(autumn) == [(0, utc(2027, 10, 31, 0, 30))]  # the first of the two 02:30s


def test_after_downtime_only_the_latest_missed_reminder_is_due() -> None:
    deadline = date(2027, 3, 30)
    schedule = reminder_times(deadline, (14, 7, 3, 1, 0), NINE, True, BERLIN)
    opened = utc(2027, 3, 1, 12)
    assert due_reminder(schedule, utc(2027, 3, 16, 7, 59), opened, deadline, BERLIN) is None
    assert due_reminder(schedule, utc(2027, 3, 16, 8), opened, deadline, BERLIN) == schedule[0]
    later = due_reminder(schedule, utc(2027, 3, 29, 10), opened, deadline, BERLIN)
    assert later is not None and later[0] == 1  # 14, 7, 3 and 1 were missed: only 1 is due


def test_nothing_is_due_after_the_deadline_or_before_since() -> None:
    deadline = date(2027, 3, 30)
    schedule = reminder_times(deadline, (14, 7, 3, 1, 0), NINE, True, BERLIN)
    opened = utc(2027, 3, 1, 12)
    last_minute = utc(2027, 3, 30, 21, 59)
    assert due_reminder(schedule, last_minute, opened, deadline, BERLIN) == schedule[-1]
    assert due_reminder(schedule, utc(2027, 3, 30, 22), opened, deadline, BERLIN) is None
    joined = utc(2027, 3, 24, 12)  # after the 7-day reminder: it was never missed
    assert due_reminder(schedule, utc(2027, 3, 25, 12), joined, deadline, BERLIN) is None
    assert due_reminder(schedule, utc(2027, 3, 26, 8), joined, deadline, BERLIN) == schedule[2]


def test_sending_hours_are_working_days_from_send_at_for_ten_hours() -> None:
    monday = [utc(2027, 3, 8, h, m) for h, m in ((7, 59), (8, 0), (17, 59), (18, 0))]  # CET
    assert [in_sending_hours(t, NINE, True, BERLIN) for t in monday] == [False, True, True, False]
    saturday = utc(2027, 3, 13, 10)
    assert not in_sending_hours(saturday, NINE, True, BERLIN)
    assert in_sending_hours(saturday, NINE, False, BERLIN)
    evening = time(20, 0)  # a window past midnight
    assert in_sending_hours(utc(2027, 3, 9, 0), evening, False, BERLIN)  # 01:00 local
    assert not in_sending_hours(utc(2027, 3, 9, 6), evening, False, BERLIN)  # 07:00 local


def test_days_left_counts_local_days() -> None:
    deadline = date(2027, 3, 30)
    assert days_left(deadline, utc(2027, 3, 29, 22, 30), BERLIN) == 0  # 00:30 on the 30th
    assert days_left(deadline, utc(2027, 3, 29, 21, 30), BERLIN) == 1
    assert days_left(deadline, utc(2027, 3, 31, 8), BERLIN) == -1


def test_next_reminder_and_keys() -> None:
    schedule = reminder_times(date(2027, 3, 30), (7, 1), NINE, True, BERLIN)
    assert next_reminder(schedule, utc(2027, 3, 24)) == schedule[1][1]
    assert next_reminder(schedule, utc(2027, 3, 29, 7)) is None
    assert reminder_key(3, date(2027, 3, 30), 12, 7) == "reminder:3:2027-03-30:7:12"
    assert reminder_key(3, date(2027, 4, 13), 12, 7) != reminder_key(3, date(2027, 3, 30), 12, 7)


def test_deadlines_are_read_as_iso_or_german_dates() -> None:
    assert parse_deadline("2027-04-30") == date(2027, 4, 30)
    assert parse_deadline("30.4.2027") == date(2027, 4, 30)
    assert [parse_deadline(t) for t in ("2027-02-30", "morgen", "30.04.27", "")] == [None] * 4


@pytest.mark.parametrize(
    ("text", "exists"),
    [
        ("30.02.2027", False),
        ("2027-02-30", False),
        ("31.04.2027", False),
        ("29.02.2027", False),
        ("morgen", True),
        ("30.04.27", True),
        ("2027/04/30", True),
    ],
)
def test_parse_day_tells_a_missing_day_from_a_non_date(text: str, exists: bool) -> None:
    """Every date input says "30.02.2027 gibt es nicht" rather than "not a date"."""
    with pytest.raises(DayError) as caught:
        parse_day(text)
    assert caught.value.exists is exists and caught.value.text == text


def test_parse_day_reads_both_spellings() -> None:
    """TT.MM.JJJJ and JJJJ-MM-TT, as /frist and every CLI date accept them."""
    assert parse_day("29.02.2028") == parse_day("2028-02-29") == date(2028, 2, 29)


def test_a_deadline_must_be_today_or_later_and_new() -> None:
    from storage.cycles import Cycle

    cycle = Cycle(1, "2027", "cclu", "1", utc(2027, 3, 1), date(2027, 3, 30), None)
    today = date(2027, 3, 20)
    assert deadline_problem(cycle, date(2027, 3, 19), today) == "past"
    assert deadline_problem(cycle, date(2027, 3, 30), today) == "same"
    assert deadline_problem(cycle, today, today) is None
