"""The member's conversation: buttons, typed answers and dialogue commands become engine events."""

from __future__ import annotations

import logging

from telegram import Update

import storage
from bot.core.checks import CatalogueMismatch, NoOpenRound, Turn
from bot.render.callbacks import decode
from bot.render.commands import dialogue_event
from bot.render.presenter import Context
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.courier import COURIER, Courier
from bot.telegram.handlers.measure_plan import offer_plan
from bot.telegram.send import retire, show
from dialogues import effects as fx
from dialogues import events as ev
from dialogues.model import Position

log = logging.getLogger(__name__)


async def on_button(update: Update, context: BotContext) -> None:
    """Answer the button press, then run the event it carries."""
    query = update.callback_query
    assert query is not None
    s = context.services
    member = await storage.member_by_user(s.db, query.from_user.id)
    language = s.language_for(query.from_user, member)
    event = decode(query.data or "")
    if query.message is None:  # an inline message's button: the bot never sends those
        await query.answer(s.templates.render(language, "callback_stale"))
        return
    if member is None:
        await query.answer(s.templates.render(language, "callback_not_member"), show_alert=True)
        return
    if event is None:  # data we never sent: forged, or from a far older version of the bot
        await query.answer(s.templates.render(language, "callback_stale"))
        await converse(context, member, ev.Show(), pressed=query.message.message_id)
        return
    turn = await converse(context, member, event, pressed=query.message.message_id)
    stale = turn is not None and _rejected_as(turn, fx.Reason.STALE)
    await query.answer(s.templates.render(language, "callback_stale") if stale else None)


async def on_text(update: Update, context: BotContext) -> None:
    """Take typed text as an answer (or as an option written out)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    member = await member_or_hint(update, context)
    if member is not None:
        await converse(context, member, ev.Type(message.text))


async def on_command(update: Update, context: BotContext) -> None:
    """Run a dialogue command such as /weiter, /zurueck or /uebersicht."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name = message.text.split()[0][1:].split("@")[0]
    event = dialogue_event(name)
    member = await member_or_hint(update, context)
    if member is not None and event is not None:
        await converse(context, member, event)


async def member_or_hint(update: Update, context: BotContext) -> storage.Member | None:
    """Return the sender's membership, or tell them how to join and return None."""
    s = context.services
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    member = await storage.member_by_user(s.db, user.id)
    if member is None:
        text = s.templates.render(s.language_for(user), "not_member")
        await context.bot.send_message(update.effective_chat.id, text)
    return member


async def converse(
    context: BotContext, member: storage.Member, event: ev.Event, pressed: int | None = None
) -> Turn | None:
    """Run one event, commit it, retire the old buttons and show what follows."""
    s = context.services
    chat_id = member.telegram_user_id
    assert chat_id is not None
    try:
        turn = await s.checks.handle(member, event)
    except (NoOpenRound, CatalogueMismatch) as exc:
        await _explain_no_round(context, s, member, exc)
        return None
    if any(isinstance(e, fx.Submitted) for e in turn.step.effects):
        deliver_soon(context)
    if pressed is not None and _repeats_stored_answer(turn, event):
        return turn  # a double tap: the answer is stored and what follows is already shown
    ctx = Context(member.language, turn.authors)
    active = await storage.load_active_message(s.db, member.id)
    if turn.measure_batch is not None:  # the measures' two follow-ups first, then what is next
        transcript = _transcript(s, turn, active, ctx)
        if await offer_plan(context, member, turn.measure_batch, active, transcript):
            return turn
    if pressed is not None and (active is None or active.message_id != pressed):
        # Buttons on a message other than the active one are left over: take them off too.
        await retire(context.bot, chat_id, storage.ActiveMessage(pressed, None), None)
    await show(
        context.bot,
        s.db,
        member,
        s.presenter.turn(turn.step, ctx),
        _transcript(s, turn, active, ctx),
    )
    return turn


def _transcript(
    s: Services, turn: Turn, active: storage.ActiveMessage | None, ctx: Context
) -> str | None:
    """Return the answered question's text for the message that asked it, if it did."""
    if active is None or active.asks is None:
        return None
    asked = Position.parse(active.asks)
    for record in reversed(turn.step.records):
        if record.position == asked:
            return s.presenter.answered(record.position, record.answer, ctx)
    return None


def _repeats_stored_answer(turn: Turn, event: ev.Event) -> bool:
    """Tell whether a stale answer button carries the answer already stored (a double tap)."""
    if not (
        isinstance(event, ev.Choose)
        and event.at is not None
        and _rejected_as(turn, fx.Reason.STALE)
    ):
        return False
    stored = turn.step.state.answers.get((event.at.requirement_id, event.at.question_key))
    return stored is not None and stored.value == event.value


def _rejected_as(turn: Turn, reason: fx.Reason) -> bool:
    rejected = turn.step.rejected
    return rejected is not None and rejected.reason is reason


async def _explain_no_round(
    context: BotContext, s: Services, member: storage.Member, exc: Exception
) -> None:
    if isinstance(exc, CatalogueMismatch):
        log.error("cannot run the check: %s", exc)
    assert member.telegram_user_id is not None
    await context.bot.send_message(
        member.telegram_user_id, s.templates.render(member.language, "no_round")
    )


def deliver_soon(context: BotContext) -> None:
    """Deliver the outbox now rather than at the next sweep (the digest was just queued)."""
    courier: Courier = context.application.bot_data[COURIER]
    app = context.application
    app.create_task(courier.flush(context.bot, lambda: app.running), name="deliver outbox")
