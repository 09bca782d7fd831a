"""Help, language, and everything that is not part of the dialogue: bad input, groups, edits."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden

import storage
from bot.core.access import is_coordinator, may_stay_in_group
from bot.render.check_size import check_size
from bot.telegram.context import BotContext
from bot.telegram.handlers import tracing
from bot.telegram.handlers.dialogue import converse
from dialogues import events as ev

log = logging.getLogger(__name__)


async def on_help(update: Update, context: BotContext) -> None:
    """Explain what the bot does and list the commands; coordinators get theirs too."""
    s = context.services
    user = update.effective_user
    await _reply(
        update,
        context,
        "help",
        size=check_size(s.dialogue.catalogue),
        coordinator=user is not None and is_coordinator(s.coordinators, user.id),
    )


async def on_language(update: Update, context: BotContext) -> None:
    """Switch the member's language between German and English and show the question again."""
    s = context.services
    user = update.effective_user
    assert user is not None
    member = await storage.member_by_user(s.db, user.id)
    if member is None:
        await _reply(update, context, "not_member")
        return
    async with s.db.transaction():
        member = await storage.set_language(
            s.db, member.id, "en" if member.language == "de" else "de"
        )
    await context.bot.send_message(user.id, s.templates.render(member.language, "language_set"))
    await converse(context, member, ev.Show())


# /barrierefrei an|aus; the same words as /erinnerungen, so nobody has to learn new ones.
PLAIN_SWITCH = {"aus": False, "off": False, "an": True, "ein": True, "on": True}


async def on_accessible(update: Update, context: BotContext) -> None:
    """Switch the member's plain mode on or off (/barrierefrei an|aus), or say which it is."""
    s = context.services
    user = update.effective_user
    assert user is not None
    member = await storage.member_by_user(s.db, user.id)
    if member is None:
        await _reply(update, context, "not_member")
        return
    word = context.args[0].lower() if context.args else None
    choice = PLAIN_SWITCH.get(word) if word else None
    if choice is not None:
        async with s.db.transaction():
            member = await storage.set_plain_mode(s.db, member.id, choice)
    text = s.templates.render(
        member.language,
        "plain_mode",
        plain=member.plain_mode,
        changed=choice is not None,
        unknown=word if word and choice is None else None,
    )
    await context.bot.send_message(user.id, text)
    if choice is not None:
        await converse(context, member, ev.Show())  # the current question, as the mode shows it


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """Say that the command is unknown and point to /hilfe."""
    await _reply(update, context, "unknown_command")


async def on_not_text(update: Update, context: BotContext) -> None:
    """Answer stickers, photos, voice notes and files with a hint; store nothing."""
    user = update.effective_user
    member = await storage.member_by_user(context.services.db, user.id) if user else None
    await _reply(update, context, "not_text" if member else "not_member")


async def on_edited(update: Update, context: BotContext) -> None:
    """Explain that edits are not applied, since the answer was already stored."""
    await _reply(update, context, "edited")


async def on_group(update: Update, context: BotContext) -> None:
    """Point to the private chat; nothing said in a group is stored."""
    await _reply(update, context, "private_only", bot=context.bot.username)


async def on_added(update: Update, context: BotContext) -> None:
    """Greet the coordination chat; in any other group, point to the private chat and leave."""
    message = update.effective_message
    if message and any(m.id == context.bot.id for m in message.new_chat_members or ()):
        s = context.services
        if await may_stay_in_group(s.db, s.config, message.chat.id):
            await _reply(update, context, "coordination_welcome")
            return
        adder = message.from_user
        # Maybe the coordination group:
        if adder is not None and is_coordinator(s.coordinators, adder.id):
            await _reply(update, context, "coordination_group_hint")
            return
        await _reply(update, context, "private_only", bot=context.bot.username)
        await context.bot.leave_chat(message.chat.id)
        tracing.left(context, message.chat.id)  # drops what is still queued from there


async def _reply(update: Update, context: BotContext, template: str, **extra: object) -> None:
    s = context.services
    user = update.effective_user
    chat = update.effective_chat
    if chat is None:
        return
    member = await storage.member_by_user(s.db, user.id) if user else None
    text = s.templates.render(s.language_for(user, member), template, **extra)
    try:
        await context.bot.send_message(chat.id, text)
    except Forbidden as exc:  # blocked, or left the group since the message came (fuzzer found)
        log.info("cannot reply in chat %s: %s", chat.id, exc.message)
