"""Invite codes: new ones for a link, and redeeming one within the limit on wrong guesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import storage
from bot.core.admin import new_invite_code

GUESSES = 5  # wrong codes a user may try …
WINDOW = timedelta(hours=1)  # … within this time


@dataclass(frozen=True)
class BecameCoordinator:
    """The code was a one-time coordinator link, now used up."""


@dataclass(frozen=True)
class Refused:
    """Why a code did not let the user in: the template to answer with and its values."""

    template: str
    values: dict[str, object] = field(default_factory=dict)


async def redeem(
    db: storage.Database, user_id: int, code: str, now: datetime
) -> storage.Institution | storage.Handover | BecameCoordinator | Refused:
    """Return the institution or handover the code opens, or why not, counting wrong codes."""
    async with db.transaction():  # kept only as long as the limit needs them
        await storage.forget_invite_failures(db, now - WINDOW)
    failures = await storage.invite_failures_since(db, user_id, now - WINDOW)
    if len(failures) >= GUESSES:
        # Even a right code is refused now: otherwise guessing would simply go on.
        return Refused("invite_locked", {"limit": GUESSES, "until": failures[0] + WINDOW})
    institution = await storage.institution_by_code(db, code)
    if institution is not None:
        return institution
    # A colleague's handover link: as strong as the invite, so under the same limit.
    handover = await storage.handover_by_hash(db, storage.invite_hash(code), now)
    if handover is not None:
        return handover
    async with db.transaction():
        if await storage.claim_coordinator_invite(db, storage.invite_hash(code), user_id, now):
            await storage.add_coordinator(db, user_id, now)
            await storage.record_audit(
                db,
                storage.Actor.coordinator(user_id),
                "coordinator_joined",
                now,
                subject_user_id=user_id,
            )
            return BecameCoordinator()
        await storage.record_invite_failure(db, user_id, now)
    return Refused("invite_invalid", {"limit": GUESSES})


async def new_coordinator_invite(db: storage.Database, hours: int, now: datetime) -> str:
    """Make a one-time link code that makes whoever opens it first a coordinator."""
    code = new_invite_code()
    async with db.transaction():
        await storage.create_coordinator_invite(
            db, storage.invite_hash(code), now + timedelta(hours=hours), now
        )
        await storage.record_audit(
            db, storage.CLI, "coordinator_invite", now, detail={"hours": hours}
        )
    return code
