"""The round and its deadline: /runde, /frist for coordinators, /erinnerungen for members."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.constants import ChatType

import bot.reminders.sweep as reminders
import storage
from bot.core.access import coordination_chat, is_coordinator
from bot.reminders.deadline import DayError, deadline_problem, move_deadline, parse_day
from bot.reminders.progress import institution_progress, round_progress
from bot.reminders.schedule import days_left, next_reminder, reminder_times
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.handlers import general

SWITCH = {"aus": False, "off": False, "an": True, "ein": True, "on": True}


async def on_round(update: Update, context: BotContext) -> None:
    """Show the current round and its deadline: all institutions to coordinators, else one's own."""
    s = context.services
    place = await _place(s, update)
    if place is None:  # a group other than the coordination chat
        await general.on_group(update, context)
        return
    user = update.effective_user
    member = await storage.member_by_user(s.db, user.id) if user else None
    coordinator = place == "coordination" or (
        user is not None and is_coordinator(s.coordinators, user.id)
    )
    language = _language(s, update, member)
    cycle = await storage.current_cycle(s.db)
    if cycle is None and (coordinator or member):
        text = s.templates.render(language, "round_none", coordinator=coordinator)
    elif coordinator:
        text = await _coordinator_view(s, cycle, language)
    elif member is None:
        text = s.templates.render(language, "not_member")
    else:
        text = await _member_view(s, cycle, member)
    await _reply(update, context, text)


async def on_deadline(update: Update, context: BotContext) -> None:
    """Move the round's deadline (coordinators only) and tell the members of open checks."""
    s = context.services
    place = await _place(s, update)
    if place is None:
        await general.on_group(update, context)
        return
    user = update.effective_user
    member = await storage.member_by_user(s.db, user.id) if user else None
    language = _language(s, update, member)
    if user is None or not is_coordinator(s.coordinators, user.id):
        await _reply(update, context, s.templates.render(language, "deadline_refused"))
        return
    cycle = await storage.current_cycle(s.db)
    try:
        deadline = parse_day(context.args[0]) if context.args else None
    except DayError as error:
        if cycle is not None and not error.exists:  # "30.02.2027 gibt es nicht"
            await _reply(
                update,
                context,
                s.templates.render(
                    language, "deadline_invalid", problem="nonexistent", text=error.text
                ),
            )
            return
        deadline = None
    if cycle is None or deadline is None:
        await _reply(update, context, _usage(s, language, cycle))
        return
    now = s.clock()
    problem = deadline_problem(cycle, deadline, now.astimezone(s.config.checks.tz).date())
    if problem:
        text = s.templates.render(
            language, "deadline_invalid", problem=problem, deadline=deadline, cycle=cycle
        )
        await _reply(update, context, text)
        return
    move = await move_deadline(s.db, cycle, deadline, user.id, now)
    await _reply(
        update, context, s.templates.render(language, "deadline_confirmed", move=move, cycle=cycle)
    )
    reminders.sweep_soon(context)  # tell the members now, not at the next minute


async def on_reminders(update: Update, context: BotContext) -> None:
    """Switch the member's reminders off or on (/erinnerungen aus|an), or say which they are."""
    s = context.services
    user = update.effective_user
    assert user is not None
    member = await storage.member_by_user(s.db, user.id)
    if member is None:
        await _reply(update, context, s.templates.render(s.language_for(user), "not_member"))
        return
    choice = SWITCH.get(context.args[0].lower()) if context.args else None
    if choice is not None:
        async with s.db.transaction():
            member = await storage.set_reminders(s.db, member.id, choice)
            member = await storage.touch_member(s.db, member.id, s.clock())  # reachable: wrote
    text = s.templates.render(
        member.language,
        "reminder_settings",
        enabled=member.reminders_enabled,
        changed=choice is not None,
    )
    await _reply(update, context, text)


async def _place(s: Services, update: Update) -> str | None:
    """Return "private" or "coordination" for the chats these commands work in, else None."""
    chat = update.effective_chat
    assert chat is not None
    if chat.type == ChatType.PRIVATE:
        return "private"
    return "coordination" if chat.id == await coordination_chat(s.db, s.config) else None


def _language(s: Services, update: Update, member: storage.Member | None) -> str:
    """Speak the member's language in private, the configured one in the coordination chat."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        return s.config.checks.language
    return s.language_for(update.effective_user, member)


async def _coordinator_view(s: Services, cycle: storage.Cycle | None, language: str) -> str:
    assert cycle is not None
    progress = await round_progress(s, cycle)
    now, settings = s.clock(), s.config.reminders
    times = reminder_times(
        cycle.deadline,
        settings.days_before,
        settings.send_at,
        settings.skip_weekends,
        s.config.checks.tz,
    )
    return s.templates.render(
        language,
        "round_coordinator",
        cycle=cycle,
        count=len(progress),
        submitted=sum(p.submitted for p in progress),
        next_reminder=next_reminder(times, now),
        days_left=days_left(cycle.deadline, now, s.config.checks.tz),
    )


async def _member_view(s: Services, cycle: storage.Cycle | None, member: storage.Member) -> str:
    assert cycle is not None
    institution = await storage.institution_by_id(s.db, member.institution_id)
    assert institution is not None
    checks = await storage.checks_in_cycle(s.db, cycle.id)
    check = next((c for c in checks if c.institution_id == institution.id), None)
    entry = await institution_progress(s, institution, check)
    return s.templates.render(
        member.language,
        "round_member",
        cycle=cycle,
        institution=institution,
        submitted=entry.submitted,
        answered=entry.answered,
        total=entry.total,
        reminders=member.reminders_enabled,
        days_left=days_left(cycle.deadline, s.clock(), s.config.checks.tz),
    )


def _usage(s: Services, language: str, cycle: storage.Cycle | None) -> str:
    if cycle is None:
        return s.templates.render(language, "round_none", coordinator=True)
    example = (cycle.deadline + timedelta(days=14)).isoformat()
    return s.templates.render(language, "deadline_usage", cycle=cycle, example=example)


async def _reply(update: Update, context: BotContext, text: str) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text)
