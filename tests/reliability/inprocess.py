"""Run the bot's Application in the test's event loop, recording every call of its error handler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fakebot import FakeBotApi
from telegram.ext import ContextTypes
from telegram.request import HTTPXRequest

from bot.core.checks import utc_now
from bot.telegram.app import build_application, serve


@dataclass(frozen=True)
class Failure:
    update: object
    error: BaseException | None


class ShiftedClock:
    """The real clock, moved by an offset: the bot lives at a reminder's time."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - utc_now()

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@asynccontextmanager
async def running(config: Any, server: FakeBotApi, clock: Callable[[], datetime] = utc_now,
                  failures: list[Failure] | None = None,
                  read_timeout: float | None = None) -> AsyncIterator[Any]:
    """Run the Application with long polling for the block; record its error handler's calls."""
    request = None
    if read_timeout is not None:  # so that a fake timeout costs a second, not five
        request = HTTPXRequest(connection_pool_size=16, read_timeout=read_timeout,
                               write_timeout=read_timeout, connect_timeout=read_timeout)
    app = build_application(config, clock, request=request)
    if failures is not None:
        async def record(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            failures.append(Failure(update, context.error))

        app.add_error_handler(record)
    stop = asyncio.Event()
    polls = len(server.calls("getUpdates"))
    task = asyncio.create_task(serve(app, stop, poll_timeout=1))
    await server.wait_for(lambda r: r.method == "getUpdates", timeout=20,
                          start=_after(server, polls))
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def _after(server: FakeBotApi, polls: int) -> int:
    seen = 0
    for index, request in enumerate(server.requests):
        if request.method == "getUpdates":
            seen += 1
            if seen > polls:
                return index
    return len(server.requests)
