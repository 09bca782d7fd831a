"""The improvement plan in the chat: plan a reply's measures, change their status, /massnahmen.

The two follow-ups after measures ("Bis wann?", "Wer kümmert sich?") live on their own message,
beside the dialogue: the next question is shown at once, so ignoring them traps nobody, and
their buttons carry the batch they plan, so they work after a restart too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest

import storage
from bot.core import audit
from bot.core import measures as plan
from bot.core.access import is_coordinator
from bot.core.plan import PlanRow, institution_counts, month_label, owner_name, rows
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.handlers import dialogue
from bot.telegram.handlers.guard import actor, allowed
from bot.telegram.handlers.measure_plan import _button, _keyboard, _today, status_keyboard
from dialogues import events as ev
from storage import measures as store

CALLBACK_PATTERN = r"^(mp|ms|ml|mo)(:|$)"
NAME_PROMPT_LIFETIME = timedelta(hours=1)
MAX_OWNER_NAME = 60


async def on_button(update: Update, context: BotContext) -> None:
    """Plan measures, change a status, or show one's own plan, as the button says."""
    query = update.callback_query
    assert query is not None
    s = context.services
    member = await storage.member_by_user(s.db, query.from_user.id)
    parts = (query.data or "").split(":")
    if member is None or query.message is None:
        await query.answer(
            s.templates.render(s.language_for(query.from_user), "callback_not_member"),
            show_alert=True,
        )
        return
    if parts[0] == "mp" and len(parts) >= 3 and parts[2].isdigit():
        await _plan_step(context, member, parts, query.message.message_id, query.answer)
        return
    if parts[0] == "ms" and len(parts) >= 3 and parts[1].isdigit():
        await _status_step(context, member, parts, query.message.message_id)
    elif parts[0] == "ml" and len(parts) == 2 and parts[1].isdigit():
        await _offer_status(context, member, int(parts[1]))
    elif parts[0] == "mo":
        await _member_plan(context, member)
    await query.answer()  # last, so that what the press changed is shown when it is answered


