"""Coordinators open and close rounds in the chat: /runde_oeffnen and /runde_schliessen."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

import storage
from bot.core import admin
from bot.core.rounds import UnknownRound, close_round, round_to_close
from bot.reminders.deadline import DayError, parse_day
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.handlers.dialogue import deliver_soon
from bot.telegram.handlers.guard import actor, allowed, coordinator_only, say
from bot.telegram.send import retire

CALLBACK_PATTERN = r"^round_close:(\d+|cancel)$"


@coordinator_only
async def on_open_round(update: Update, context: BotContext, s: Services) -> None:
    """Open a round: the rest of the line is its name, the last word its deadline."""
    words = list(context.args or [])
    if len(words) < 2:
        await say(update, context, s, "round_open_usage", problem=None)
        return
    try:
        deadline = parse_day(words[-1])
    except DayError as error:
        problem = "invalid" if error.exists else "nonexistent"
        await say(update, context, s, "round_open_usage", problem=problem, text=error.text)
        return
    today = s.clock().astimezone(s.config.checks.tz).date()
    previous = await storage.current_cycle(s.db) or await _latest(s)
    try:
        cycle = await admin.open_round(
            s.db, s.dialogue.catalogue, " ".join(words[:-1]), deadline, today, actor(update)
        )
    except admin.AdminError as exc:
        await say(update, context, s, "round_refused", key=exc.key, **exc.values)
        return
    carried = previous.name if previous is not None else None
    await say(update, context, s, "round_opened", cycle=cycle, carried=carried)


async def _latest(s: Services) -> storage.Cycle | None:
    cycles = await storage.list_cycles(s.db)
    return cycles[-1] if cycles else None


@coordinator_only
async def on_close_round(update: Update, context: BotContext, s: Services) -> None:
    """Ask to close the named round, listing who has not submitted, with a button to confirm."""
    name = " ".join(context.args or []).strip()
    if not name:
        current = await storage.current_cycle(s.db)
        await say(
            update, context, s, "round_close_usage", example=current.name if current else "2027"
        )
        return
    try:
        cycle, missing = await round_to_close(s.db, name)
    except UnknownRound as exc:
        await say(update, context, s, "round_unknown", name=exc.name, names=exc.names)
        return
    except admin.AdminError as exc:
        await say(update, context, s, "round_refused", key=exc.key, name=name)
        return
    language = s.config.checks.language
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    s.templates.label(language, "close_round_yes"),
                    callback_data=f"round_close:{cycle.id}",
                ),
                InlineKeyboardButton(
                    s.templates.label(language, "cancel"), callback_data="round_close:cancel"
                ),
            ]
        ]
    )
    text = s.templates.render(language, "round_close_confirm", cycle=cycle, missing=missing)
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=keyboard)


async def on_close_button(update: Update, context: BotContext) -> None:
    """Close the round on the confirmation button; a second tap finds it closed already."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    s = await allowed(update, context)
    if s is None:
        return
    if query.message is not None:  # take the buttons off, so the question is settled
        message = storage.ActiveMessage(query.message.message_id, None)
        await retire(context.bot, query.message.chat.id, message, None)
    match = re.fullmatch(CALLBACK_PATTERN, query.data or "")
    if match is None or match[1] == "cancel":
        await say(update, context, s, "round_close_kept")
        return
    cycle = await storage.cycle_by_id(s.db, int(match[1]))
    if cycle is None:
        await say(update, context, s, "round_unknown", name=match[1], names=[])
        return
    try:
        closed, queued = await close_round(
            s.db, s.config, s.templates, s.dialogue.catalogue, cycle.name, actor(update), s.clock()
        )
    except admin.AdminError as exc:
        await say(update, context, s, "round_refused", key=exc.key, name=cycle.name)
        return
    await say(update, context, s, "round_closed", cycle=closed, queued=queued)
    deliver_soon(context)
