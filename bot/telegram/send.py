"""Views to Bot API calls, keeping exactly one message with buttons per member."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import warnings
from collections.abc import Awaitable, Iterable
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

import storage
from bot.render.callbacks import encode
from bot.render.views import View

log = logging.getLogger(__name__)
# PTB asks to prefer its own methods to do_api_request; for the calls below, not using them is the
# point (see `call`). A filter set once: catch_warnings around an await is not task-safe.
warnings.filterwarnings(
    "ignore",
    r"Please use 'Bot\.(sendMessage|editMessageText|"
    r"editMessageReplyMarkup)'",
    PTBUserWarning,
)


def markup(view: View) -> InlineKeyboardMarkup | None:
    if not view.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=encode(b.event)) for b in row]
            for row in view.keyboard
        ]
    )


async def call(bot: Bot, method: str, **params: Any) -> Any:
    """Call a Bot API method and return Telegram's raw result, unparsed.

    For the calls of every turn: the bot needs only a sent message's id, and PTB turning each
    returned Message (its entities, the echoed keyboard) into objects took a fifth of the main
    thread's time per answer (BENCHMARKS.md). PTB's Defaults do not apply here, so texts name
    parse_mode.
    The rate limiter, retries and errors are PTB's as for any call.
    """
    return await bot.do_api_request(method, api_kwargs=params)


async def send_views(bot: Bot, chat_id: int, views: list[View]) -> int | None:
    """Send views in order; return the id of the last message that has buttons."""
    with_buttons = None
    for view in views:
        message = await call(
            bot,
            "sendMessage",
            chat_id=chat_id,
            text=view.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup(view),
        )
        if view.keyboard:
            with_buttons = message["message_id"]
    return with_buttons


async def retire(
    bot: Bot, chat_id: int, active: storage.ActiveMessage | None, transcript: str | None
) -> None:
    """Take the buttons off the previous message, showing the given answer where there is one."""
    if active is None:
        return
    try:
        if transcript is not None:  # without reply_markup, the edit takes the buttons off
            await call(
                bot,
                "editMessageText",
                chat_id=chat_id,
                message_id=active.message_id,
                text=transcript,
                parse_mode=ParseMode.HTML,
            )
        else:
            # Not bot.edit_message_reply_markup: with Defaults(parse_mode=…) PTB 22 also sends
            # a parse_mode field, which editMessageReplyMarkup does not have.
            await call(bot, "editMessageReplyMarkup", chat_id=chat_id, message_id=active.message_id)
    except BadRequest as exc:
        # Deleted by the user, too old to edit, or unchanged: the buttons are gone either way.
        log.info("could not retire message %s: %s", active.message_id, exc.message)


async def show(
    bot: Bot,
    db: storage.Database,
    member: storage.Member,
    views: list[View],
    transcript: str | None = None,
) -> None:
    """Retire the member's previous buttons, send the views and remember the new buttons."""
    active = await storage.load_active_message(db, member.id)
    await show_after(bot, db, member, views, active, transcript)


async def show_after(
    bot: Bot,
    db: storage.Database,
    member: storage.Member,
    views: list[View],
    active: storage.ActiveMessage | None,
    transcript: str | None = None,
    alongside: Iterable[Awaitable[object]] = (),
) -> None:
    """Show a committed turn in one round trip: retire, send and `alongside` calls at once.

    The edit changes a message above and the new ones are sent below it, so running them
    concurrently keeps the order on screen; the views themselves go one after another.
    Whatever fails, the new buttons are remembered before the first failure is raised.
    """
    chat_id = member.telegram_user_id
    assert chat_id is not None
    retiring = retire(bot, chat_id, active, transcript if active and active.asks else None)
    outcomes = await asyncio.gather(
        send_views(bot, chat_id, views), retiring, *alongside, return_exceptions=True
    )
    shown = outcomes[0] if isinstance(outcomes[0], int) else None
    asks = next((v.asks for v in reversed(views) if v.keyboard), None)
    saved = storage.ActiveMessage(shown, asks.key if asks else None) if shown is not None else None
    if shown is not None or not isinstance(outcomes[0], BaseException):
        await _remember(db, member, saved)
    failed = next((o for o in outcomes if isinstance(o, BaseException)), None)
    if failed is not None:
        raise failed


async def _remember(
    db: storage.Database, member: storage.Member, saved: storage.ActiveMessage | None
) -> None:
    try:
        await storage.save_active_message(db, member.id, saved)
    except (storage.StorageError, sqlite3.OperationalError) as exc:
        # Shown already, so the user must not hear "not saved": what the views confirm was
        # stored before. Forgetting which message has buttons only leaves them on screen.
        log.error(
            "could not remember message %s as the one with buttons: %s",
            saved.message_id if saved else None,
            exc,
        )