async def _edit(
    context: BotContext,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    try:
        await context.bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
    except BadRequest:  # unchanged or too old to edit: say it anew
        await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _plan_step(
    context: BotContext,
    member: storage.Member,
    parts: list[str],
    message_id: int,
    answer: Callable[[], Awaitable[object]],
) -> None:
    """Take one tap of the two follow-ups: the month, the owner, or skipping both.

    `answer` answers the button press; where the check goes on, it goes out with the next
    question in one round trip (as a dialogue turn's does), else after the edit.
    """
    s, language, now = context.services, member.language, context.services.clock()
    batch, choice = int(parts[2]), parts[3] if len(parts) > 3 else ""
    assert member.telegram_user_id is not None
    if parts[1] == "d" and choice in plan.DUE_CHOICES:
        measures = await plan.plan_due(s.db, member, batch, choice, now, _today(s))
        due = month_label(measures[0].due_month) if measures else None
        owners = [[_button(s, language, k, f"mp:o:{batch}:{k}")] for k in plan.OWNER_CHOICES]
        text = s.templates.render(language, "measure_plan", stage="owner", due=due)
        await _edit(context, member.telegram_user_id, message_id, text, _keyboard(owners))
        await answer()
    elif parts[1] == "o" and choice in plan.OWNER_CHOICES:
        measures = await plan.plan_owner(s.db, member, batch, choice, now)
        due = month_label(measures[0].due_month) if measures else None
        if choice == "other":
            markup = _keyboard([[_button(s, language, "open", f"mp:o:{batch}:open")]])
            text = s.templates.render(language, "measure_plan", stage="name", due=due)
            await _edit(context, member.telegram_user_id, message_id, text, markup)
            await answer()
            return
        owner = member.first_name if choice == "me" else None
        text = s.templates.render(language, "measure_plan", stage="done", due=due, owner=owner)
        await _go_on(
            context, member, message_id, _edited(context, member, message_id, text, answer)
        )
    elif parts[1] == "s":
        async with s.db.transaction():
            await store.forget_owner_prompt(s.db, member.id)
        text = s.templates.render(language, "measure_plan", stage="skipped", due=None, owner=None)
        await _go_on(
            context, member, message_id, _edited(context, member, message_id, text, answer)
        )
    else:
        await answer()


def _edited(
    context: BotContext,
    member: storage.Member,
    message_id: int,
    text: str,
    answer: Callable[[], Awaitable[object]],
) -> Callable[[], Awaitable[object]]:
    """Return what settles the plan message: its last text and the button's answer, at once."""
    assert member.telegram_user_id is not None
    chat_id = member.telegram_user_id
    return lambda: asyncio.gather(_edit(context, chat_id, message_id, text), answer())


async def _go_on(
    context: BotContext,
    member: storage.Member,
    message_id: int,
    settle: Callable[[], Awaitable[object]],
) -> None:
    """Show what comes next in the check, if the follow-ups were what the member saw last.

    `settle` (the plan message's edit and the button's answer) goes out alongside the next
    question, after the turn is committed.
    """
    db = context.services.db
    active = await storage.load_active_message(db, member.id)
    if active is None or active.message_id != message_id:
        await settle()
        return  # an older plan message: the member is elsewhere in the check already
    await storage.save_active_message(db, member.id, None)  # its buttons are gone already
    await dialogue.converse(context, member, ev.Show(), ack=lambda _turn: settle())


async def on_text(update: Update, context: BotContext) -> None:
    """Take a typed owner name when one was asked for; any other text goes to the dialogue."""
    s = context.services
    message, user = update.effective_message, update.effective_user
    assert message is not None and message.text is not None and user is not None
    member = await storage.member_by_user(s.db, user.id)
    since = s.clock() - NAME_PROMPT_LIFETIME  # an old prompt no longer takes a text
    batch = await store.awaited_owner_name(s.db, member.id, since) if member else None
    name = message.text.strip()
    if member is None or batch is None:
        await dialogue.on_text(update, context)
        return
    if not _is_name(name):  # rather an answer to the question on screen: no name after all
        async with s.db.transaction():
            await store.forget_owner_prompt(s.db, member.id)
        await dialogue.on_text(update, context)
        return
    measures = await plan.name_owner(s.db, member, batch, name, s.clock())
    due = month_label(measures[0].due_month) if measures else None
    text = s.templates.render(member.language, "measure_plan", stage="done", due=due, owner=name)
    await context.bot.send_message(user.id, text)
    await dialogue.converse(context, member, ev.Show())


def _is_name(text: str) -> bool:
    return 0 < len(text) <= MAX_OWNER_NAME and "\n" not in text and any(ch.isalpha() for ch in text)


async def _status_step(
    context: BotContext, member: storage.Member, parts: list[str], message_id: int
) -> None:
    """Change a measure's status, or move its month ("Verschieben", then the month)."""
    s, now = context.services, context.services.clock()
    measure_id, action = int(parts[1]), parts[2]
    assert member.telegram_user_id is not None
    if action == "later":
        await _offer_postpone(context, member, measure_id, message_id)
        return
    if action == "p" and len(parts) == 4 and parts[3] in plan.DUE_CHOICES:
        changed = await plan.postpone(s.db, member, measure_id, parts[3], now, _today(s))
    elif action in plan.STATUS_CHOICES:
        changed = await plan.set_status(s.db, member, measure_id, action, now)
    else:
        return
    await _edit(context, member.telegram_user_id, message_id, _updated(s, member.language, changed))


def _updated(s: Services, language: str, measure: store.Measure | None) -> str:
    if measure is None:
        return s.templates.render(language, "measure_updated", stage="unknown")
    status = s.templates.render(language, "measure_status", status=measure.status).strip()
    return s.templates.render(
        language,
        "measure_updated",
        stage="saved",
        text=measure.text,
        status=status,
        due=month_label(measure.due_month),
    )


async def _offer_postpone(
    context: BotContext, member: storage.Member, measure_id: int, message_id: int
) -> None:
    s = context.services
    measure = await store.measure_by_id(s.db, measure_id)
    assert member.telegram_user_id is not None
    if measure is None or measure.institution_id != member.institution_id:
        await _edit(
            context, member.telegram_user_id, message_id, _updated(s, member.language, None)
        )
        return
    text = s.templates.render(
        member.language, "measure_updated", stage="postpone", text=measure.text
    )
    keys = [k for k in plan.DUE_CHOICES if k != "open"]
    buttons = [[_button(s, member.language, k, f"ms:{measure_id}:p:{k}")] for k in keys]
    await _edit(context, member.telegram_user_id, message_id, text, _keyboard(buttons))


async def _offer_status(context: BotContext, member: storage.Member, measure_id: int) -> None:
    """Show one measure of the member's plan with the buttons to change its status."""
    s = context.services
    measure = await store.measure_by_id(s.db, measure_id)
    assert member.telegram_user_id is not None
    if measure is None or measure.institution_id != member.institution_id:
        await context.bot.send_message(member.telegram_user_id, _updated(s, member.language, None))
        return
    text = _updated(s, member.language, measure)
    await context.bot.send_message(
        member.telegram_user_id, text, reply_markup=status_keyboard(s, member.language, measure_id)
    )


async def on_measures(update: Update, context: BotContext) -> None:
    """/massnahmen: the plan of the sender's institution, or the coordinators' overview."""
    s = context.services
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if is_coordinator(s.coordinators, user.id):
        if await allowed(update, context) is not None:
            await _coordinator_view(update, context, s)
        return
    member = await storage.member_by_user(s.db, user.id)
    if chat.type != ChatType.PRIVATE:
        await allowed(update, context)  # says it is the coordinators' command here
        return
    if member is None:
        await context.bot.send_message(
            chat.id, s.templates.render(s.language_for(user), "not_member")
        )
        return
    await _member_plan(context, member)


async def _member_plan(context: BotContext, member: storage.Member) -> None:
    """Send the institution's plan with a button per measure to change its status."""
    s = context.services
    institution = await storage.institution_by_id(s.db, member.institution_id)
    measures = await store.list_measures(s.db, member.institution_id)
    items = [await _member_item(s, member.language, m) for m in measures]
    text = s.templates.render(
        member.language, "measures_member", institution=institution, items=items
    )
    numbers = [
        InlineKeyboardButton(str(i + 1), callback_data=f"ml:{m.id}")
        for i, m in enumerate(measures[:40])
    ]
    markup = _keyboard([numbers[i : i + 5] for i in range(0, len(numbers), 5)]) if numbers else None
    assert member.telegram_user_id is not None
    await context.bot.send_message(member.telegram_user_id, text, reply_markup=markup)


async def _member_item(s: Services, language: str, m: store.Measure) -> dict[str, object]:
    return {
        "requirement_id": m.requirement_id,
        "text": m.text,
        "status": s.templates.render(language, "measure_status", status=m.status).strip(),
        "due": month_label(m.due_month),
        "owner": await owner_name(s.db, m),
    }


async def _coordinator_view(update: Update, context: BotContext, s: Services) -> None:
    """Per institution the counts, or with a short name that institution's measures."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    language, today = s.config.checks.language, _today(s)
    await audit.coordinator_action(s, actor(update), "view_measures")
    if context.args:
        institution = await storage.institution_by_short(s.db, context.args[0])
        if institution is None:
            known = ", ".join(i.short for i in await storage.list_institutions(s.db))
            text = s.templates.render(
                language, "unknown_institution", cycle=True, short=context.args[0], known=known
            )
            await context.bot.send_message(chat.id, text)
            return
        measures = await store.list_measures(s.db, institution.id)
        named = s.templates.render(language, "measure_button", key="named_owner").strip()
        found = await rows(s.db, measures, today, s.config.privacy.authors, named)
        items = [_coordinator_item(s, language, r) for r in found]
        text = s.templates.render(
            language, "measures_institution", institution=institution, items=items
        )
        await context.bot.send_message(chat.id, text)
        return
    counted = [{"short": i.short, "c": c} for i, c in await institution_counts(s.db, None, today)]
    own = await storage.member_by_user(s.db, user.id)
    markup = None
    if own is not None and chat.type == ChatType.PRIVATE:
        markup = _keyboard([[_button(s, own.language, "own_plan", "mo")]])
    await context.bot.send_message(
        chat.id,
        s.templates.render(language, "measures_coordinator", rows=counted),
        reply_markup=markup,
    )


def _coordinator_item(s: Services, language: str, row: PlanRow) -> dict[str, object]:
    status = s.templates.render(language, "measure_status", status=row.status).strip()
    return {
        "requirement_id": row.requirement_id,
        "text": row.text,
        "status": status,
        "due": row.due,
        "owner": row.owner,
    }
