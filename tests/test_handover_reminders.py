"""Reminders and handovers (issue 19): the delegator's reminder passes over the requirement
handed to a colleague; the colleague's reminder mentions it. Real sweep, Application, SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botharness import make_config, running_bot
from fakebot import FakeBotApi
from test_reminders_telegram import SEVEN_DAYS, Clock, answer_first, set_up_round

import bot.reminders.sweep as reminders
import storage
from bot.config import Config
from bot.core import handovers
from bot.services import SERVICES


@pytest.fixture
def config(tmp_path, fake_bot_api: FakeBotApi) -> Config:
    return make_config(tmp_path, fake_bot_api, "coordination_chat_id = -100777\n")


async def test_reminders_skip_a_handed_over_requirement_and_ask_the_colleague(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects "reminders to the delegator skip it, reminders to the colleague mention it"."""
    checks = await set_up_round(config, {"ABH": [101, 102]})
    await answer_first(config, checks["ABH"], 12)  # Z1 … P3; then K2 is made open again
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        await db.writer.execute(
            "DELETE FROM answers WHERE requirement_id = 'K2' AND check_id = ?", (checks["ABH"],)
        )
        delegator = await storage.member_by_user(db, 101)
        colleague = await storage.member_by_user(db, 102)
        check = await storage.check_by_id(db, checks["ABH"])
        assert delegator and colleague and check
        now = SEVEN_DAYS - timedelta(days=1)
        await handovers.hand_over(db, check, "K2", delegator, now)
        (handover,) = await storage.open_handovers(db, check.id, now)
        await storage.accept_handover(db, handover.id, colleague.id)
    anna, ben = fake_bot_api.user(101, "P101"), fake_bot_api.user(102, "P102")
    clock = Clock(SEVEN_DAYS)
    async with running_bot(config, fake_bot_api, clock) as app:
        await reminders.sweep(app.bot_data[SERVICES], app.bot, clock.now)
    to_anna = anna.last_message().visible_text or ""
    to_ben = ben.last_message().visible_text or ""
    assert "Erinnerung" in to_anna and "Erinnerung" in to_ben
    assert "• B1" in to_anna and "• K2" not in to_anna  # B1 … B3 are listed, K2 is not
    assert "An Kolleg*innen übergeben: K2" in to_anna
    assert "• K2" in to_ben and "P101 bittet Sie noch um die Anforderung K2" in to_ben
    assert "übergeben" not in to_ben
