"""Last round's measures in the next round: shown with their status, the open ones carried.

A carried measure is a copy in the new round's check (text, owner, due month and status kept)
whose history starts with a "carried_from" entry naming the measure it came from; the old one
stays with its round, so that round's digest and counts do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import storage
from bot.core.plan import month_label, owner_name
from bot.render.presenter import PastMeasure
from storage import measures as store
from storage.measures import Measure


async def past_measures(
    db: storage.Database, institution_id: int, previous_id: int | None
) -> tuple[Measure, ...]:
    """Return the institution's measures of the round before (none in a first round)."""
    if previous_id is None:
        return ()
    return tuple(await store.list_measures(db, institution_id, previous_id))


async def carry_open(
    db: storage.Database,
    member: storage.Member,
    check: storage.Check,
    past: Iterable[Measure],
    requirement_id: str,
    now: datetime,
) -> list[Measure]:
    """Carry a requirement's open measures (geplant, in Arbeit) into the check's round."""
    carried = []
    for source in past:
        if source.requirement_id == requirement_id and source.status in store.OPEN_STATUSES:
            copy = await store.carry_measure(db, source, check.id, check.cycle_id, member.id, now)
            if copy is not None:
                carried.append(copy)
    return carried


async def carry_one(
    db: storage.Database,
    member: storage.Member,
    check: storage.Check,
    past: Iterable[Measure],
    requirement_id: str,
    measure_id: int,
    now: datetime,
) -> Measure | None:
    """Carry one open measure of last round, tapped before question 3; None if it is not one.

    Only a measure of the institution's round before, of this requirement and still open,
    is carried: a forged or stale button changes nothing.
    """
    for source in past:
        wanted = (source.id, source.requirement_id) == (measure_id, requirement_id)
        if wanted and source.status in store.OPEN_STATUSES:
            return await store.carry_measure(db, source, check.id, check.cycle_id, member.id, now)
    return None


async def notes(
    db: storage.Database, check: storage.Check, past: Iterable[Measure]
) -> dict[str, tuple[PastMeasure, ...]]:
    """Describe last round's measures by requirement, marking those already carried."""
    carried = await store.carried_sources(db, check.id)
    result: dict[str, list[PastMeasure]] = {}
    for m in past:
        note = PastMeasure(
            m.id,
            m.text,
            m.status,
            await owner_name(db, m),
            month_label(m.due_month),
            m.id in carried,
        )
        result.setdefault(m.requirement_id, []).append(note)
    return {key: tuple(value) for key, value in result.items()}
