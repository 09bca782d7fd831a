"""Running institutions: rename, remove, replace the invite link, and manage their members.

Shared by the command line and the coordinators' bot commands; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import storage
from bot.core.admin import AdminError, Invitation, check_name, new_invite_code


async def find(db: storage.Database, short: str) -> storage.Institution:
    """Return the institution with this short name, or refuse naming the known ones."""
    institution = await storage.institution_by_short(db, short)
    if institution is None:
        known = ", ".join(i.short for i in await storage.list_institutions(db)) or "-"
        raise AdminError(
            f"there is no institution {short!r}; known: {known}",
            "unknown",
            short=short,
            known=known,
        )
    return institution


async def rename(
    db: storage.Database, short: str, name: str, actor: storage.Actor
) -> storage.Institution:
    """Give an institution a new full name."""
    check_name(name)
    async with db.transaction():
        institution = await find(db, short)
        renamed = await storage.rename_institution(db, institution.id, name.strip())
        await storage.record_audit(
            db,
            actor,
            "institution_rename",
            institution_id=institution.id,
            detail={"short": institution.short, "from": institution.name, "to": renamed.name},
        )
    return renamed


@dataclass(frozen=True)
class Removal:
    institution: storage.Institution
    members: int  # current members, whose membership ended with it
    counts: dict[str, int]  # rows deleted per table


async def remove(db: storage.Database, short: str, force: bool, actor: storage.Actor) -> Removal:
    """Delete an institution; one with answers only when forced, since they go with it."""
    async with db.transaction():
        institution = await find(db, short)
        answers = await storage.answers_of_institution(db, institution.id)
        if answers and not force:
            raise AdminError(
                f"{institution.short} has {answers} stored answers, which would be deleted with "
                f"it; to do so anyway: chancencheck institution remove {institution.short} --force",
                "has_answers",
                short=institution.short,
                answers=answers,
            )
        members = len(await storage.members_of(db, institution.id))
        counts = await storage.remove_institution(db, institution.id)
        await storage.record_audit(
            db,
            actor,
            "institution_remove",
            institution_id=institution.id,
            detail={
                "short": institution.short,
                "name": institution.name,
                "answers": answers,
                "forced": force,
            },
        )
    return Removal(institution, members, counts)


async def replace_invite(db: storage.Database, short: str, actor: storage.Actor) -> Invitation:
    """Give an institution a new invite code; links with the old one stop working."""
    code = new_invite_code()
    async with db.transaction():
        institution = await find(db, short)
        institution = await storage.replace_invite_code(db, institution.id, code)
        await storage.record_audit(
            db,
            actor,
            "invite_replace",
            institution_id=institution.id,
            detail={"short": institution.short},
        )
    return Invitation(institution, code)


async def find_member(
    db: storage.Database, institution: storage.Institution, who: str
) -> storage.Member:
    """Return the member named by number ("#12", "12") or first name, or refuse."""
    members = await storage.members_of(db, institution.id)
    number = who.removeprefix("#")
    if number.isdigit():
        found = [m for m in members if m.id == int(number)]
    else:
        found = [m for m in members if (m.first_name or "").casefold() == who.casefold()]
    if len(found) == 1:
        return found[0]
    numbers = ", ".join(f"#{m.id}" for m in found)
    if found:
        raise AdminError(
            f"{len(found)} members of {institution.short} are called {who!r} "
            f"({numbers}): name one by number",
            "ambiguous",
            who=who,
            numbers=numbers,
            short=institution.short,
        )
    raise AdminError(
        f"{institution.short} has no member {who!r}", "no_member", who=who, short=institution.short
    )


async def remove_member(
    db: storage.Database, member: storage.Member, actor: storage.Actor
) -> storage.Member:
    """End a member's membership; their answers stay with the institution."""
    async with db.transaction():
        former = await storage.end_membership(db, member)
        await storage.record_audit(
            db, actor, "member_remove", member_id=member.id, institution_id=member.institution_id
        )
    return former
