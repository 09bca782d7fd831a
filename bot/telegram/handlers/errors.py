"""The error handler: log first (never the token), then reassure the user."""

from __future__ import annotations

import logging
import sqlite3

from telegram import Update
from telegram.error import TelegramError

import storage
from bot.services import SERVICES
from bot.telegram.context import BotContext
from storage.db import explain

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with its update id, and tell the user whether their input was saved."""
    update_id = update.update_id if isinstance(update, Update) else None
    ready = SERVICES in context.application.bot_data
    failure = database_failure(context.error, context.services.db.path if ready else "")
    what = f"update {update_id}" if update_id is not None else "a background job"
    if failure is not None:
        # Every write of a handler precedes its reply, so a failed write means nothing of this
        # update was stored: the operator learns why and what to do, the user to send it again.
        log.error("%s was not stored, the database failed: %s", what, failure)
        log.debug("the database failure in detail", exc_info=context.error)
    else:
        log.error("%s failed", what, exc_info=context.error)
    if not isinstance(update, Update) or not ready:
        return
    s = context.services
    language = s.language_for(update.effective_user)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            pass  # answered already, or too old: the message below matters more
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        return
    try:
        text = s.templates.render(language, "error" if failure is None else "not_saved")
        await context.bot.send_message(chat.id, text)
    except TelegramError:
        log.warning("could not tell user of update %s about the failure", update_id)


def database_failure(error: BaseException | None, path: str) -> str | None:
    """Return the operator's explanation if the error is the database failing, else None.

    Constraint violations and lookups of missing rows are bugs, not failures of the database.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if type(error) is storage.StorageError:
            return str(error)
        if isinstance(error, sqlite3.Error) and not isinstance(error, sqlite3.IntegrityError):
            return str(explain(path, error))
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
