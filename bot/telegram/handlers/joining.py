"""Joining an institution through its invite link (/start <code>)."""

from __future__ import annotations

from telegram import Update

import storage
from bot.core import invites
from bot.render.check_size import check_size
from bot.render.views import Button, View, plain
from bot.telegram.context import BotContext
from bot.telegram.handlers import handover
from bot.telegram.send import show
from dialogues import events as ev


async def on_start(update: Update, context: BotContext) -> None:
    """Join with an invite code, or explain where the invite link comes from."""
    s = context.services
    user = update.effective_user
    assert user is not None
    member = await storage.member_by_user(s.db, user.id)
    language = s.language_for(user, member)
    if not context.args:
        if member is None:
            await context.bot.send_message(user.id, s.templates.render(language, "start_no_code"))
        else:
            await welcome(context, member, joined=False)
        return
    institution = await invites.redeem(s.db, user.id, context.args[0], s.clock())
    if isinstance(institution, invites.Refused):  # a wrong code, or too many of them
        text = s.templates.render(language, institution.template, **institution.values)
        await context.bot.send_message(user.id, text)
        return
    if isinstance(institution, storage.Handover):
        await handover.on_link(context, user, member, language, institution)
        return
    if isinstance(institution, invites.BecameCoordinator):
        s.coordinators = await s.coordinators.reloaded(s.db)
        text = s.templates.render(language, "coordinator_joined", bot=context.bot.username)
        await context.bot.send_message(user.id, text)
        return
    async with s.db.transaction():
        member = await storage.join_institution(
            s.db, user.id, institution.id, user.first_name, language, s.clock()
        )
    await welcome(context, member, joined=True)


async def welcome(context: BotContext, member: storage.Member, joined: bool) -> None:
    """Greet with the institution, the round and its deadline, and offer to begin."""
    s = context.services
    institution = await storage.institution_by_id(s.db, member.institution_id)
    cycle = await storage.current_cycle(s.db)
    text = s.templates.render(
        member.language,
        "welcome",
        joined=joined,
        institution=institution,
        cycle=cycle,
        name=member.first_name,
        size=check_size(s.dialogue.catalogue),
        plain=member.plain_mode,
    )
    label = s.templates.label(member.language, "start" if joined else "resume")
    keyboard = ((Button(label, ev.Resume()),),) if cycle else ()
    view = View(text, keyboard)
    await show(context.bot, s.db, member, [plain(view) if member.plain_mode else view])
