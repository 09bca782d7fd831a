"""Reminders end to end: the real Application with its rate limiter, the fake Bot API, SQLite."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

import pytest
from botharness import make_config, query, running_bot
from fakebot import FakeBotApi
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import bot.reminders.sweep as reminders
import storage
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.reminders.delivery import Outcome, deliver
from bot.services import SERVICES
from bot.telegram.courier import COURIER

CATALOGUE = load_catalogue()
OPENED = datetime(2027, 3, 1, 10, tzinfo=UTC)
DEADLINE = date(2027, 3, 30)
SEVEN_DAYS = datetime(2027, 3, 23, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Ludwigshafen
PROGRESS = re.compile(r"Anforderung (\d+) von 15 · Frage (\d) von 3")


class Clock:
    """The bot's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def set_up_round(
    config: Config,
    staff: dict[str, list[int]],
    opened: datetime = OPENED,
    deadline: date = DEADLINE,
) -> dict[str, int]:
    """Create a round and institutions with members as stored; return check ids by short name."""
    checks = {}
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        cycle = await storage.open_cycle(
            db, "2027", CATALOGUE.id, CATALOGUE.version, deadline, opened
        )
        for short, users in staff.items():
            institution = await storage.add_institution(
                db, short, f"Amt {short}", f"code{short}", opened
            )
            checks[short] = (await storage.check_for(db, institution.id, cycle.id)).id
            for user in users:
                await storage.join_institution(db, user, institution.id, f"P{user}", "de", opened)
    return checks


async def answer_first(config: Config, check_id: int, requirements: int) -> None:
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        for requirement in CATALOGUE.requirements[:requirements]:
            for key, value in (("fulfilment", "full"), ("potential", "no"), ("measures", "none")):
                await storage.record_answer(
                    db,
                    check_id,
                    storage.NewAnswer(
                        requirement.id, key, value, None, None, CATALOGUE.id, CATALOGUE.version
                    ),
                    OPENED,
                )


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def delivered(server: FakeBotApi) -> list[Any]:
    return [r for r in server.calls("sendMessage") if r.status == 200]


@pytest.fixture
def config(tmp_path, fake_bot_api: FakeBotApi) -> Config:
    return make_config(tmp_path, fake_bot_api, "coordination_chat_id = -100777\n")


async def test_fan_out_to_fifty_members_with_429s_delivers_each_reminder_once(
    config: Config, fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = {f"E{n}": [n * 100 + i for i in range(10)] for n in range(1, 6)}
    staff["DONE"] = [901, 902]
    checks = await set_up_round(config, staff)
    await answer_first(config, checks["E1"], 4)
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        await storage.submit_check(db, checks["DONE"], None, OPENED)
    users = {u: fake_bot_api.user(u, f"P{u}") for members in staff.values() for u in members}
    users[303].block()
    recipients = [u for short, members in staff.items() if short != "DONE" for u in members]
    fake_bot_api.fail_next("sendMessage", 429, retry_after=1, count=3)
    monkeypatch.setattr(reminders, "FIRST_SWEEP", 1)  # the sweep at start catches up
    clock = Clock(SEVEN_DAYS)

    started = time.monotonic()
    async with running_bot(config, fake_bot_api, clock) as app:
        await wait_until(lambda: len(delivered(fake_bot_api)) == len(recipients) - 1)
        took = time.monotonic() - started
        clock.now = SEVEN_DAYS.replace(minute=30)  # the next sweeps find nothing to send
        again = await reminders.sweep(app.bot_data[SERVICES], app.bot, clock.now)
        assert again.outcomes == {}
        await users[101].press_and_wait(users[101].last_message().message_id, "r")
        shown = PROGRESS.search(users[101].last_message().visible_text or "")
        assert shown and shown.groups() == ("5", "1")  # the first open question of E1
    async with running_bot(config, fake_bot_api, clock) as app:  # a restart sends nothing again
        await reminders.sweep(app.bot_data[SERVICES], app.bot, clock.now)
        await app.bot_data[COURIER].flush(app.bot)  # and whatever the outbox holds is sent

    sends = [
        r
        for r in fake_bot_api.calls("sendMessage")
        if int(r.params["chat_id"]) != 101 or "Erinnerung" in r.params["text"]
    ]
    per_chat = {u: [r.status for r in sends if int(r.params["chat_id"]) == u] for u in users}
    for user in recipients:
        expected = [403] if user == 303 else [200]
        assert [s for s in per_chat[user] if s != 429] == expected, user
    assert per_chat[901] == per_chat[902] == []
    assert sum(s == 429 for statuses in per_chat.values() for s in statuses) == 3
    assert query(config, "SELECT unreachable FROM members WHERE telegram_user_id = 303") == [(1,)]
    statuses = query(config, "SELECT status, count(*) FROM reminders GROUP BY status")
    assert dict(statuses) == {"sent": len(recipients) - 1, "failed": 1}
    text = fake_bot_api.sent_to(101)[0].visible_text or ""
    assert "in 7 Tagen fällig" in text and "12 von 45" in text
    for user in recipients:  # each 429 was waited out (retry_after=1 s), none skipped
        calls = [r for r in sends if int(r.params["chat_id"]) == user]
        for refused, again in pairwise(calls):
            assert refused.status != 429 or again.at - (refused.finished or 0) >= 1, user
    ok = [r.at for r in delivered(fake_bot_api)][: len(recipients) - 1]
    # 30 at once, then 30 per second: AIORateLimiter, since the fan-out goes through app.bot.
    assert ok[-1] - ok[0] >= (len(ok) - 30) / 30 * 0.8
    print(
        f"fan-out of {len(recipients)} reminders with 3×429: {took:.2f} s; the "
        f"{len(ok)} deliveries took {ok[-1] - ok[0]:.2f} s after the waits; peak "
        f"{peak_rate(fake_bot_api)} sendMessage calls in one second"
    )


def peak_rate(server: FakeBotApi) -> int:
    """Return the most sendMessage calls that arrived within any one second."""
    times = sorted(r.at for r in server.calls("sendMessage"))
    return max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)


async def test_deliver_judges_the_errors_ptb_really_raises(fake_bot_api: FakeBotApi) -> None:
    """Which failures may be sent again, checked against real PTB over real HTTP."""
    user = fake_bot_api.user(4711)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("▶️ Weiter", callback_data="r")]])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with fake_bot_api.bot() as bot:
        fake_bot_api.fail_next("sendMessage", 502)
        assert (await deliver(bot, user.id, "a", markup, sleep))[0] is Outcome.RETRY
        fake_bot_api.drop_next("sendMessage", after_processing=True)  # sent, answer lost
        assert (await deliver(bot, user.id, "b", markup, sleep))[0] is Outcome.UNCERTAIN
        fake_bot_api.fail_next("sendMessage", 429, retry_after=2)
        assert (await deliver(bot, user.id, "c", markup, sleep))[0] is Outcome.SENT
        user.block()
        assert (await deliver(bot, user.id, "d", markup, sleep))[0] is Outcome.BLOCKED
        user.unblock()
        await fake_bot_api.stop()  # nothing listens any more: the connection is refused
        assert (await deliver(bot, user.id, "e", markup, sleep))[0] is Outcome.RETRY
    assert waits == [2]
    assert [m.text for m in fake_bot_api.sent_to(user.id)] == ["b", "c"]
