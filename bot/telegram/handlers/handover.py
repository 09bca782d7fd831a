"""Handing a requirement to a colleague: /weitergeben K2, and opening a colleague's link."""

from __future__ import annotations

from telegram import Update, User

import storage
from bot.telegram.context import BotContext
from bot.telegram.handlers.dialogue import converse, member_or_hint
from dialogues import events as ev


async def on_command(update: Update, context: BotContext) -> None:
    """/weitergeben K2 (/handover K2): make the link for a requirement, as the button does."""
    s = context.services
    member = await member_or_hint(update, context)
    if member is None:
        return
    args = context.args or []
    known = {r.id.upper(): r.id for r in s.dialogue.catalogue.requirements}
    requirement_id = known.get(args[0].upper()) if len(args) == 1 else None
    if requirement_id is None:
        assert member.telegram_user_id is not None
        text = s.templates.render(
            member.language, "handover_usage", given=" ".join(args), ids=list(known.values())
        )
        await context.bot.send_message(member.telegram_user_id, text)
        return
    await converse(context, member, ev.HandOver(requirement_id))


async def on_link(
    context: BotContext,
    user: User,
    member: storage.Member | None,
    language: str,
    handover: storage.Handover,
) -> None:
    """Open a colleague's link: join like with the invite if needed, then land on the question."""
    s = context.services
    if member is not None and member.institution_id != handover.institution_id:
        # Polite, and saying nothing about whose link it is or what it asks.
        await context.bot.send_message(user.id, s.templates.render(language, "handover_foreign"))
        return
    async with s.db.transaction():
        if member is None:
            member = await storage.join_institution(
                s.db, user.id, handover.institution_id, user.first_name, language, s.clock()
            )
        if member.id != handover.delegator_id:
            await storage.accept_handover(s.db, handover.id, member.id)
    requirement = s.dialogue.catalogue.requirement(handover.requirement_id)
    text = s.templates.render(
        member.language,
        "handover_opened",
        by=handover.delegator_name,
        id=requirement.id,
        title=requirement.title(member.language),
        own=member.id == handover.delegator_id,
    )
    await context.bot.send_message(user.id, text)
    await converse(context, member, ev.Jump(handover.requirement_id))
