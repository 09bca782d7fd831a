"""Views to Bot API calls, keeping exactly one message with buttons per member."""

from __future__ import annotations

import logging
import sqlite3
import warnings

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

import storage
from bot.callbacks import encode
from bot.views import View
from dialogues.model import Position

log = logging.getLogger(__name__)


def markup(view: View) -> InlineKeyboardMarkup | None:
    if not view.keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=encode(b.event)) for b in row]
         for row in view.keyboard]
    )


async def send_views(bot: Bot, chat_id: int, views: list[View]) -> Message | None:
    """Send views in order; return the last message that has buttons."""
    with_buttons = None
    for view in views:
        message = await bot.send_message(chat_id, view.text, reply_markup=markup(view))
        if view.keyboard:
            with_buttons = message
    return with_buttons


async def retire(bot: Bot, chat_id: int, active: storage.ActiveMessage | None,
                 transcript: str | None) -> None:
    """Take the buttons off the previous message, showing the given answer where there is one."""
    if active is None:
        return
    try:
        if transcript is not None:
            await bot.edit_message_text(transcript, chat_id, active.message_id, reply_markup=None)
        else:
            await _remove_keyboard(bot, chat_id, active.message_id)
    except BadRequest as exc:
        # Deleted by the user, too old to edit, or unchanged: the buttons are gone either way.
        log.info("could not retire message %s: %s", active.message_id, exc.message)


async def _remove_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Remove a message's inline keyboard.

    Not bot.edit_message_reply_markup: with Defaults(parse_mode=…) PTB 22 also sends a
    parse_mode field, which editMessageReplyMarkup does not have.
    """
    with warnings.catch_warnings():  # PTB asks to prefer its method, which is the problem here
        warnings.simplefilter("ignore", PTBUserWarning)
        await bot.do_api_request(
            "editMessageReplyMarkup", api_kwargs={"chat_id": chat_id, "message_id": message_id}
        )


async def show(bot: Bot, db: storage.Database, member: storage.Member, views: list[View],
               transcript: str | None = None) -> None:
    """Retire the member's previous buttons, send the views and remember the new buttons."""
    chat_id = member.telegram_user_id
    assert chat_id is not None
    active = await storage.load_active_message(db, member.id)
    await retire(bot, chat_id, active, transcript if active and active.asks else None)
    shown = await send_views(bot, chat_id, views)
    asks = next((v.asks for v in reversed(views) if v.keyboard), None)
    saved = storage.ActiveMessage(shown.message_id, position_key(asks)) if shown else None
    try:
        async with db.transaction():
            await storage.save_active_message(db, member.id, saved)
    except (storage.StorageError, sqlite3.OperationalError) as exc:
        # Shown already, so the user must not hear "not saved": what the views confirm was
        # stored before. Forgetting which message has buttons only leaves them on screen.
        log.error("could not remember message %s as the one with buttons: %s",
                  saved.message_id if saved else None, exc)


def position_key(position: Position | None) -> str | None:
    """Name a question as stored with the active message: "K1.fulfilment"."""
    return f"{position.requirement_id}.{position.question_key}" if position else None
