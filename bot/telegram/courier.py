"""Deliver the outbox: each queued message once, in order, with retries and back-off.

A message counts as delivered when Telegram returned its message id and that id is stored.
A crash between the two sends it again after the restart (at least once): Telegram offers no
idempotency key, and a doubled digest is better than a lost one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum

from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.error import TelegramError

import storage
from bot import reports
from bot.core.access import coordination_chat
from bot.core.rounds import (
    PHOTO_ROWS,
    SUMMARY_ATTACHMENTS,
    round_catalogue,
    with_history,
    with_previous,
)
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.failures import Verdict, classify
from bot.telegram.lanes import REPLYING_TO

log = logging.getLogger(__name__)
BACKOFF_BASE = 2.0  # seconds before the first retry; doubles with every failed attempt
BACKOFF_MAX = 600.0
FLUSH_INTERVAL = 10  # seconds between sweeps for messages that wait for a retry
COURIER = "courier"


class Outcome(Enum):
    DELIVERED = "delivered"
    GIVEN_UP = "given up"  # Telegram refused it for good (blocked, chat gone, bad request)
    LATER = "later"  # a retry is planned
    MIGRATED = "migrated"  # the chat has a new id; the message is due again under it


class Courier:
    """Send due outbox messages; one flush at a time, so nothing is sent twice in parallel."""

    def __init__(self, services: Services, backoff_base: float = BACKOFF_BASE) -> None:
        self.services = services
        self.backoff_base = backoff_base
        self._lock = asyncio.Lock()

    async def flush(self, bot: Bot, going_on: Callable[[], bool] = lambda: True) -> int:
        """Deliver every due message; stop at a failure that will be retried, to keep order.

        `going_on` turns false when the bot stops: the message in flight is finished and
        recorded, the rest waits in the outbox for the next start, so that stopping is quick.
        """
        # Started from a member's turn (a submission's digest), the task inherited its reply
        # lane: outbox messages are the bot's own, and share the bulk budget.
        lane = REPLYING_TO.set(None)
        try:
            return await self._flush(bot, going_on)
        finally:
            REPLYING_TO.reset(lane)

    async def _flush(self, bot: Bot, going_on: Callable[[], bool]) -> int:
        delivered = 0
        async with self._lock:
            while batch := await storage.due(self.services.db, self.services.clock()):
                for message in batch:
                    if not going_on():
                        return delivered
                    outcome = await self._attempt(bot, message)
                    if outcome is Outcome.LATER:
                        return delivered
                    if outcome is Outcome.MIGRATED:
                        break  # the rest of the batch still names the old chat: read it again
                    delivered += outcome is Outcome.DELIVERED
        return delivered

    async def _attempt(self, bot: Bot, message: storage.OutboxMessage) -> Outcome:
        """Try one message once."""
        db, now = self.services.db, self.services.clock()
        try:
            sent = await self._send(bot, message)
        except TelegramError as exc:
            return await self._failed(message, exc, now)
        async with db.transaction():
            await storage.mark_delivered(db, message.id, sent.message_id, self.services.clock())
        return Outcome.DELIVERED

    async def _failed(
        self, message: storage.OutboxMessage, exc: TelegramError, now: datetime
    ) -> Outcome:
        """Record what Telegram's refusal means for the message: later, migrated or never."""
        failure = classify(exc)
        if failure.verdict is Verdict.FLOODED:
            return await self._retry(message, "rate limited", now + failure.retry_after)
        if failure.verdict is Verdict.MIGRATED:
            assert failure.new_chat_id is not None
            await self._migrate(message.chat_id, failure.new_chat_id)
            return Outcome.MIGRATED
        if failure.verdict in (Verdict.BLOCKED, Verdict.REFUSED):
            log.error(
                "outbox %s (%s) refused by Telegram, given up: %s",
                message.key,
                message.kind,
                failure.message,
            )
            async with self.services.db.transaction():
                await storage.mark_failed(
                    self.services.db, message.id, failure.message, retry_at=None
                )
            return Outcome.GIVEN_UP
        if failure.verdict is Verdict.OTHER:
            raise exc
        delay = min(self.backoff_base * 2**message.attempts, BACKOFF_MAX)  # network trouble
        return await self._retry(message, failure.message, now + timedelta(seconds=delay))

    async def _retry(self, message: storage.OutboxMessage, error: str, at: datetime) -> Outcome:
        log.warning("outbox %s not delivered (%s); retrying at %s", message.key, error, at)
        async with self.services.db.transaction():
            await storage.mark_failed(self.services.db, message.id, error, retry_at=at)
        return Outcome.LATER

    async def _migrate(self, old: int, new: int) -> None:
        """Follow a group that Telegram turned into a supergroup with a new id."""
        log.warning("chat %s migrated to %s; using the new id from now on", old, new)
        db = self.services.db
        async with db.transaction():
            await storage.retarget(db, old, new)
            if old == await coordination_chat(db, self.services.config):
                await storage.set_setting(db, storage.COORDINATION_CHAT, str(new))

    async def _send(self, bot: Bot, message: storage.OutboxMessage) -> Message:
        payload, chat_id = message.payload, message.chat_id
        if message.kind == "message":
            buttons = payload.get("buttons")
            markup = (
                InlineKeyboardMarkup.de_json({"inline_keyboard": buttons}, bot) if buttons else None
            )
            return await bot.send_message(chat_id, payload["text"], reply_markup=markup)
        if message.kind in SUMMARY_ATTACHMENTS:
            attachment = await self._round_attachment(message.kind, payload)
        else:
            attachment = await self._attachment(message.kind, payload)
        small = int(payload.get("rows", 0)) <= PHOTO_ROWS
        # The chart's content in words, queued with it (bot.core.image_words); none on the files.
        caption = payload.get("caption")
        words = caption if isinstance(caption, str) else None
        if message.kind == "chart" or (message.kind == "round_heatmap" and small):
            return await bot.send_photo(chat_id, attachment, caption=words)
        return await bot.send_document(chat_id, attachment, caption=words)

    async def _attachment(self, kind: str, payload: dict[str, object]) -> InputFile:
        """Render a digest's chart, report or spreadsheet from the database, off the event loop."""
        s = self.services
        report = await reports.load_check_report(
            s.db,
            int(payload["institution_id"]),  # type: ignore[call-overload]
            int(payload["cycle_id"]),  # type: ignore[call-overload]
            s.config.privacy.authors,
        )
        catalogue = round_catalogue(report.cycle, s.dialogue.catalogue)
        language = s.config.checks.language
        name = file_stem(report)
        if kind == "chart":
            png = await asyncio.to_thread(reports.profile_chart_png, report, catalogue, language)
            return InputFile(png, filename=f"{name}.png")
        if kind == "report":
            report = await with_history(s.db, report, s.dialogue.catalogue)
            pdf = await asyncio.to_thread(
                reports.report_file, report, catalogue, s.templates, language
            )
            return InputFile(pdf, filename=f"{name}.pdf")
        xlsx = await asyncio.to_thread(
            reports.export_xlsx, [report], catalogue, language, s.config.checks.tz
        )
        return InputFile(xlsx, filename=f"{name}.xlsx")

    async def _round_attachment(self, kind: str, payload: dict[str, object]) -> InputFile:
        """Render a closed round's heat map or export for its summary."""
        s = self.services
        cycle = await storage.cycle_by_id(s.db, int(payload["cycle_id"]))  # type: ignore[call-overload]
        if cycle is None:
            raise storage.NotFoundError(f"there is no round with id {payload['cycle_id']}")
        reports_ = await reports.load_round_reports(s.db, cycle.id, s.config.privacy.authors)
        reports_ = await with_previous(s.db, cycle, reports_)
        catalogue = round_catalogue(cycle, s.dialogue.catalogue)
        language, name = s.config.checks.language, f"ChancenCheck_{cycle.name}".replace(" ", "_")
        if kind == "round_heatmap":
            png = await asyncio.to_thread(reports.heatmap_png, reports_, catalogue, language)
            return InputFile(png, filename=f"{name}_Uebersicht.png")
        xlsx = await asyncio.to_thread(
            reports.export_xlsx, reports_, catalogue, language, s.config.checks.tz
        )
        return InputFile(xlsx, filename=f"{name}.xlsx")


def file_stem(report: reports.CheckReport) -> str:
    """Name a report's files after the institution and the round."""
    return f"ChancenCheck_{report.institution.short}_{report.cycle.name}".replace(" ", "_")


async def deliver_outbox(context: BotContext) -> None:
    """Run the courier from the job queue."""
    courier: Courier = context.application.bot_data[COURIER]
    await courier.flush(context.bot, lambda: context.application.running)
