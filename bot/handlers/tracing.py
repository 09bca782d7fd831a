"""The first handler of every update: name it in the log context and log what arrived.

Log lines carry no answer texts: an update is described by its kind and size only.
"""

from __future__ import annotations

import logging
import sqlite3

from telegram import Update
from telegram.ext import ContextTypes

import storage
from bot.logcontext import CURRENT, LogContext
from bot.services import SERVICES, Services

log = logging.getLogger(__name__)


async def on_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Name the update in every following log line and log one line saying what arrived."""
    if not isinstance(update, Update):
        return
    chat, user = update.effective_chat, update.effective_user
    services: Services | None = context.application.bot_data.get(SERVICES)
    institution = await _institution(services, user.id) if services and user else None
    CURRENT.set(LogContext(update.update_id, chat.id if chat else None, institution))
    log.info("%s", describe(update))


async def _institution(services: Services, user_id: int) -> str | None:
    """Return the short name of the user's institution; a failing database must not matter."""
    try:
        member = await storage.member_by_user(services.db, user_id)
        if member is None:
            return None
        institution = await storage.institution_by_id(services.db, member.institution_id)
    except (sqlite3.Error, storage.StorageError, ValueError):
        return "?"
    return institution.short if institution else None


_CONTENT = ("photo", "sticker", "voice", "video", "video_note", "audio", "animation",
            "document", "location", "venue", "contact", "poll", "dice", "game", "story")


def describe(update: Update) -> str:
    """Say what kind of update arrived, without its text: e.g. "private message: text, 12 chars"."""
    if update.callback_query is not None:
        code = (update.callback_query.data or "").partition(":")[0][:8]
        return f"button press ({code or 'no data'})"
    message = update.effective_message
    kind = next((name for name in ("message", "edited_message", "channel_post",
                                   "edited_channel_post") if getattr(update, name)), None)
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
