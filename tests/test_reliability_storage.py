"""Storage-fault suite: the disk fills up, turns read-only, or another process locks the
database while a member answers. The operator gets one clear log line naming the fix, the
member a message that the answer was NOT saved, nothing unsaved is acknowledged, and once the
fault is gone the same answer goes through.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botharness import Failure, running_bot
from fakebot import FakeUser, parse_html
from reliability.fakes import OpsBotApi
from reliability.figures import report
from reliability.members import TEMPLATES
from reliability.world import configure, set_up

from bot.services import SERVICES

pytestmark = pytest.mark.slow  # a reliability suite (RELIABILITY.md)

USER = 4242
NOT_SAVED = parse_html(TEMPLATES.render("de", "not_saved")).text
FIGURES: dict[str, Any] = {}


@pytest.fixture
async def setup(tmp_path: Path, server: OpsBotApi) -> Any:
    config, _ = configure(tmp_path, server)
    await set_up(
        config, {"ABH": USER}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    return config


def revisions(config: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(config.storage.path)) as conn:
        return list(
            conn.execute(
                "SELECT requirement_id, question_key, value, text FROM answers ORDER BY id"
            )
        )


async def answer(user: FakeUser) -> tuple[str, list[Any]]:
    """Answer the question on screen; return the answer and what the bot said.

    Measures are typed, long, so that the database must grow; otherwise a button is pressed
    whose answer asks for no description: "kann ich nicht beurteilen", "Nein".
    """
    screen = next((m for m in reversed(user.messages()) if m.callback_data), None)
    assert screen is not None, [m.visible_text for m in user.messages()]
    skip_plan = [d for d in screen.callback_data if d.startswith("mp:s:")]
    if skip_plan:  # the measures' "Bis wann?" (issue 16): skipped, then the next question
        await user.press_and_wait(screen.message_id, skip_plan[0], timeout=15)
        screen = next((m for m in reversed(user.messages()) if m.callback_data), None)
        assert screen is not None, [m.visible_text for m in user.messages()]
    since = len(user.server.requests)
    options = [d for d in screen.callback_data if d.startswith("c:")]
    assert options, (screen.visible_text, screen.callback_data)
    if options[-1].endswith(":none"):
        data = f"{options[-1]} Schulung für alle Teams. " + "Leichte Sprache, Formulare. " * 60
        await user.send_and_wait(data, timeout=15)
    else:
        data = options[-1]
        await user.press_and_wait(screen.message_id, data, timeout=15)
    replies = [
        r
        for r in user.server.requests[since:]
        if r.status == 200 and r.method in ("sendMessage", "editMessageText")
    ]
    return data, replies


async def _scenario(
    name: str,
    config: Any,
    server: OpsBotApi,
    caplog: pytest.LogCaptureFixture,
    fault: Callable[[Any], Awaitable[Callable[[], Awaitable[None]]]],
    clue: str,
    repeats: int = 2,
) -> None:
    """Answer until the fault bites, and again; check what the member and operator are told."""
    caplog.set_level(logging.INFO)
    failures: list[Failure] = []
    async with running_bot(config, server, failures=failures) as app:
        user = server.user(USER, "Anna")
        await user.send_and_wait("/weiter")
        lift = await fault(app.bot_data[SERVICES])
        acknowledged, refused, acknowledged_unsaved, stored_unacknowledged = 0, [], 0, 0
        while len(refused) <= repeats and acknowledged + len(refused) < 60:
            before = revisions(config)
            data, replies = await answer(user)
            texts = [parse_html(r.params["text"]).text for r in replies]
            if NOT_SAVED in texts:  # once the fault bites, the member tries again
                refused.append(data)
                acknowledged_unsaved += len([t for t in texts if t != NOT_SAVED])
                stored_unacknowledged += revisions(config) != before
            else:
                acknowledged += 1
                assert len(revisions(config)) == len(before) + 1
        assert refused, "the fault never showed"
        await lift()
        data, replies = await answer(user)  # the same question again, now it works
        assert data == refused[0] and len(replies) >= 2
        stored_after = revisions(config)
    FIGURES[name] = {
        "answers_before_fault": acknowledged,
        "answers_refused": len(refused),
        "acknowledged_unsaved": acknowledged_unsaved,
        "stored_while_refused": stored_unacknowledged,
        "stored_after_fault": len(stored_after) - acknowledged,
        "error_handler_calls": len(failures),
    }
    report("storage", FIGURES)
    assert acknowledged_unsaved == 0, "an unsaved answer was acknowledged"
    assert stored_unacknowledged == 0, "an answer refused to the member was stored"
    assert len(set(refused)) == 1 and len(refused) == repeats + 1
    operator = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and "was not stored, the database failed" in r.getMessage()
    ]
    assert operator and clue in operator[0].getMessage(), [r.getMessage() for r in operator]
    assert "\n" not in operator[0].getMessage()
    with closing(sqlite3.connect(config.storage.path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_a_full_disk_refuses_the_answer_and_says_so(
    setup: Any, server: OpsBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    async def fill(services: Any) -> Callable[[], Awaitable[None]]:
        # The database may not grow by one page more: as a disk with no space left.
        pages = (await (await services.db.conn.execute("PRAGMA page_count")).fetchone())[0]
        await services.db.conn.execute(f"PRAGMA max_page_count = {pages}")

        async def lift() -> None:
            await services.db.conn.execute("PRAGMA max_page_count = 1073741823")

        return lift

    with closing(sqlite3.connect(setup.storage.path)) as conn:
        conn.execute("VACUUM")  # no free pages left over from the migrations to fill first
    await _scenario("full disk", setup, server, caplog, fill, "the disk is full")


async def test_a_read_only_database_refuses_the_answer_and_says_so(
    setup: Any, server: OpsBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    async def read_only(services: Any) -> Callable[[], Awaitable[None]]:
        # As a disk remounted read-only: every write fails with SQLITE_READONLY.
        await services.db.conn.execute("PRAGMA query_only = ON")

        async def lift() -> None:
            await services.db.conn.execute("PRAGMA query_only = OFF")

        return lift

    await _scenario("read-only", setup, server, caplog, read_only, "it is read-only")


async def test_a_locked_database_refuses_the_answer_and_says_so(
    setup: Any, server: OpsBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    async def lock(services: Any) -> Callable[[], Awaitable[None]]:
        # Another process (a tool, a second bot) holds the write lock longer than the bot waits;
        # the bot waits 0.5 s here instead of its 5 s, which would only make the test slower.
        await services.db.wait_for_locks(0.5)
        locked, release = threading.Event(), threading.Event()

        def hold() -> None:
            with closing(sqlite3.connect(setup.storage.path, isolation_level=None)) as other:
                other.execute("BEGIN EXCLUSIVE")
                locked.set()
                release.wait(60)
                other.execute("ROLLBACK")

        holder = threading.Thread(target=hold)
        holder.start()
        await asyncio.to_thread(locked.wait, 10)

        async def lift() -> None:
            release.set()
            await asyncio.to_thread(holder.join, 10)

        return lift

    # Each refusal waits out the bot's busy timeout: one repeat is enough here.
    await _scenario(
        "locked", setup, server, caplog, lock, "another process holds its write lock", repeats=1
    )
