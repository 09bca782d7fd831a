"""The error handler: log first (never the token), then reassure the user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.services import SERVICES, services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its update id, and tell the user their answers are safe."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or SERVICES not in context.application.bot_data:
        return
    s = services(context)
    language = s.language_for(update.effective_user)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat = update.effective_chat
        if chat is not None and chat.type == chat.PRIVATE:
            await context.bot.send_message(chat.id, s.templates.render(language, "error"))
    except TelegramError:
        log.warning("could not tell user of update %s about the failure", update_id)
