"""The first handler of every update: name it in the log context and log what arrived; and
drop it if it comes from a group the bot has left.

Log lines carry no answer texts: an update is described by its kind and size only.

Updates fetched before the bot left a group (it leaves groups it does not belong in) may still
be in its queue; answering them fails, as the bot is no longer there. The fuzzer found this.
"""

from __future__ import annotations

import logging
import sqlite3

from telegram import ChatMember, Update
from telegram.ext import ApplicationHandlerStop

import storage
from bot.logcontext import CURRENT, LogContext
from bot.services import SERVICES, Services
from bot.telegram.context import BotContext

log = logging.getLogger(__name__)
LEFT_CHATS = "left_chats"  # bot_data: ids of the groups the bot left or was removed from


async def on_update(update: object, context: BotContext) -> None:
    """Name the update in every following log line and log one line saying what arrived."""
    if not isinstance(update, Update):
        return
    chat, user = update.effective_chat, update.effective_user
    services: Services | None = context.application.bot_data.get(SERVICES)
    institution = await _institution(services, user.id) if services and user else None
    CURRENT.set(LogContext(update.update_id, chat.id if chat else None, institution))
    log.info("%s", describe(update))
    if chat is not None and chat.type != chat.PRIVATE and gone_from(context, update, chat.id):
        log.info("ignored: the bot is no longer in this chat")
        raise ApplicationHandlerStop  # no other handler sees it


def left(context: BotContext, chat_id: int) -> None:
    """Remember that the bot left a chat, so that updates still queued from it are dropped."""
    context.bot_data.setdefault(LEFT_CHATS, set()).add(chat_id)


def gone_from(context: BotContext, update: Update, chat_id: int) -> bool:
    """Tell whether the bot is out of the group, learning from updates that add or remove it."""
    gone: set[int] = context.bot_data.setdefault(LEFT_CHATS, set())
    status = update.my_chat_member.new_chat_member.status if update.my_chat_member else None
    message = update.message
    added = message is not None and any(
        m.id == context.bot.id for m in message.new_chat_members or ()
    )
    if added or status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        gone.discard(chat_id)
    elif status in (ChatMember.LEFT, ChatMember.BANNED):
        gone.add(chat_id)
        return False  # the news itself still reaches the handlers
    return chat_id in gone


async def _institution(services: Services, user_id: int) -> str | None:
    """Return the short name of the user's institution; a failing database must not matter."""
    try:
        return await storage.institution_of_user(services.db, user_id)
    except (sqlite3.Error, storage.StorageError, ValueError):
        return "?"


_CONTENT = (
    "photo",
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
)


def describe(update: Update) -> str:
    """Say what kind of update arrived, without its text: e.g. "private message: text, 12 chars"."""
    if update.callback_query is not None:
        code = (update.callback_query.data or "").partition(":")[0][:8]
        return f"button press ({code or 'no data'})"
    message = update.effective_message
    kind = next(
        (
            name
            for name in ("message", "edited_message", "channel_post", "edited_channel_post")
            if getattr(update, name)
        ),
        None,
    )
    if message is None or kind is None:
        known = next((name for name in Update.ALL_TYPES if getattr(update, name, None)), None)
        return f"{known or 'unknown'} update"
    where = message.chat.type if message.chat else "unknown chat"
    kind = kind.replace("_", " ")
    text = message.text or message.caption
    if text and text.startswith("/"):
        return f"{where} {kind}: command {text.split()[0][:40]}"
    content = next((name for name in _CONTENT if getattr(message, name, None)), None)
    if text:
        return f"{where} {kind}: {content + ' with ' if content else ''}text, {len(text)} chars"
    return f"{where} {kind}: {content or 'no text'}"
