"""Coordinator onboarding without ids: one-time links, /koordinationsgruppe, /id, group rules."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from botharness import Clock, make_config, query, running_bot, set_up_institution
from fakebot import FakeBotApi
from test_digest import prefill, submit

from bot.cli.entry import main
from bot.config import Config

GROUP = -1004444444444
OTHER_GROUP = -1005555555555
BOT = {
    "id": 42,
    "is_bot": True,
    "first_name": "ChancenCheck Test",
    "username": "chancencheck_test_bot",
}


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    for chat_id, title in ((GROUP, "Koordinierungsgruppe"), (OTHER_GROUP, "Kaffeeklatsch")):
        fake_bot_api.add_chat({"id": chat_id, "type": "supergroup", "title": title})
    return make_config(tmp_path, fake_bot_api)  # no coordinators, no coordination chat


async def coordinator_link(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Run `chancencheck coordinator invite` and return the code from the printed link."""
    argv = ["--config", str(tmp_path / "config.toml"), "coordinator", "invite", *extra]
    assert await asyncio.to_thread(main, argv) == 0  # the CLI runs its own event loop
    printed = capsys.readouterr().out
    match = re.search(r"https://t\.me/chancencheck_test_bot\?start=([A-Za-z0-9_-]+)", printed)
    assert match, printed
    return match.group(1)


async def test_the_one_time_link_makes_a_coordinator_once(
    config: Config, fake_bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await coordinator_link(tmp_path, capsys)
    assert len(code) >= 16
    async with running_bot(config, fake_bot_api):
        kora = fake_bot_api.user(9001, "Kora")
        eve = fake_bot_api.user(9002, "Eve")
        await eve.send_and_wait("/status")
        assert "vorbehalten" in (eve.last_message().visible_text or "")
        await kora.send_and_wait(f"/start {code}")
        assert "Koordinator*in" in (kora.last_message().visible_text or "")
        await kora.send_and_wait("/status")
        assert "vorbehalten" not in (kora.last_message().visible_text or "")
        await eve.send_and_wait(f"/start {code}")  # the same link a second time
        assert "ungültig" in (eve.last_message().visible_text or "")
        await eve.send_and_wait("/status")
        assert "vorbehalten" in (eve.last_message().visible_text or "")
    assert query(config, "SELECT telegram_user_id FROM coordinators") == [(9001,)]


async def test_an_expired_link_makes_nobody_a_coordinator(
    config: Config, fake_bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await coordinator_link(tmp_path, capsys, "--hours", "1")
    clock = Clock()
    clock.advance(2 * 3600)
    async with running_bot(config, fake_bot_api, clock):
        kora = fake_bot_api.user(9001, "Kora")
        await kora.send_and_wait(f"/start {code}")
        assert "ungültig" in (kora.last_message().visible_text or "")
    assert query(config, "SELECT count(*) FROM coordinators") == [(0,)]


async def test_only_a_coordinator_registers_the_group_and_digests_go_there(
    config: Config, fake_bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await coordinator_link(tmp_path, capsys)
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        kora = fake_bot_api.user(9001, "Kora")
        eve = fake_bot_api.user(9002, "Eve")
        await eve.in_group(GROUP, "Koordinierungsgruppe", "supergroup").send_and_wait(
            "/koordinationsgruppe"
        )
        assert "Nur Koordinator*innen" in (fake_bot_api.sent_to(GROUP)[-1].visible_text or "")
        assert query(config, "SELECT count(*) FROM settings") == [(0,)]
        await kora.send_and_wait(f"/start {code}")
        await kora.send_and_wait("/koordinationsgruppe")  # in the private chat: refused
        assert "in der Gruppe" in (kora.last_message().visible_text or "")
        # /koordinierungsgruppe, as the group is called everywhere else, is an alias.
        await kora.in_group(GROUP, "Koordinierungsgruppe", "supergroup").send_and_wait(
            "/koordinierungsgruppe"
        )
        assert "jetzt die Koordinierungsgruppe" in (
            fake_bot_api.sent_to(GROUP)[-1].visible_text or ""
        )
        await submit(fake_bot_api.user(1001, "Anna"))
        await digest_delivered_to(fake_bot_api, GROUP)
    assert [m for m in fake_bot_api.sent_to(OTHER_GROUP)] == []
    heads = [
        m for m in fake_bot_api.sent_to(GROUP) if "hat den ChancenCheck" in (m.visible_text or "")
    ]
    assert len(heads) == 1


async def digest_delivered_to(server: FakeBotApi, chat_id: int) -> None:
    await server.wait_for(
        lambda r: (
            r.method == "sendDocument"
            and r.params.get("chat_id") == chat_id
            and any(name.endswith(".xlsx") for name, _ in r.files.values())
            and r.status == 200
        ),
        timeout=60,
    )


async def test_a_group_added_by_a_stranger_is_left_and_by_a_coordinator_gets_a_hint(
    config: Config, fake_bot_api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await coordinator_link(tmp_path, capsys)
    async with running_bot(config, fake_bot_api):
        kora = fake_bot_api.user(9001, "Kora")
        await kora.send_and_wait(f"/start {code}")
        stranger = fake_bot_api.user(9002, "Eve").in_group(
            OTHER_GROUP, "Kaffeeklatsch", "supergroup"
        )
        await fake_bot_api.wait_answered(stranger.message(new_chat_members=[BOT]))
        assert fake_bot_api.calls("leaveChat")[-1].params["chat_id"] == OTHER_GROUP
        added = kora.in_group(GROUP, "Koordinierungsgruppe", "supergroup")
        await fake_bot_api.wait_answered(added.message(new_chat_members=[BOT]))
        assert "/koordinierungsgruppe" in (fake_bot_api.sent_to(GROUP)[-1].visible_text or "")
    assert [c.params["chat_id"] for c in fake_bot_api.calls("leaveChat")] == [OTHER_GROUP]


async def test_id_tells_a_user_their_own_id(config: Config, fake_bot_api: FakeBotApi) -> None:
    async with running_bot(config, fake_bot_api):
        sam = fake_bot_api.user(123456789, "Sam")
        await sam.send_and_wait("/id")
        assert "123456789" in (sam.last_message().visible_text or "")


async def test_stored_group_is_used_instead_of_the_configured_one(
    tmp_path: Path, fake_bot_api: FakeBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    configured = -1006666666666
    for chat_id in (configured, GROUP):
        fake_bot_api.add_chat({"id": chat_id, "type": "supergroup", "title": str(chat_id)})
    config = make_config(tmp_path, fake_bot_api, f"coordination_chat_id = {configured}")
    code = await coordinator_link(tmp_path, capsys)
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        kora = fake_bot_api.user(9001, "Kora")
        await kora.send_and_wait(f"/start {code}")
        await kora.in_group(GROUP, "K", "supergroup").send_and_wait("/koordinationsgruppe")
        await submit(fake_bot_api.user(1001, "Anna"))
        await digest_delivered_to(fake_bot_api, GROUP)
    assert fake_bot_api.sent_to(configured) == []
