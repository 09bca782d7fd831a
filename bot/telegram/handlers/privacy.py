"""A person's own data: /meinedaten, /loeschen and /austreten, each confirmed by a button."""

from __future__ import annotations

import re

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest

import storage
from bot.core import privacy
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.handlers.dialogue import on_button as dialogue_button
from bot.telegram.send import retire

CALLBACK_PATTERN = r"^privacy:(erase|leave|cancel)$"
FILENAME = "ChancenCheckLU_meine_Daten.json"


async def on_my_data(update: Update, context: BotContext) -> None:
    """Send everything stored about the user as a JSON document."""
    s, user_id, language = await _who(update, context)
    data = await privacy.personal_data_json(s.db, user_id, s.clock())
    caption = s.templates.render(language, "my_data")
    await context.bot.send_document(user_id, InputFile(data, filename=FILENAME), caption=caption)


async def on_erase(update: Update, context: BotContext) -> None:
    """Explain what /loeschen deletes and what stays, and ask to confirm."""
    s, user_id, language = await _who(update, context)
    member = await storage.member_by_user(s.db, user_id)
    text = s.templates.render(
        language, "erase_confirm", member=member, replica_hours=_replica_hours(s)
    )
    await _ask(context, s, user_id, language, text, "erase_yes", "privacy:erase")


async def on_leave(update: Update, context: BotContext) -> None:
    """Ask a member to confirm leaving their institution."""
    s, user_id, language = await _who(update, context)
    member = await storage.member_by_user(s.db, user_id)
    if member is None:
        await context.bot.send_message(user_id, s.templates.render(language, "not_member"))
        return
    institution = await storage.institution_by_id(s.db, member.institution_id)
    text = s.templates.render(language, "leave_confirm", institution=institution)
    await _ask(context, s, user_id, language, text, "leave_yes", "privacy:leave")


async def on_button(update: Update, context: BotContext) -> None:
    """Carry out a confirmed erasure or leave; the button's sender is the one it applies to."""
    query = update.callback_query
    assert query is not None
    if not re.fullmatch(CALLBACK_PATTERN, query.data or ""):
        # PTB gives a press without data to every pattern's handler: not ours (fuzzer found).
        await dialogue_button(update, context)
        return
    s, user_id, language = await _who(update, context)
    member = await storage.member_by_user(s.db, user_id)
    action = (query.data or "").removeprefix("privacy:")
    if member is not None and action != "cancel":
        active = await storage.load_active_message(s.db, member.id)
        await retire(context.bot, user_id, active, None)  # the dialogue's buttons go too
    if action == "erase":
        former = s.templates.label(s.config.checks.language, "former_member")
        await privacy.erase(s.db, user_id, former, s.config.replication.enabled)
        in_config = user_id in s.config.telegram.coordinators  # config is not ours to change
        text = s.templates.render(
            language, "erased", in_config=in_config, replica_hours=_replica_hours(s)
        )
    elif action == "leave" and member is not None:
        await privacy.leave(s.db, member)
        institution = await storage.institution_by_id(s.db, member.institution_id)
        text = s.templates.render(language, "left", institution=institution)
    else:  # cancelled, or a leave pressed after the membership had ended
        text = s.templates.render(language, "privacy_cancelled")
    await query.answer()
    await _replace(context, query, user_id, text)


async def _replace(context: BotContext, query: CallbackQuery, user_id: int, text: str) -> None:
    """Show the outcome in place of the question, or anew if that message cannot be edited."""
    if isinstance(query.message, Message):
        try:
            await query.edit_message_text(text)
            return
        except BadRequest:  # deleted meanwhile, or forged: the outcome must still be said
            pass
    await context.bot.send_message(user_id, text)


async def _who(update: Update, context: BotContext) -> tuple[Services, int, str]:
    s = context.services
    user = update.effective_user
    assert user is not None
    member = await storage.member_by_user(s.db, user.id)
    return s, user.id, s.language_for(user, member)


async def _ask(
    context: BotContext, s: Services, user_id: int, language: str, text: str, yes: str, data: str
) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(s.templates.label(language, yes), callback_data=data),
                InlineKeyboardButton(
                    s.templates.label(language, "cancel"), callback_data="privacy:cancel"
                ),
            ]
        ]
    )
    await context.bot.send_message(user_id, text, reply_markup=keyboard)


def _replica_hours(s: Services) -> int | None:
    """Return how long the replica keeps erased data, or None without replication."""
    return privacy.REPLICA_HISTORY_HOURS if s.config.replication.enabled else None
