"""Invite codes: new ones for a link, and redeeming one within the limit on wrong guesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import storage

GUESSES = 5  # wrong codes a user may try …
WINDOW = timedelta(hours=1)  # … within this time


@dataclass(frozen=True)
class Refused:
    """Why a code did not let the user in: the template to answer with and its values."""

    template: str
    values: dict[str, object] = field(default_factory=dict)


async def redeem(db: storage.Database, user_id: int, code: str,
                 now: datetime) -> storage.Institution | Refused:
    """Return the institution the code invites to, or why not, counting wrong codes."""
    async with db.transaction():  # kept only as long as the limit needs them
        await storage.forget_invite_failures(db, now - WINDOW)
    failures = await storage.invite_failures_since(db, user_id, now - WINDOW)
    if len(failures) >= GUESSES:
        # Even a right code is refused now: otherwise guessing would simply go on.
        return Refused("invite_locked", {"limit": GUESSES, "until": failures[0] + WINDOW})
    institution = await storage.institution_by_code(db, code)
    if institution is not None:
        return institution
    async with db.transaction():
        await storage.record_invite_failure(db, user_id, now)
    return Refused("invite_invalid", {"limit": GUESSES})

