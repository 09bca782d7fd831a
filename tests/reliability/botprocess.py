"""Run the bot as a process of its own, as `chancencheck run` does: `python botprocess.py CONFIG`.

Two differences, so that a crash test finishes in seconds: the bot's clock runs
CHANCENCHECK_TEST_CLOCK_OFFSET seconds ahead (to a reminder's time), and the outbox and reminder
sweeps run every second (the first reminder sweep 0.3 s after the start) instead of
every 10 and 60 seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime, timedelta

import bot.reminders.sweep as reminders
from bot.config import load_config
from bot.core.checks import utc_now
from bot.logs import setup_logging
from bot.telegram import app as bot_app

POLL_TIMEOUT = 2  # seconds; a killed process's poll must not hold updates for long


async def run(config_path: str, offset: timedelta) -> None:
    config = load_config(config_path)
    token = config.telegram.token.get_secret_value() if config.telegram.token else None
    setup_logging(config.logging.level, token)

    def clock() -> datetime:
        return utc_now() + offset

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    app = bot_app.build_application(config, clock)
    await bot_app.serve(app, stop, poll_timeout=POLL_TIMEOUT)


def main() -> None:
    bot_app.FLUSH_INTERVAL = 1
    reminders.FIRST_SWEEP = 0.3
    reminders.SWEEP_INTERVAL = 1
    offset = timedelta(seconds=float(os.environ.get("CHANCENCHECK_TEST_CLOCK_OFFSET", "0")))
    asyncio.run(run(sys.argv[1], offset))


if __name__ == "__main__":
    main()
