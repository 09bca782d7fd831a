"""A person's data: export it as JSON, erase it, end a membership, and the retention period."""

from __future__ import annotations

import json
from datetime import datetime

import storage
from storage import measures as measure_store
from storage.times import utc_now


async def personal_data_json(db: storage.Database, user_id: int, now: datetime) -> bytes:
    """Return everything stored about the user as an indented JSON document."""
    data = await storage.export_person(db, user_id)
    document = {
        "about": "Personal data the ChancenCheckLU bot stores about this Telegram user",
        "exported_at": now.isoformat(timespec="seconds"),
        **data,
        "measures_owned": await _owned_measures(db, user_id),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


async def _owned_measures(db: storage.Database, user_id: int) -> list[dict[str, object]]:
    """Return the measures of the improvement plan the user owns."""
    member = await storage.member_by_user(db, user_id)
    owned = await measure_store.owned_by(db, member.id) if member else []
    return [
        {
            "requirement_id": m.requirement_id,
            "text": m.text,
            "due_month": m.due_month,
            "status": m.status,
            "created_at": m.created_at.isoformat(timespec="seconds"),
        }
        for m in owned
    ]


# How long an erased person's data lives on in Litestream's replica: its history is kept 24 hours
# after the daily snapshot that follows the erasure (deploy/litestream.yml), so at most 48 hours.
REPLICA_HISTORY_HOURS = 48


async def erase(
    db: storage.Database, user_id: int, former: str, replicated: bool = False
) -> dict[str, int]:
    """Erase the user's id and name everywhere, then leave no copy in the write-ahead log.

    replicated: Litestream owns the log (see storage.checkpoint); the erased data then lives on
    in the replica's history for up to REPLICA_HISTORY_HOURS.
    """
    async with db.transaction():
        member = await storage.member_by_user(db, user_id)
        if member is not None:  # the measures stay with the institution, without an owner
            await measure_store.release_owner(db, member.id, utc_now())
        await measure_store.forget_coordinator(db, user_id)
        counts = await storage.erase_person(db, user_id, former)
    await storage.checkpoint(db, truncate=not replicated)
    return counts


async def leave(db: storage.Database, member: storage.Member) -> storage.Member:
    """End the member's own membership; their answers stay with the institution."""
    async with db.transaction():
        former = await storage.end_membership(db, member)
        await storage.record_audit(
            db,
            storage.Actor.member(member.id),
            "member_leave",
            member_id=member.id,
            institution_id=member.institution_id,
        )
    return former


def years_before(moment: datetime, years: int) -> datetime:
    """Return the same moment the given number of years earlier (29 February: the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


async def retention(
    db: storage.Database, years: int, now: datetime, dry_run: bool, replicated: bool = False
) -> storage.Purge:
    """Delete (or on a dry run count) rounds closed more than `years` years ago."""
    cutoff = years_before(now, years)
    if dry_run:
        return await storage.purge_cycles(db, cutoff, dry_run=True)
    async with db.transaction():
        purge = await storage.purge_cycles(db, cutoff)
        await storage.record_audit(
            db,
            storage.CLI,
            "retention",
            now,
            detail={"years": years, "rounds": purge.cycles, "deleted": purge.counts},
        )
    await storage.checkpoint(db, truncate=not replicated)
    return purge
