"""Build the python-telegram-bot Application from config, and run it with long polling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

from bot.checks import utc_now
from bot.commands import MENU
from bot.config import Config
from bot.courier import COURIER, FLUSH_INTERVAL, Courier, deliver_outbox
from bot.handlers import register
from bot.reminders import schedule as schedule_reminders
from bot.services import SERVICES, Services, open_services
from bot.templates import LANGUAGES

log = logging.getLogger(__name__)
POLL_TIMEOUT = 30  # seconds a getUpdates call waits for news


def build_application(config: Config, clock: Callable[[], datetime] = utc_now) -> Application:  # type: ignore[type-arg]
    """Create the Application; the database and catalogue open in post_init."""
    assert config.telegram.token is not None, "build_application needs a token"

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        services = await open_services(config, clock)
        app.bot_data[SERVICES] = services
        app.bot_data[COURIER] = Courier(services)
        await set_commands(app.bot, services)
        assert app.job_queue is not None
        # Delivers what a crash left in the outbox at once, then retries every few seconds.
        app.job_queue.run_repeating(deliver_outbox, FLUSH_INTERVAL, first=0)
        schedule_reminders(app)  # the reminder sweep: every minute, from the database

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        services: Services | None = app.bot_data.pop(SERVICES, None)
        if services is not None:
            await services.db.close()

    app = (
        ApplicationBuilder()
        .token(config.telegram.token.get_secret_value())
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.checks.tz))
        .rate_limiter(AIORateLimiter())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    register(app)
    return app


async def set_commands(bot: Bot, services: Services) -> None:
    """Register the command menu in German (the default) and English."""
    for language in (None, *LANGUAGES):
        texts = services.templates.commands(language or services.config.checks.language)
        commands = [BotCommand(name, texts[name]) for name in MENU]
        # Private chats only: in groups the bot answers nothing but coordinator commands.
        await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(),
                                  language_code=language)


async def serve(app: Application, stop: asyncio.Event,  # type: ignore[type-arg]
                poll_timeout: int = POLL_TIMEOUT) -> None:
    """Poll until `stop` is set, then finish the updates in flight and shut down.

    The steps and hooks are those of PTB's run_polling, which we cannot use: it owns the event
    loop, and the CLI and the tests run their own.
    """
    async with app:  # initialize … shutdown
        assert app.updater is not None
        if app.post_init:
            await app.post_init(app)
        await app.updater.start_polling(timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)
        await app.start()
        log.info("bot @%s is running", app.bot.username)
        try:
            await stop.wait()
        finally:
            await app.updater.stop()
            await app.stop()
    if app.post_shutdown:
        await app.post_shutdown(app)


async def run_polling(config: Config) -> None:
    """Run the bot until Ctrl-C or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(build_application(config), stop)
    log.info("bot stopped")


async def fetch_username(config: Config) -> str:
    """Ask Telegram for the bot's username."""
    assert config.telegram.token is not None
    bot = Bot(config.telegram.token.get_secret_value(), base_url=config.telegram.base_url)
    async with bot:
        return bot.username
