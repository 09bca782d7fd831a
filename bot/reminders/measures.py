"""Follow-ups of the improvement plan: in a measure's due month, ask how it is going.

Like the reminders, everything is decided from the database and the time, and each ask is at
most once: its row is written ("sending") before the message goes to Telegram, so neither a
second sweep nor a restart asks twice in a month; a send in doubt stays marked and is not
repeated. A measure still open after its month is asked again monthly, three times at most.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import datetime

from telegram import Bot

import storage
from bot.core import measures as plan
from bot.core.plan import month_label
from bot.reminders.delivery import Outcome, deliver
from bot.reminders.schedule import in_sending_hours
from bot.services import Services
from bot.telegram.context import BotApp, BotContext
from bot.telegram.handlers.measure_plan import status_keyboard
from storage import measures as store

log = logging.getLogger(__name__)
SWEEP_INTERVAL = 60
FIRST_SWEEP = 12
_locks: weakref.WeakKeyDictionary[storage.Database, asyncio.Lock] = weakref.WeakKeyDictionary()


def schedule(app: BotApp) -> None:
    """Run the follow-up sweep every minute, the first time shortly after the start."""
    assert app.job_queue is not None
    app.job_queue.run_repeating(_job, SWEEP_INTERVAL, first=FIRST_SWEEP, name="measures")


async def _job(context: BotContext) -> None:
    s = context.services
    sent = await sweep(s, context.bot, s.clock())
    if sent:
        log.info("measure follow-ups sent: %d", sent)


async def sweep(services: Services, bot: Bot, now: datetime) -> int:
    """Ask about every measure due or overdue this month, once; return how many were sent."""
    db, reminders, tz = services.db, services.config.reminders, services.config.checks.tz
    async with _locks.setdefault(db, asyncio.Lock()):
        async with db.transaction():
            if abandoned := await store.abandon_asks(db, now):
                log.warning("%d measure follow-ups were interrupted; not sent again", abandoned)
        if not in_sending_hours(now, reminders.send_at, reminders.skip_weekends, tz):
            return 0
        today = now.astimezone(tz).date()
        sent = 0
        for measure in await store.list_measures(db):
            if plan.wants_ask(measure, await store.asks_of(db, measure.id), today):
                sent += await _ask(services, bot, measure, plan.this_month(today), now)
        return sent


async def _ask(
    services: Services, bot: Bot, measure: store.Measure, month: str, now: datetime
) -> int:
    """Ask the measure's people (owner, author, or the institution) once this month."""
    db, sent = services.db, 0
    for member in await plan.recipients(db, measure):
        if not member.reminders_enabled or member.unreachable or member.telegram_user_id is None:
            continue  # /erinnerungen aus covers the follow-ups too
        async with db.transaction():
            ask_id = await store.claim_ask(db, measure.id, month, member.id, now)
        if ask_id is None:
            continue
        text = _text(services, member.language, measure)
        markup = status_keyboard(services, member.language, measure.id)
        outcome, detail = await deliver(bot, member.telegram_user_id, text, markup)
        async with db.transaction():
            await _record(db, ask_id, member, outcome, detail, now)
        sent += outcome is Outcome.SENT
    return sent


async def _record(
    db: storage.Database,
    ask_id: int,
    member: storage.Member,
    outcome: Outcome,
    detail: int | str,
    now: datetime,
) -> None:
    if outcome is Outcome.SENT:
        await store.mark_ask(db, ask_id, "sent", int(detail), None, now)
    elif outcome in (Outcome.RETRY, Outcome.FLOODED):
        await store.release_ask(db, ask_id)  # surely not delivered: the next sweep asks
    else:
        status = "uncertain" if outcome is Outcome.UNCERTAIN else "failed"
        await store.mark_ask(db, ask_id, status, None, str(detail), now)
        if outcome is Outcome.BLOCKED:
            await storage.set_unreachable(db, member.id, True)


def _text(services: Services, language: str, measure: store.Measure) -> str:
    """Render the question; a requirement gone from the catalogue is named by its id only."""
    try:
        title = services.dialogue.catalogue.requirement(measure.requirement_id).title(language)
    except (KeyError, ValueError, LookupError):
        title = ""
    return services.templates.render(
        language,
        "measure_ask",
        requirement_id=measure.requirement_id,
        title=title,
        text=measure.text,
        due=month_label(measure.due_month),
    )
