"""Deadline reminders: a periodic sweep computes from the database what is due and sends it.

The JobQueue keeps nothing across restarts, so the sweep decides everything from the database
and the time: which round is current, whose check is open, which reminder is due, what was sent.

Exactly once, as far as Telegram allows. Every message to a member has a key (round, deadline,
member, reminder) and a row in `reminders`, committed as "sending" *before* the message is
handed to Telegram and set to "sent" after. A key that has a row is never claimed again (only
"pending" rows are), so neither a second sweep nor a restart sends it twice. Telegram offers no
idempotency key, so one window stays: a crash between Telegram accepting the message and our
"sent". We choose AT MOST ONCE there: the next sweep marks such a row "uncertain" and does not
send it again. Up to `IN_FLIGHT` messages are on their way at once (bot/reminders/delivery.py),
so a crash leaves at most that many uncertain. A doubled reminder makes the bot look broken; a
lost one costs little, as the next reminder of the schedule (and the one on the deadline day)
follows. Network errors get the
same rule: one that proves nothing reached Telegram (no connection, an error answer) leaves the
row "pending" for the next sweep; one after which Telegram may have sent it (the answer timed out
or the connection broke) makes it "uncertain". `RetryAfter` is not an error but a request to
wait: the same message is sent again after the wait, the whole fan-out pausing with it (the
bulk lane of bot/telegram/lanes.py holds back every bulk message while a 429's wait lasts).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime

from telegram import Bot

import storage
from bot.core.access import coordination_chat
from bot.reminders.delivery import Sender, Sleep, SweepReport
from bot.reminders.progress import InstitutionProgress, round_progress
from bot.reminders.schedule import (
    Schedule,
    days_left,
    deadline_end,
    due_reminder,
    in_sending_hours,
    reminder_key,
    reminder_times,
    summary_key,
)
from bot.services import Services
from bot.telegram.context import BotApp, BotContext

log = logging.getLogger(__name__)
SWEEP_INTERVAL = 60  # seconds: a reminder goes out within a minute of its time
# Seconds after the start: catch up on what fell due while the bot was down. Not 0, which
# APScheduler would take as a start already past and so skip to the next interval.
FIRST_SWEEP = 10
_locks: weakref.WeakKeyDictionary[storage.Database, asyncio.Lock] = weakref.WeakKeyDictionary()
_summaries: weakref.WeakKeyDictionary[storage.Database, set[str]] = weakref.WeakKeyDictionary()


def schedule(app: BotApp) -> None:
    """Run the sweep every minute, the first time shortly after the start."""
    assert app.job_queue is not None
    app.job_queue.run_repeating(_sweep_job, SWEEP_INTERVAL, first=FIRST_SWEEP, name="reminders")


def sweep_soon(context: BotContext) -> None:
    """Run a sweep now, e.g. to tell members at once that the deadline moved."""
    context.application.create_task(_sweep_job(context), name="reminder sweep")


async def _sweep_job(context: BotContext) -> None:
    s = context.services
    report = await sweep(s, context.bot, s.clock())
    if report.outcomes:
        log.info("reminder sweep: %s", {o.value: n for o, n in report.outcomes.items()})


async def sweep(
    services: Services, bot: Bot, now: datetime, sleep: Sleep = asyncio.sleep
) -> SweepReport:
    """Send what is due at `now`: deadline notices, reminders, and once late, the summary."""
    report = SweepReport({})
    db = services.db
    async with _locks.setdefault(db, asyncio.Lock()):  # one sweep at a time per database
        async with db.transaction():
            if abandoned := await storage.abandon_sending(db, now):
                log.warning(
                    "%d reminders were interrupted while sending; not sent again", abandoned
                )
        cycle = await storage.current_cycle(db)
        if cycle is None:
            return report
        if now >= deadline_end(cycle.deadline, services.config.checks.tz):
            await _drop_notices(services, "the deadline has passed", now)
            report.summary_queued = await _queue_summary(services, cycle, now)
            return report
        notices = await storage.pending_notices(db)
        plan = await _plan(services, cycle, now)
        if notices or plan is not None:  # else nothing is due: spare the database the reads
            progress = {p.institution.id: p for p in await round_progress(services, cycle)}
            sender = Sender(services, bot, sleep, report)
            try:
                if await _send_notices(services, sender, cycle, notices, progress, now) and plan:
                    await _send_reminders(services, sender, cycle, plan, progress, now)
            finally:
                await sender.finish()  # every message handed over is recorded before we end
    return report


@dataclass(frozen=True)
class _Plan:
    """The round's reminder schedule and the moment reminders count from."""

    times: Schedule
    start: datetime  # the round opened or its deadline last moved


async def _plan(services: Services, cycle: storage.Cycle, now: datetime) -> _Plan | None:
    """Return the reminder schedule if some reminder of the round may be due now, else None."""
    config, tz = services.config.reminders, services.config.checks.tz
    if not in_sending_hours(now, config.send_at, config.skip_weekends, tz):
        return None
    times = reminder_times(
        cycle.deadline, config.days_before, config.send_at, config.skip_weekends, tz
    )
    change = await storage.last_deadline_change(services.db, cycle.id)
    start = max(cycle.opened_at, change.changed_at) if change else cycle.opened_at
    if due_reminder(times, now, start, cycle.deadline, tz) is None:
        return None
    return _Plan(times, start)


