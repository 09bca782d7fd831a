"""The improvement plan: measures from question 3, with owner, due month and status.

Pure helpers (splitting a reply, computing a due month, deciding who is asked and whether a
measure is overdue) and the use cases that store what a member or coordinator changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import storage
from storage import measures as store
from storage.measures import Measure

# The "Bis wann?" buttons: choice -> months to add to get the due month.
DUE_CHOICES = ("quarter", "next_quarter", "six", "twelve", "open")
OWNER_CHOICES = ("me", "other", "open")
STATUS_CHOICES = ("in_arbeit", "umgesetzt", "verworfen")
# The CLI's spelling of the statuses ("in-arbeit") and the derived one, "ueberfaellig".
CLI_STATUSES = {"geplant", "in-arbeit", "umgesetzt", "verworfen", "ueberfaellig"}
MAX_OVERDUE_ASKS = 3  # an overdue measure is asked again monthly, then coordinators see it

_ENUMERATION = re.compile(r"(?:^|\s)\d{1,2}[.)]\s+")
_BULLET = re.compile(r"^\s*(?:\d{1,2}[.)]|[-•*–])\s*")


def split_measures(text: str) -> list[str]:
    """Split a reply into measures: one per line, or numbered "1." "2." within a line."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and len(_ENUMERATION.findall(lines[0])) >= 2:
        lines = [part for part in _ENUMERATION.split(lines[0]) if part.strip()]
    items = [_BULLET.sub("", line).strip() for line in lines]
    return [item for item in items if any(ch.isalpha() for ch in item)] or [text.strip()]


