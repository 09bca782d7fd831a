"""Run the real Application against the fake Bot API server, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fakebot import FakeBotApi
from telegram.request import HTTPXRequest

import storage
from bot.catalogue import load_catalogue
from bot.config import Config, load_config
from bot.core import admin
from bot.core.checks import utc_now
from bot.telegram.app import build_application, serve
from bot.telegram.context import BotContext

DEADLINE = date.today() + timedelta(days=30)


def make_config(tmp_path: Path, server: FakeBotApi, extra: str = "") -> Config:
    """Write a config pointing at the fake server and a database in tmp_path, and load it."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"\n'
        f'bot_username = "chancencheck_test_bot"\n{extra}\n'
        '[storage]\npath = "bot.sqlite3"\n',
        encoding="utf-8",
    )
    return load_config(path, env={"CHANCENCHECK_TELEGRAM_TOKEN": server.token})


async def set_up_institution(
    config: Config, short: str = "ABH", name: str = "Ausländerbehörde", open_round: bool = True
) -> str:
    """Create an institution (and a round) as the CLI does; return its invite code."""
    async with await storage.open_database(config.storage.path) as db:
        invitation = await admin.add_institution(db, short, name)
        if open_round and await storage.current_cycle(db) is None:
            catalogue = load_catalogue(config.checks.catalogue_path)
            await admin.open_round(db, catalogue, "Runde 2027", DEADLINE, date.today())
    return invitation.code


@dataclass(frozen=True)
class Failure:
    """One call of the bot's error handler: the update it was handling and the error."""

    update: object
    error: BaseException | None


@asynccontextmanager
async def running_bot(
    config: Config,
    server: FakeBotApi,
    clock: Callable[[], datetime] = utc_now,
    failures: list[Failure] | None = None,
    read_timeout: float | None = None,
) -> AsyncIterator[Any]:
    """Run the bot's Application with long polling for the block, then stop it cleanly.

    `failures` collects what the bot's error handler saw; `read_timeout` shortens PTB's
    timeouts so that a fake timeout costs a second, not five. The one in-process runner of
    the tests (the crash suite runs the bot as its own process instead).
    """
    request = None
    if read_timeout is not None:
        request = HTTPXRequest(
            connection_pool_size=16,
            read_timeout=read_timeout,
            write_timeout=read_timeout,
            connect_timeout=read_timeout,
        )
    app = build_application(config, clock, request=request)
    if failures is not None:

        async def record(update: object, context: BotContext) -> None:
            failures.append(Failure(update, context.error))

        app.add_error_handler(record)
    stop = asyncio.Event()
    polls = len(server.calls("getUpdates"))
    task = asyncio.create_task(serve(app, stop, poll_timeout=1))
    await server.wait_for(
        lambda r: r.method == "getUpdates", timeout=20, start=_index_after(server, polls)
    )
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def _index_after(server: FakeBotApi, polls: int) -> int:
    """Return the request index just after the `polls`-th getUpdates call."""
    seen = 0
    for index, request in enumerate(server.requests):
        if request.method == "getUpdates":
            seen += 1
            if seen > polls:
                return index
    return len(server.requests)


@dataclass(frozen=True)
class Row:
    requirement_id: str
    question_key: str
    value: str
    text: str | None


def query(config: Config, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the bot's database directly, as an auditor would."""
    with closing(sqlite3.connect(config.storage.path)) as conn:
        return list(conn.execute(sql, params))


def current_answers(config: Config) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Return the latest revision of every answer, across checks."""
    rows = query(
        config,
        """
        SELECT requirement_id, question_key, value, text FROM answers a
        WHERE id = (SELECT max(id) FROM answers b WHERE b.check_id = a.check_id
                    AND b.requirement_id = a.requirement_id AND b.question_key = a.question_key)
    """,
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


class Clock:
    """A clock for the bot that tests move forward instead of waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
