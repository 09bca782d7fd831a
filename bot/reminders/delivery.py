"""Sending reminders through the bot, several at once, and recording what became of each.

How each Telegram error is judged (bot/telegram/failures.py, shared with the outbox; see
bot/reminders/sweep.py for why at most once):
- RetryAfter: nothing was sent; wait as asked and send the same message again.
- Forbidden, or "chat not found": the member blocked the bot; they are marked unreachable.
- BadRequest and other refusals: failed for good.
- A network error that proves nothing reached Telegram (no connection, an HTTP error answer):
  "pending", sent again at the next sweep.
- Any other network error (the answer timed out, the connection broke): Telegram may have
  delivered it, so it is "uncertain" and never sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

import storage
from bot.render.callbacks import encode
from bot.render.views import words_only
from bot.services import Services
from bot.telegram.failures import Verdict, classify
from dialogues import events as ev

log = logging.getLogger(__name__)
FLOOD_RETRIES = 3  # waits for RetryAfter per message before the sweep stops until next time
LONGEST_WAIT = 30.0  # seconds; asked to wait longer, the sweep stops and the next one tries
MAX_ATTEMPTS = 5  # sweeps that try a message failing with errors that sent nothing
# Messages waiting for Telegram's answer at once: a second's worth at Telegram's overall limit,
# enough to hide round trips of up to a second. The rate limiter, not this, keeps the pace.
IN_FLIGHT = 30

Sleep = Callable[[float], Awaitable[object]]


class Outcome(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the member blocked the bot or deleted the chat
    FAILED = "failed"  # refused for good (a bad request)
    RETRY = "retry"  # surely not delivered: tried again at the next sweep
    UNCERTAIN = "uncertain"  # Telegram may have delivered it: never sent again
    FLOODED = "flooded"  # still rate limited after the waits: next sweep


@dataclass
class SweepReport:
    """What one sweep did, counted by outcome (for logs and tests)."""

    outcomes: dict[Outcome, int]
    summary_queued: bool = False

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Sender:
    """Send claimed messages, up to `in_flight` at once, recording each outcome.

    One message after another, the sweep would wait a round trip to Telegram for each and so
    send far fewer than the 30 a second Telegram allows. The bulk lane (telegram/lanes.py) keeps the
    pace; the window only lets the round trips overlap. Every message is claimed before it is
    handed over and recorded by its own task, so the bookkeeping is that of a single message.
    """

    def __init__(
        self,
        services: Services,
        bot: Bot,
        sleep: Sleep,
        report: SweepReport,
        in_flight: int | None = None,
    ) -> None:
        self.services, self.bot, self.sleep, self.report = services, bot, sleep, report
        self.stopped = False  # Telegram unreachable or flooding: hand over nothing more
        self._slots = asyncio.Semaphore(in_flight or IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._broken: BaseException | None = None  # what broke a send off, raised by finish()

    async def send(self, row: storage.Reminder, member: storage.Member, text: str) -> bool:
        """Hand one claimed message over to be sent and recorded; False if the sweep must stop."""
        await self._slots.acquire()
        task = asyncio.create_task(self._send(row, member, text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.sleep(0)  # a send that ended at once reports before the next claim
        return not self.stopped

    async def finish(self) -> None:
        """Wait until every message handed over is recorded; re-raise what broke one off."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._broken is not None:
            raise self._broken

    async def _send(self, row: storage.Reminder, member: storage.Member, text: str) -> None:
        assert member.telegram_user_id is not None
        label = self.services.templates.label(member.language, "resume")
        label = words_only(label) if member.plain_mode else label  # /barrierefrei
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=encode(ev.Resume()))]]
        )
        try:
            outcome, detail = await deliver(
                self.bot, member.telegram_user_id, text, markup, self.sleep
            )
            # Telegram unreachable or flooding: the others would fare no better before next time.
            self.stopped = self.stopped or outcome in (Outcome.RETRY, Outcome.FLOODED)
            await self._record(row, member, outcome, detail)
            self.report.count(outcome)
        except BaseException as exc:  # noqa: BLE001 - kept for finish(), which raises it
            # The row stays "sending": the next sweep makes it "uncertain" (at most once).
            self.stopped = True
            self._broken = self._broken or exc
        finally:
            self._slots.release()

    async def _record(
        self, row: storage.Reminder, member: storage.Member, outcome: Outcome, detail: int | str
    ) -> None:
        db, now = self.services.db, self.services.clock()
        async with db.transaction():
            if outcome is Outcome.SENT:
                assert isinstance(detail, int)
                await storage.mark_reminder_sent(db, row.id, detail, now)
                return
            status = _STATUS[outcome]
            if outcome is Outcome.RETRY and row.attempts >= MAX_ATTEMPTS:
                status = "failed"  # a message Telegram keeps failing must not block the rest
            await storage.mark_reminder(db, row.id, status, str(detail), now)
            if outcome is Outcome.BLOCKED:
                await storage.set_unreachable(db, member.id, True)
        level = logging.INFO if outcome is Outcome.BLOCKED else logging.WARNING
        log.log(level, "%s to member %s: %s (%s)", row.key, member.id, outcome.value, detail)


_STATUS = {
    Outcome.BLOCKED: "failed",
    Outcome.FAILED: "failed",
    Outcome.RETRY: "pending",
    Outcome.FLOODED: "pending",
    Outcome.UNCERTAIN: "uncertain",
}


async def deliver(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup, sleep: Sleep = asyncio.sleep
) -> tuple[Outcome, int | str]:
    """Send one message through the bot's rate limiter; return the outcome and message id."""
    for attempt in range(FLOOD_RETRIES + 1):
        try:
            message = await bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramError as exc:
            failure = classify(exc)
            wait = failure.retry_after.total_seconds()
            if failure.verdict is not Verdict.FLOODED:
                return _OUTCOME[failure.verdict], failure.message
            if attempt == FLOOD_RETRIES or wait > LONGEST_WAIT:
                return Outcome.FLOODED, failure.message
            await sleep(wait)
            continue
        return Outcome.SENT, message.message_id
    raise AssertionError("unreachable: the last attempt returns")


_OUTCOME = {
    Verdict.BLOCKED: Outcome.BLOCKED,
    Verdict.REFUSED: Outcome.FAILED,
    Verdict.NOT_SENT: Outcome.RETRY,
    Verdict.UNCERTAIN: Outcome.UNCERTAIN,
    Verdict.MIGRATED: Outcome.FAILED,
    Verdict.OTHER: Outcome.FAILED,
}
