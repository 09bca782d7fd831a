"""Setting up the coordination side without knowing ids: /koordinationsgruppe and /id."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

import storage
from bot.core.access import is_coordinator
from bot.telegram.context import BotContext


async def on_register_group(update: Update, context: BotContext) -> None:
    """Make this group the coordination chat, when a coordinator asks for it in the group."""
    s = context.services
    user, chat = update.effective_user, update.effective_chat
    assert chat is not None
    language = s.language_for(user)
    if chat.type == ChatType.PRIVATE:
        template = "coordination_group_private"
    elif user is None or not is_coordinator(s.coordinators, user.id):
        template = "coordination_group_refused"
    else:
        async with s.db.transaction():
            await storage.set_setting(s.db, storage.COORDINATION_CHAT, str(chat.id))
            await storage.record_audit(
                s.db,
                storage.Actor.coordinator(user.id),
                "coordination_chat_set",
                s.clock(),
                detail={"chat_id": chat.id},
            )
        template = "coordination_group_registered"
    await context.bot.send_message(chat.id, s.templates.render(language, template))


async def on_id(update: Update, context: BotContext) -> None:
    """Tell a user their own Telegram id, nothing more."""
    s = context.services
    user = update.effective_user
    assert user is not None
    text = s.templates.render(s.language_for(user), "your_id", user_id=user.id)
    await context.bot.send_message(user.id, text)
