"""When reminders are due: pure functions of the deadline, the config and the time.

No I/O and no clock: every function takes the moment it decides about, so that tests can walk
through weekends and daylight saving changes without waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATURDAY = 5
FRIDAY = 4
# Reminders go out from send_at until this much later, so that one missed while the bot was
# down is sent late on a working day, but never at night.
SENDING_WINDOW = timedelta(hours=10)

Schedule = list[tuple[int, datetime]]  # (days before the deadline, local moment), earliest first


def reminder_times(
    deadline: date, days_before: Iterable[int], send_at: time, skip_weekends: bool, tz: ZoneInfo
) -> Schedule:
    """Return when each reminder is due, earliest first; one on a weekend moves to Friday.

    The moments are aware, in `tz`, at `send_at` local time whatever the UTC offset of that day.
    Offsets that land on the same day (e.g. Saturday and Sunday both moved to Friday) give one
    reminder, the one closer to the deadline.
    """
    by_day: dict[date, int] = {}
    for offset in sorted(set(days_before), reverse=True):
        day = deadline - timedelta(days=offset)
        if skip_weekends and day.weekday() >= SATURDAY:
            day -= timedelta(days=day.weekday() - FRIDAY)
        by_day[day] = offset  # a smaller offset comes later and wins the day
    return [
        (offset, datetime.combine(day, send_at, tzinfo=tz))
        for day, offset in sorted(by_day.items())
    ]


def deadline_end(deadline: date, tz: ZoneInfo) -> datetime:
    """Return the moment a check is late: the end of the deadline day in `tz`."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=tz)


def due_reminder(
    schedule: Schedule, now: datetime, since: datetime, deadline: date, tz: ZoneInfo
) -> tuple[int, datetime] | None:
    """Return the latest reminder due at `now` and planned after `since`, or None.

    `since` is when the member could first be reminded (the round opened, they joined, the
    deadline moved): reminders planned before it were never missed. Only the latest due one
    counts, so a bot that was down sends one reminder, not a burst; none after the deadline.
    """
    if now >= deadline_end(deadline, tz):
        return None
    due = [(offset, moment) for offset, moment in schedule if since < moment <= now]
    return due[-1] if due else None


def next_reminder(schedule: Schedule, now: datetime) -> datetime | None:
    """Return when the next reminder is planned after `now`, or None if none is left."""
    return next((moment for _, moment in schedule if moment > now), None)


def in_sending_hours(now: datetime, send_at: time, skip_weekends: bool, tz: ZoneInfo) -> bool:
    """Tell whether a reminder may go out now: a working day, from send_at for a few hours."""
    local = now.astimezone(tz)
    if skip_weekends and local.weekday() >= SATURDAY:
        return False
    start = datetime.combine(local.date(), send_at, tzinfo=tz)
    if start > local:
        start -= timedelta(days=1)  # a window that started yesterday evening, past midnight
    return start <= local < start + SENDING_WINDOW


def days_left(deadline: date, now: datetime, tz: ZoneInfo) -> int:
    """Return the whole days from today (local) to the deadline: 0 on the deadline day."""
    return (deadline - now.astimezone(tz).date()).days


def reminder_key(cycle_id: int, deadline: date, member_id: int, days_before: int) -> str:
    """Name a planned reminder; a moved deadline plans new ones under new keys."""
    return f"reminder:{cycle_id}:{deadline.isoformat()}:{days_before}:{member_id}"


def notice_key(change_id: int, member_id: int) -> str:
    """Name the notice of one deadline change to one member."""
    return f"deadline_moved:{change_id}:{member_id}"


def summary_key(cycle_id: int, deadline: date) -> str:
    """Name the deadline-passed summary of a round; a moved deadline gets its own."""
    return f"deadline_passed:{cycle_id}:{deadline.isoformat()}"
