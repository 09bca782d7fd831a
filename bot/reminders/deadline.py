"""Moving a round's deadline, for /frist and the command line alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import storage
from bot.reminders.schedule import notice_key

_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class DeadlineMove:
    """A deadline change and how many members of open checks will be told of it."""

    change: storage.DeadlineChange
    told: int
    institutions: int  # institutions with at least one member told


def parse_deadline(text: str) -> date | None:
    """Read a date as YYYY-MM-DD or as Germans write it, DD.MM.YYYY; None if it is neither."""
    text = text.strip()
    try:
        match = _GERMAN_DATE.match(text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def deadline_problem(cycle: storage.Cycle, deadline: date, today: date) -> str | None:
    """Return why a round cannot get this deadline ("past" or "same"), or None if it can."""
    if deadline < today:
        return "past"
    if deadline == cycle.deadline:
        return "same"
    return None


async def move_deadline(db: storage.Database, cycle: storage.Cycle, deadline: date,
                        changed_by: int | None, now: datetime) -> DeadlineMove:
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
            members = [m for m in await storage.members_of(db, check.institution_id)
                       if not m.unreachable]
            for member in members:
                key = notice_key(change.id, member.id)
                await storage.queue_notice(db, key, cycle.id, member.id, deadline, now)
            told += len(members)
            institutions += bool(members)
    return DeadlineMove(change, told, institutions)
