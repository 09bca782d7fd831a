"""The member's conversation: buttons, typed answers and dialogue commands become engine events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import LinkPreviewOptions, Update

import storage
from bot.core.admin import invite_link
from bot.core.checks import CatalogueMismatch, NoOpenRound, Turn
from bot.render.callbacks import decode
from bot.render.commands import dialogue_event
from bot.render.presenter import Context
from bot.render.views import Button, View
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.courier import COURIER, Courier
from bot.telegram.handlers.measure_plan import offer_plan
from bot.telegram.send import retire, show_after
from dialogues import effects as fx
from dialogues import events as ev
from dialogues.model import Answer, Position

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
REASON_LIMIT = 300  # a one-line reason; longer text is cut rather than refused


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
        event, stale_anyway = ev.Show(), True
    else:
        stale_anyway = False

    def acknowledge(turn: Turn | None) -> Awaitable[bool]:
        stale = stale_anyway or (turn is not None and _rejected_as(turn, fx.Reason.STALE))
        return query.answer(s.templates.render(language, "callback_stale") if stale else None)

    await converse(context, member, event, pressed=query.message.message_id, ack=acknowledge)


async def on_text(update: Update, context: BotContext) -> None:
    """Take typed text as an answer (or as an option written out)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    member = await member_or_hint(update, context)
    if member is None:
        return
    if await storage.pending_reason(context.services.db, member.id) is not None:
        await take_reason(context, member, message.text)
        return
    await converse(context, member, ev.Type(message.text))


async def take_reason(context: BotContext, member: storage.Member, text: str) -> None:
    """Store the one-line reason with the revision that changed a colleague's answer."""
    s = context.services
    reason = " ".join(text.split())[:REASON_LIMIT] or None  # one line, whatever was typed
    async with s.db.transaction():
        await storage.give_reason(s.db, member.id, reason)
    assert member.telegram_user_id is not None
    await context.bot.send_message(
        member.telegram_user_id, s.templates.render(member.language, "reason_thanks")
    )
    await converse(context, member, ev.Show())


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


Acknowledge = Callable[[Turn | None], Awaitable[object]]


async def converse(
    context: BotContext,
    member: storage.Member,
    event: ev.Event,
    pressed: int | None = None,
    ack: Acknowledge | None = None,
) -> Turn | None:
    """Run one event, commit it, then in one round trip: acknowledge, retire, show what follows.

    `ack` answers the button press; like everything shown, only after the commit.
    """
    s = context.services
    chat_id = member.telegram_user_id
    assert chat_id is not None
    try:
        turn = await s.checks.handle(member, event)
    except (NoOpenRound, CatalogueMismatch) as exc:
        if ack is not None:
            await ack(None)
        await _explain_no_round(context, s, member, exc)
        return None
    acks = [ack(turn)] if ack is not None else []
    if turn.queued or any(isinstance(e, fx.Submitted) for e in turn.step.effects):
        deliver_soon(context)
    if pressed is not None and _repeats_stored_answer(turn, event):
        await asyncio.gather(*acks)
        return turn  # a double tap: the answer is stored and what follows is already shown
    ctx = Context(
        member.language,
        turn.authors,
        plain=member.plain_mode,
        handovers=turn.handovers,
        proposal_authors=turn.proposal_authors,
        past_measures=turn.past_measures,
    )
    if turn.handover_code is not None:
        await _send_handover(context, member, turn)
    active = turn.active
    if turn.measure_batch is not None:  # the measures' two follow-ups first, then what is next
        transcript = _transcript(s, turn, active, ctx)
        if await offer_plan(context, member, turn.measure_batch, active, transcript):
            await asyncio.gather(*acks)
            return turn
    if pressed is not None and (active is None or active.message_id != pressed):
        # Buttons on a message other than the active one are left over: take them off too.
        acks.append(retire(context.bot, chat_id, storage.ActiveMessage(pressed, None), None))
    views = _ask_reason(s, turn, ctx) if turn.changed else s.presenter.turn(turn.step, ctx)
    await show_after(
        context.bot, s.db, member, views, active, _transcript(s, turn, active, ctx), acks
    )
    return turn


def _ask_reason(s: Services, turn: Turn, ctx: Context) -> list[View]:
    """Show the colleague's answer and ask why the member sees it differently (one tap skips)."""
    assert turn.changed is not None
    before, after = turn.changed.before, turn.changed.after
    position = Position(after.requirement_id, after.question_key)
    text = s.templates.render(
        ctx.language,
        "reason_asked",
        colleague=before.author_name,
        before=s.presenter.answer_text(position, Answer(before.value, before.text), ctx.language),
        at=before.answered_at,
        after=s.presenter.answer_text(position, Answer(after.value, after.text), ctx.language),
        id=after.requirement_id,
    )
    # "Show" goes on with whatever is current; any step after this one skips the reason.
    skip = Button(s.templates.label(ctx.language, "skip_reason"), ev.Show())
    return [View(text, ((skip,),))]


async def _send_handover(context: BotContext, member: storage.Member, turn: Turn) -> None:
    """Explain, then send the message to forward: it names the requirement and holds the link."""
    s = context.services
    assert member.telegram_user_id is not None and turn.handover_code is not None
    handed = next(e for e in turn.step.effects if isinstance(e, fx.HandedOver))
    requirement = s.dialogue.catalogue.requirement(handed.requirement_id)
    values = {"id": requirement.id, "title": requirement.title(member.language)}
    link = invite_link(context.bot.username, turn.handover_code)
    chat = member.telegram_user_id
    explained = s.templates.render(member.language, "handover_made", **values)
    await context.bot.send_message(chat, explained)
    text = s.templates.render(member.language, "handover_message", link=link, **values)
    await context.bot.send_message(chat, text, link_preview_options=NO_PREVIEW)


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
