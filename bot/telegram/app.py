"""Build the python-telegram-bot Application from config, and run it with long polling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, cast

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    BaseRateLimiter,
    Defaults,
    TypeHandler,
    Updater,
)
from telegram.request import BaseRequest

from bot.config import Config
from bot.core.checks import utc_now
from bot.reminders.measures import schedule as schedule_measures
from bot.reminders.sweep import schedule as schedule_reminders
from bot.render.commands import MENU
from bot.render.templates import LANGUAGES
from bot.services import SERVICES, Services, open_services
from bot.telegram.concurrency import PerChatUpdates
from bot.telegram.context import CONTEXT_TYPES, BotApp
from bot.telegram.courier import COURIER, FLUSH_INTERVAL, Courier, deliver_outbox
from bot.telegram.handlers import tracing
from bot.telegram.lanes import BULK_RATE, Lanes
from bot.telegram.routes import register
from bot.telegram.unreadable import SkippingUpdatesRequest

log = logging.getLogger(__name__)
POLL_TIMEOUT = 30  # seconds a getUpdates call waits for news
OVERALL_RATE = BULK_RATE  # the bulk lane's messages a second (bot/telegram/lanes.py)


def build_application(
    config: Config,
    clock: Callable[[], datetime] = utc_now,
    *,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> BotApp:
    """Create the Application; the database and catalogue open in post_init.

    `request` replaces the HTTP transport to Telegram and `rate_limiter` the limiter to its
    limits; both only for benchmarks (bench/), which answer the Bot API in-process.
    """
    assert config.telegram.token is not None, "build_application needs a token"

    async def post_init(app: BotApp) -> None:
        services = await open_services(config, clock)
        app.bot_data[SERVICES] = services
        app.bot_data[COURIER] = Courier(services)
        try:
            await set_commands(app.bot, services)
        except TelegramError as exc:  # the menu is not worth failing the start for
            log.warning("could not set the command menu, continuing without: %s", exc)
        assert app.job_queue is not None
        # Delivers what a crash left in the outbox at once, then retries every few seconds.
        app.job_queue.run_repeating(deliver_outbox, FLUSH_INTERVAL, first=0)
        schedule_reminders(app)  # the reminder sweep: every minute, from the database
        schedule_measures(app)  # the improvement plan's follow-ups, as the reminders

    async def post_shutdown(app: BotApp) -> None:
        services: Services | None = app.bot_data.pop(SERVICES, None)
        if services is not None:
            await services.db.close()

    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .token(config.telegram.token.get_secret_value())
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.checks.tz))
        # Replies in a member's turn go at once; what the bot starts shares Telegram's bulk
        # budget; a 429 is waited out and retried a few times (bot/telegram/lanes.py).
        .rate_limiter(rate_limiter or Lanes())
        # Members' updates at once, each chat's in order: round trips to Telegram overlap.
        .concurrent_updates(PerChatUpdates())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:  # one update PTB cannot read must not stop all others (bot/telegram/unreadable.py)
        builder = builder.get_updates_request(SkippingUpdatesRequest(connection_pool_size=1))
    # PTB's builder cannot type the job queue's context after context_types(); it is BotContext.
    app = cast(BotApp, builder.build())
    register(app)
    # Runs first for every update (group -2, before the handlers' -1): names the update in
    # every log line logged while it is handled.
    app.add_handler(TypeHandler(Update, tracing.on_update), group=-2)
    return app


async def set_commands(bot: Bot, services: Services) -> None:
    """Register the command menu in German (the default) and English."""
    for language in (None, *LANGUAGES):
        texts = services.templates.commands(language or services.config.checks.language)
        commands = [BotCommand(name, texts[name]) for name in MENU]
        # Private chats only: in groups the bot answers nothing but coordinator commands.
        await bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
        )


async def serve(
    app: BotApp,
    stop: asyncio.Event,
    poll_timeout: int = POLL_TIMEOUT,
    receive: Callable[[Updater], Awaitable[object]] | None = None,
) -> None:
    """Poll until `stop` is set, then finish the updates in flight and shut down.

    The steps and hooks are those of PTB's run_polling, which we cannot use: it owns the event
    loop, and the CLI and the tests run their own. `receive` starts another way of receiving
    updates instead of polling (the webhook, see bot/telegram/webhook.py).
    """
    async with app:  # initialize … shutdown
        assert app.updater is not None
        if app.post_init:
            await app.post_init(app)
        if receive is None:
            await app.updater.start_polling(timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)
        else:
            await receive(app.updater)
        await app.start()
        log.info("bot @%s is running", app.bot.username)
        try:
            await stop.wait()
        finally:
            await app.updater.stop()
            await app.stop()
    if app.post_shutdown:
        await app.post_shutdown(app)


async def run_bot(config: Config) -> None:
    """Run the bot until Ctrl-C or SIGTERM, with long polling or, if configured, a webhook."""
    from bot.telegram.webhook import receive_webhook

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stopping, stop, signum)
    receive = receive_webhook(config.webhook) if config.webhook.url else None
    await serve(build_application(config), stop, receive=receive)
    log.info("bot stopped")


def _stopping(stop: asyncio.Event, signum: int) -> None:
    log.info("%s: finishing the updates in flight, then stopping", signal.Signals(signum).name)
    stop.set()


async def fetch_username(config: Config) -> str:
    """Ask Telegram for the bot's username."""
    assert config.telegram.token is not None
    bot = Bot(config.telegram.token.get_secret_value(), base_url=config.telegram.base_url)
    async with bot:
        return bot.username
