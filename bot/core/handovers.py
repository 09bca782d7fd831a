"""Handing one requirement to a colleague by link, and telling the delegator once it is answered.

A link is as strong as the institution's invite: 128 random bits, only its hash stored, valid
for LIFETIME, revoked when the delegator leaves or the invite is rotated (see storage).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import storage
from bot.core.admin import new_invite_code
from bot.render.presenter import HandoverNote
from bot.render.templates import Templates
from dialogues.engine import Dialogue, Step

LIFETIME = timedelta(days=14)


async def hand_over(
    db: storage.Database,
    check: storage.Check,
    requirement_id: str,
    member: storage.Member,
    now: datetime,
) -> str:
    """Store a new link for the requirement (inside the caller's transaction); return its code."""
    code = new_invite_code()
    await storage.create_handover(
        db, storage.invite_hash(code), check.id, requirement_id, member.id, now, now + LIFETIME
    )
    await storage.record_audit(
        db,
        storage.Actor.member(member.id),
        "handover",
        now,
        check_id=check.id,
        institution_id=check.institution_id,
        detail={"requirement": requirement_id},
    )
    return code


async def take_back(
    db: storage.Database,
    check: storage.Check,
    requirement_id: str,
    member: storage.Member,
    now: datetime,
) -> None:
    """End the member's open handover of the requirement: they answer it themselves."""
    for handover in await storage.open_handovers(db, check.id, now):
        if handover.delegator_id == member.id and handover.requirement_id == requirement_id:
            await storage.end_handover(db, handover.id, "taken_back", now)


def passed(handovers: Iterable[storage.Handover], member_id: int) -> frozenset[str]:
    """Return the requirements the member handed over and that are still open."""
    return frozenset(h.requirement_id for h in handovers if h.delegator_id == member_id)


def notes(
    handovers: Iterable[storage.Handover], member_id: int, now: datetime
) -> dict[str, HandoverNote]:
    """Describe the member's open handovers for the screens: to whom, since how many days."""
    return {
        h.requirement_id: HandoverNote(h.delegate_name, (now - h.created_at).days)
        for h in handovers
        if h.delegator_id == member_id
    }


class Settlement:
    """End handovers whose requirement is now answered; tell the delegator once."""

    def __init__(self, dialogue: Dialogue, templates: Templates) -> None:
        self.dialogue = dialogue
        self.templates = templates

    async def settle(
        self,
        db: storage.Database,
        check: storage.Check,
        step: Step,
        member: storage.Member,
        now: datetime,
    ) -> bool:
        """End the handovers this step's answers completed (inside the turn's transaction);
        True if a notice to a delegator was queued."""
        touched = {record.position.requirement_id for record in step.records}
        open_requirements = {r for r, _ in self.dialogue.open_questions(step.state)}
        told = False
        for handover in await storage.open_handovers(db, check.id, now):
            requirement_id = handover.requirement_id
            if requirement_id not in touched or requirement_id in open_requirements:
                continue
            await storage.end_handover(db, handover.id, "answered", now)
            if handover.delegator_id != member.id:
                told = await self._tell(db, handover, member, now) or told
        return told

    async def _tell(
        self, db: storage.Database, handover: storage.Handover, by: storage.Member, now: datetime
    ) -> bool:
        delegator = await storage.member_by_id(db, handover.delegator_id)
        if delegator is None or delegator.telegram_user_id is None:
            return False
        requirement = self.dialogue.catalogue.requirement(handover.requirement_id)
        text = self.templates.render(
            delegator.language,
            "handover_answered",
            id=requirement.id,
            title=requirement.title(delegator.language),
            by=by.first_name,
        )
        key = f"handover-answered:{handover.id}"  # the key makes it once, even across a crash
        await storage.enqueue(db, key, delegator.telegram_user_id, "message", {"text": text}, now)
        return True