async def _send_reminders(
    services: Services,
    sender: Sender,
    cycle: storage.Cycle,
    plan: _Plan,
    progress: dict[int, InstitutionProgress],
    now: datetime,
) -> None:
    """Send each member of an open check the latest reminder due, unless it was handled."""
    db, tz = services.db, services.config.checks.tz
    handled = {
        r.key for r in await storage.reminders_of_cycle(db, cycle.id) if r.status != "pending"
    }
    for entry in (p for p in progress.values() if not p.submitted):
        handed = await storage.open_handovers(db, entry.check.id, now) if entry.check else []
        for member in await storage.members_of(db, entry.institution.id):
            since = max(plan.start, member.joined_at)
            due = due_reminder(plan.times, now, since, cycle.deadline, tz)
            if not member.reminders_enabled or member.unreachable or due is None:
                continue
            key = reminder_key(cycle.id, cycle.deadline, member.id, due[0])
            if key in handled:
                continue
            async with db.transaction():
                row = await storage.claim_reminder(
                    db, key, cycle.id, member.id, cycle.deadline, due[0], now
                )
            if row is None:
                continue
            text = _text(services, "reminder", member, cycle, entry, now, **_voices(member, handed))
            if not await sender.send(row, member, text):
                return


def _voices(member: storage.Member, handed: list[storage.Handover]) -> dict[str, object]:
    """Skip what the member handed over; mention what a colleague asked them to answer."""
    return {
        "handed_over": [h.requirement_id for h in handed if h.delegator_id == member.id],
        "asked": [h for h in handed if h.delegate_id == member.id],
    }


async def _send_notices(
    services: Services,
    sender: Sender,
    cycle: storage.Cycle,
    notices: list[storage.Reminder],
    progress: dict[int, InstitutionProgress],
    now: datetime,
) -> bool:
    """Send the pending notices of a moved deadline; False if the sweep must stop."""
    db = services.db
    change = await storage.last_deadline_change(db, cycle.id)
    for notice in notices:
        member = await storage.member_by_id(db, notice.member_id)
        entry = progress.get(member.institution_id) if member else None
        reason = _obsolete(notice, cycle, member, entry)
        if reason is not None or member is None or entry is None or change is None:
            async with db.transaction():
                await storage.mark_reminder(db, notice.id, "dropped", reason, now)
            continue
        async with db.transaction():
            row = await storage.claim_pending(db, notice.id, now)
        text = _text(
            services, "deadline_moved", member, cycle, entry, now, old_deadline=change.old_deadline
        )
        if row is not None and not await sender.send(row, member, text):
            return False
    return True


def _obsolete(
    notice: storage.Reminder,
    cycle: storage.Cycle,
    member: storage.Member | None,
    entry: InstitutionProgress | None,
) -> str | None:
    """Say why a pending notice should no longer be sent, or None if it should."""
    if notice.cycle_id != cycle.id or notice.deadline != cycle.deadline:
        return "the deadline moved again or the round ended"
    if member is None or member.telegram_user_id is None or member.unreachable:
        return "the member cannot be reached"
    if entry is None or entry.submitted:
        return "the check was submitted"
    return None


async def _drop_notices(services: Services, reason: str, now: datetime) -> None:
    """Give up the notices still pending, e.g. once the deadline has passed."""
    for notice in await storage.pending_notices(services.db):
        async with services.db.transaction():
            await storage.mark_reminder(services.db, notice.id, "dropped", reason, now)


def _text(
    services: Services,
    template: str,
    member: storage.Member,
    cycle: storage.Cycle,
    entry: InstitutionProgress,
    now: datetime,
    **extra: object,
) -> str:
    """Render a reminder or notice: progress, open requirements, when the check is due."""
    left = days_left(cycle.deadline, now, services.config.checks.tz)
    return services.templates.render(
        member.language,
        template,
        name=member.first_name,
        cycle=cycle,
        institution=entry.institution,
        answered=entry.answered,
        total=entry.total,
        open_requirements=entry.open_requirements,
        days_left=left,
        plain=member.plain_mode,  # /barrierefrei: no emoji, words only
        **extra,
    )


async def _queue_summary(services: Services, cycle: storage.Cycle, now: datetime) -> bool:
    """Queue the list of late institutions for the coordination chat, once per deadline."""
    key = summary_key(cycle.id, cycle.deadline)
    queued = _summaries.setdefault(services.db, set())
    if key in queued:
        return False
    chat_id = await coordination_chat(services.db, services.config)
    if chat_id is None:
        log.warning(
            "the deadline of round %s has passed, but no coordination chat is "
            "configured ([telegram] coordination_chat_id) to tell",
            cycle.name,
        )
        queued.add(key)
        return False
    progress = await round_progress(services, cycle)
    late = [p for p in progress if not p.submitted]
    text = services.templates.render(
        services.config.checks.language,
        "deadline_passed",
        cycle=cycle,
        late=late,
        count=len(progress),
    )
    async with services.db.transaction():
        new = not await storage.in_outbox(services.db, key)
        await storage.enqueue(services.db, key, chat_id, "message", {"text": text}, now)
    queued.add(key)
    return new
