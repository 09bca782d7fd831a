"""The first follow-up after a reply with measures: "Bis wann?", on its own message."""

from __future__ import annotations

import asyncio
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import storage
from bot.core import measures as plan
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.send import retire
from storage import measures as store


def _button(s: Services, language: str, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        s.templates.render(language, "measure_button", key=key), callback_data=data
    )


def _keyboard(rows_: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows_)


def _due_keyboard(
    s: Services, language: str, prefix: str, skip: str | None
) -> InlineKeyboardMarkup:
    keys = plan.DUE_CHOICES
    buttons = [_button(s, language, k, f"{prefix}:{k}") for k in keys]
    layout = [buttons[0:2], buttons[2:4], buttons[4:5]]
    if skip is not None:
        layout[2].append(_button(s, language, "skip", skip))
    return _keyboard(layout)


def _today(s: Services) -> date:
    return s.clock().astimezone(s.config.checks.tz).date()


async def offer_plan(
    context: BotContext,
    member: storage.Member,
    batch: int,
    active: storage.ActiveMessage | None,
    transcript: str | None,
) -> bool:
    """Ask "Bis wann?" for the measures a reply just added, as the message with buttons.

    The dialogue has moved on already: tapping through, "Überspringen" or any command shows
    the next question, so the follow-ups delay nobody. Returns False when there is nothing to ask.
    """
    s = context.services
    measures = await store.measures_of_batch(s.db, batch)
    chat_id = member.telegram_user_id
    if not measures or chat_id is None:
        return False
    text = s.templates.render(
        member.language,
        "measure_plan",
        stage="due",
        count=len(measures),
        texts=[m.text for m in measures],
    )
    markup = _due_keyboard(s, member.language, f"mp:d:{batch}", f"mp:s:{batch}")
    # The edit changes a message above and the new one goes below it: at once, as in a turn.
    message, _ = await asyncio.gather(
        context.bot.send_message(chat_id, text, reply_markup=markup),
        retire(context.bot, chat_id, active, transcript if active and active.asks else None),
    )
    await storage.save_active_message(
        s.db, member.id, storage.ActiveMessage(message.message_id, None)
    )
    return True


def status_keyboard(s: Services, language: str, measure_id: int) -> InlineKeyboardMarkup:
    """The follow-up's buttons: ✅ Umgesetzt · ⏳ In Arbeit · 📅 Verschieben · ❌ Verworfen."""
    keys = ("umgesetzt", "in_arbeit", "later", "verworfen")
    buttons = [_button(s, language, k, f"ms:{measure_id}:{k}") for k in keys]
    return _keyboard([buttons[0:2], buttons[2:4]])