def month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(today: date, months: int) -> str:
    index = today.year * 12 + today.month - 1 + months
    return month_text(index // 12, index % 12 + 1)


def due_month(choice: str, today: date) -> str | None:
    """Return the due month of a "Bis wann?" choice, or None for "Offen"."""
    quarter_end = (today.month - 1) // 3 * 3 + 3
    offsets = {
        "quarter": quarter_end - today.month,
        "next_quarter": quarter_end - today.month + 3,
        "six": 6,
        "twelve": 12,
    }
    return add_months(today, offsets[choice]) if choice in offsets else None


def this_month(today: date) -> str:
    return month_text(today.year, today.month)


def is_overdue(measure: Measure, today: date) -> bool:
    """An open measure whose due month is over."""
    return (
        measure.status in store.OPEN_STATUSES
        and measure.due_month is not None
        and measure.due_month < this_month(today)
    )


def is_shown_overdue(measure: Measure, asked_after_due: int, today: date) -> bool:
    """Overdue and asked the allowed times in vain: coordinators see it as overdue."""
    return is_overdue(measure, today) and asked_after_due >= MAX_OVERDUE_ASKS


def wants_ask(measure: Measure, asked_months: list[str], today: date) -> bool:
    """Tell whether a measure is asked about this month: due or overdue, open, not yet asked."""
    month = this_month(today)
    if measure.status not in store.OPEN_STATUSES or measure.due_month is None:
        return False
    if measure.due_month > month or month in asked_months:
        return False
    after_due = [m for m in asked_months if m > measure.due_month]
    return len(after_due) < MAX_OVERDUE_ASKS


def cli_status(measure: Measure, overdue: bool) -> str:
    return "ueberfaellig" if overdue else measure.status.replace("_", "-")


@dataclass(frozen=True)
class PlanCounts:
    """Per institution: how many measures are in each status, and how many overdue."""

    geplant: int = 0
    in_arbeit: int = 0
    umgesetzt: int = 0
    verworfen: int = 0
    ueberfaellig: int = 0


def counts(measures: list[Measure], overdue: set[int]) -> PlanCounts:
    by = {s: sum(1 for m in measures if m.status == s) for s in store.STATUSES}
    return PlanCounts(**by, ueberfaellig=len(overdue & {m.id for m in measures}))


async def overdue_ids(db: storage.Database, measures: list[Measure], today: date) -> set[int]:
    """Return the measures coordinators see as overdue: past due and asked three times."""
    result = set()
    for m in measures:
        if is_overdue(m, today):
            asked = await store.asks_of(db, m.id)
            if is_shown_overdue(m, sum(1 for x in asked if x > (m.due_month or "")), today):
                result.add(m.id)
    return result


async def record_reply(
    db: storage.Database,
    member: storage.Member,
    check: storage.Check,
    requirement_id: str,
    text: str | None,
    now: datetime,
) -> int | None:
    """Store a reply's measures (inside the answer's transaction); return the batch or None."""
    texts = split_measures(text) if text else []
    new = [
        store.NewMeasure(
            check.institution_id, check.cycle_id, check.id, requirement_id, t, member.id
        )
        for t in texts
    ]
    batch = await store.replace_unstarted(db, check.id, requirement_id, new, now)
    return batch if new else None


async def plan_due(
    db: storage.Database,
    member: storage.Member,
    batch: int,
    choice: str,
    now: datetime,
    today: date,
) -> list[Measure]:
    """Set the due month of a reply's measures; only the institution's members may."""
    measures = await _own_batch(db, member, batch)
    month = due_month(choice, today)
    async with db.transaction():
        for m in measures:
            await store.update_measure(db, m.id, "due_month", month, member.id, now)
    return measures


async def plan_owner(
    db: storage.Database, member: storage.Member, batch: int, choice: str, now: datetime
) -> list[Measure]:
    """Make the member the owner of a reply's measures, or leave them without one."""
    measures = await _own_batch(db, member, batch)
    async with db.transaction():
        await store.forget_owner_prompt(db, member.id)
        if choice == "other":
            await store.await_owner_name(db, member.id, batch, now)
        for m in measures:
            owner = member.id if choice == "me" else None
            await store.update_measure(db, m.id, "owner_member_id", owner, member.id, now)
            if choice != "other":
                await store.update_measure(db, m.id, "owner_name", None, member.id, now)
    return measures


async def name_owner(
    db: storage.Database, member: storage.Member, batch: int, name: str, now: datetime
) -> list[Measure]:
    """Store a typed owner name (free text) for a reply's measures."""
    measures = await _own_batch(db, member, batch)
    async with db.transaction():
        await store.forget_owner_prompt(db, member.id)
        for m in measures:
            await store.update_measure(db, m.id, "owner_member_id", None, member.id, now)
            await store.update_measure(db, m.id, "owner_name", name, member.id, now)
    return measures


async def set_status(
    db: storage.Database, member: storage.Member, measure_id: int, status: str, now: datetime
) -> Measure | None:
    """Change a measure's status; None if it is not the member's institution's."""
    measure = await store.measure_by_id(db, measure_id)
    if measure is None or measure.institution_id != member.institution_id:
        return None
    if status not in store.STATUSES:
        return None
    async with db.transaction():
        return await store.update_measure(db, measure_id, "status", status, member.id, now)


async def postpone(
    db: storage.Database,
    member: storage.Member,
    measure_id: int,
    choice: str,
    now: datetime,
    today: date,
) -> Measure | None:
    """Move a measure's due month ("Verschieben"); None if not the member's institution's."""
    measure = await store.measure_by_id(db, measure_id)
    if measure is None or measure.institution_id != member.institution_id:
        return None
    async with db.transaction():
        return await store.update_measure(
            db, measure_id, "due_month", due_month(choice, today), member.id, now
        )


async def _own_batch(db: storage.Database, member: storage.Member, batch: int) -> list[Measure]:
    return [
        m
        for m in await store.measures_of_batch(db, batch)
        if m.institution_id == member.institution_id
    ]


async def recipients(db: storage.Database, measure: Measure) -> list[storage.Member]:
    """Who is asked: the owner, else whoever entered it, else the institution's members."""
    for member_id in (measure.owner_member_id, measure.entered_by):
        if member_id is None:
            continue
        member = await storage.member_by_id(db, member_id)
        if _reachable_member(member, measure):
            assert member is not None
            return [member]
    members = await storage.members_of(db, measure.institution_id)
    return [m for m in members if _reachable_member(m, measure)]


def _reachable_member(member: storage.Member | None, measure: Measure) -> bool:
    """A current member of the measure's institution (one who left falls back)."""
    return (
        member is not None
        and member.telegram_user_id is not None
        and member.institution_id == measure.institution_id
    )
