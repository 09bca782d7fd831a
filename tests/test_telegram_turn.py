"""One tap, one round trip (issue 18): after the commit, the button's answer, the transcript
edit and the next question go to Telegram at once; and a tap costs at most six round trips to
the database thread. The real Application, the fake Bot API server and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiosqlite.core
import pytest
from botharness import make_config, running_bot, set_up_institution
from fakebot import FakeBotApi

from bot.config import Config

SLOW = 0.3  # seconds the fake takes for each call of a turn, like a long round trip
TURN_CALLS = {"answerCallbackQuery", "editMessageText", "sendMessage"}


@pytest.fixture
def config(tmp_path, fake_bot_api: FakeBotApi) -> Config:
    return make_config(tmp_path, fake_bot_api)


def slow_turns(server: FakeBotApi) -> None:
    """Make every call of a turn take SLOW seconds."""
    dispatch = server._dispatch

    async def slow(method: str, params: dict[str, Any], files: Any) -> Any:
        if method in TURN_CALLS:
            await asyncio.sleep(SLOW)
        return await dispatch(method, params, files)

    server._dispatch = slow  # type: ignore[method-assign]


async def test_a_tap_is_answered_edited_and_followed_in_one_round_trip(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """The three calls overlap, so a member waits one round trip, not three; order on screen
    stays right: the answered question is edited in place, the next one is sent below it."""
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait("▶️ Los geht's")
        asked = anna.last_message()
        slow_turns(fake_bot_api)
        calls = await anna.press_button_and_wait("🟢 vollständig erfüllt", timeout=10)
    turn = [c for c in calls if c.method in TURN_CALLS]
    assert sorted(c.method for c in turn) == sorted(TURN_CALLS)
    assert max(c.at for c in turn) < min(c.finished or 0 for c in turn), "all three at once"
    edit = next(c for c in turn if c.method == "editMessageText")
    sent = next(c for c in turn if c.method == "sendMessage")
    assert edit.params["message_id"] == asked.message_id
    assert sent.result["message_id"] > asked.message_id
    assert "➜ <b>🟢 vollständig erfüllt</b>" in edit.params["text"]


async def test_a_tap_costs_at_most_six_round_trips_to_the_database_thread(
    config: Config, fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round trip to aiosqlite's thread costs a task switch and ~75 µs: 17 made a tap slow."""
    code = await set_up_institution(config)
    trips = Counter[str]()
    execute = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips["all"] += 1
        return await execute(self, fn, *args, **kwargs)

    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait("🟢 vollständig erfüllt")  # the first answer's check
        monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
        await anna.press_button_and_wait("Nein")
        monkeypatch.undo()
    assert 0 < trips["all"] <= 6, trips
