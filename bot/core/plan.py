"""Views of the improvement plan: rows for members, coordinators, the CLI, report and export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import storage
from bot.core.measures import PlanCounts, counts, overdue_ids
from storage import measures as store
from storage.measures import Measure


@dataclass(frozen=True)
class PlanRow:
    """One measure as shown: everything a list, a report or a spreadsheet needs."""

    id: int
    institution: str  # short name
    round: str
    requirement_id: str
    text: str
    owner: str | None  # as the viewer may see it; None when nobody is named (or may be shown)
    due: str | None  # "MM/YYYY"
    status: str  # geplant, in_arbeit, umgesetzt, verworfen or ueberfaellig
    last_change: datetime


def month_label(month: str | None) -> str | None:
    """Show "2027-03" as "03/2027"."""
    if not month:
        return None
    year, _, number = month.partition("-")
    return f"{number}/{year}"


async def owner_name(db: storage.Database, measure: Measure) -> str | None:
    """Return the owner's first name or typed name, None without an owner."""
    if measure.owner_member_id is not None:
        member = await storage.member_by_id(db, measure.owner_member_id)
        if (
            member is not None
            and member.first_name
            and member.institution_id == measure.institution_id
        ):
            return member.first_name
        return None  # a former member: the measure falls back to the institution
    return measure.owner_name


async def rows(
    db: storage.Database,
    measures: list[Measure],
    today: date,
    authors: str = "names",
    named_label: str = "",
) -> list[PlanRow]:
    """Build rows; `authors` is the coordinators' privacy mode ("names" shows owner names)."""
    overdue = await overdue_ids(db, measures, today)
    shorts = {i.id: i.short for i in await storage.list_institutions(db)}
    rounds = {c.id: c.name for c in await storage.list_cycles(db)}
    result = []
    for m in measures:
        name = await owner_name(db, m)
        if name is not None and authors != "names":
            name = named_label or None  # say that someone is named, not who
        status = "ueberfaellig" if m.id in overdue else m.status
        result.append(
            PlanRow(
                m.id,
                shorts.get(m.institution_id, "?"),
                rounds.get(m.cycle_id, "?"),
                m.requirement_id,
                m.text,
                name,
                month_label(m.due_month),
                status,
                m.updated_at,
            )
        )
    return result


async def institution_counts(
    db: storage.Database, cycle_id: int | None, today: date
) -> list[tuple[storage.Institution, PlanCounts]]:
    """Per institution with measures: how many are planned, in progress, done, dropped, overdue."""
    result = []
    for institution in await storage.list_institutions(db):
        measures = await store.list_measures(db, institution.id, cycle_id)
        if measures:
            result.append((institution, counts(measures, await overdue_ids(db, measures, today))))
    return result


async def carried_out_before(
    db: storage.Database, cycle: storage.Cycle, institution_id: int
) -> tuple[int, int] | None:
    """Return (done, all) of the institution's measures in the round before, if there was one."""
    earlier = [c for c in await storage.list_cycles(db) if c.opened_at < cycle.opened_at]
    if not earlier:
        return None
    previous = max(earlier, key=lambda c: c.opened_at)
    measures = await store.list_measures(db, institution_id, previous.id)
    if not measures:
        return None
    return sum(1 for m in measures if m.status == "umgesetzt"), len(measures)
