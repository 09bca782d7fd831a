"""The audit log: every answer and every coordinator action, by reference, without texts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from accessharness import COORDINATOR, coordination_config, rows
from botharness import DEADLINE, running_bot, set_up_institution
from fakebot import FakeBotApi

from bot.cli.entry import main
from bot.config import Config

MEASURE = "Sprechstunde in leichter Sprache, Team B, bis 06/2027"


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    return coordination_config(tmp_path, fake_bot_api, group=False)


async def test_answers_and_coordinator_actions_are_recorded(
    config: Config, fake_bot_api: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await set_up_institution(config)
    anna, chief = fake_bot_api.user(1001, "Anna"), fake_bot_api.user(COORDINATOR, "Kora")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait("🟠 teilweise erfüllt")
        await anna.press_button_and_wait("Ja")
        await anna.send_and_wait(MEASURE)
        await anna.send_and_wait("/zurueck")
        await anna.send_and_wait(MEASURE + " (geändert)")
        for command in (
            "/status",
            "/einladung ABH neu",
            "/mitglieder ABH",
            f"/frist {(DEADLINE + timedelta(days=7)).isoformat()}",
        ):
            await chief.send_and_wait(command)

    answers = rows(
        config,
        "SELECT a.id, m.id FROM answers a JOIN members m ON m.id = a.author_id ORDER BY a.id",
    )
    assert (
        rows(config, "SELECT answer_id, actor_id FROM audit WHERE action = 'answer' ORDER BY id")
        == answers
    )
    assert len(answers) == 3  # the rating, and "yes" with its description twice
    coordinator = rows(
        config,
        "SELECT action FROM audit WHERE actor_kind = 'coordinator' AND actor_id = ? ORDER BY id",
        (COORDINATOR,),
    )
    assert coordinator == [
        ("view_status",),
        ("invite_replace",),
        ("view_members",),
        ("deadline_move",),
    ]
    # References only: the audit repeats no answer text.
    assert not [
        row
        for row in rows(config, "SELECT * FROM audit")
        if any("Sprechstunde" in str(cell) for cell in row)
    ]

    config_file = str(Path(config.storage.path).parent / "config.toml")
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["--config", config_file, "audit", "--limit", "4"]) == 0
    shown = capsys.readouterr().out
    assert "coordinator 9001" in shown and "invite_replace" in shown and "deadline_move" in shown
    assert "Sprechstunde" not in shown
