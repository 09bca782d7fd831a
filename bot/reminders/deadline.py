"""Moving a round's deadline, for /frist and the command line alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import storage
from bot.reminders.schedule import notice_key

_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class DayError(ValueError):
    """A text that is not a date, or a date that does not exist (30.02.2027)."""

    def __init__(self, text: str, exists: bool) -> None:
        super().__init__(text)
        self.text = text
        self.exists = exists  # False: written like a date, but there is no such day


@dataclass(frozen=True)
class DeadlineMove:
    """A deadline change and how many members of open checks will be told of it."""

    change: storage.DeadlineChange
    told: int
    institutions: int  # institutions with at least one member told


def parse_day(text: str) -> date:
    """Read a date as JJJJ-MM-TT or as Germans write it, TT.MM.JJJJ; raise DayError if not."""
    text = text.strip()
    german, iso = _GERMAN_DATE.match(text), _ISO_DATE.match(text)
    if german:
        day, month, year = int(german[1]), int(german[2]), int(german[3])
    elif iso:
        year, month, day = int(iso[1]), int(iso[2]), int(iso[3])
    else:
        raise DayError(text, exists=True)
    try:
        return date(year, month, day)
    except ValueError:
        raise DayError(text, exists=False) from None


def parse_deadline(text: str) -> date | None:
    """Read a date as parse_day does; None if it is none or does not exist."""
    try:
        return parse_day(text)
    except DayError:
        return None


def deadline_problem(cycle: storage.Cycle, deadline: date, today: date) -> str | None:
    """Return why a round cannot get this deadline ("past" or "same"), or None if it can."""
    if deadline < today:
        return "past"
    if deadline == cycle.deadline:
        return "same"
    return None


async def move_deadline(
    db: storage.Database,
    cycle: storage.Cycle,
    deadline: date,
    changed_by: int | None,
    now: datetime,
) -> DeadlineMove:
    """Move the deadline and queue a notice to every reachable member of an open check.

    The notices are stored in the same transaction as the change, so a crash cannot lose
    them; the reminder sweep sends them (at once when the bot asks it to, else within a minute).
    """
    told, institutions = 0, 0
    async with db.transaction():
        change = await storage.set_deadline(db, cycle.id, deadline, changed_by, now)
        for check in await storage.checks_in_cycle(db, cycle.id):
            if check.status == "submitted":
                continue
            members = [
                m for m in await storage.members_of(db, check.institution_id) if not m.unreachable
            ]
            for member in members:
                key = notice_key(change.id, member.id)
                await storage.queue_notice(db, key, cycle.id, member.id, deadline, now)
            told += len(members)
            institutions += bool(members)
    return DeadlineMove(change, told, institutions)
