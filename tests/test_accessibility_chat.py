"""Issue 21 in the chat: /barrierefrei end to end, words before glyphs, charts said in words.

The real Application against the fake Bot API, the real SQLite file and the real templates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from botharness import make_config, query, running_bot, set_up_institution
from fakebot import BotMessage, FakeBotApi, FakeUser
from test_digest import COORDINATOR, GROUP, prefill
from test_reminders_telegram import SEVEN_DAYS, set_up_round, wait_until
from test_reminders_telegram import Clock as ReminderClock

import bot.reminders.sweep as reminders
import storage
from bot.config import Config
from bot.render.views import is_glyph

START = "▶️ Los geht's"


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordination_chat_id = {GROUP}\ncoordinators = [{COORDINATOR}]"
    return make_config(tmp_path, fake_bot_api, extra)


def glyphs(text: str) -> str:
    return "".join(char for char in text if is_glyph(char))


def question_screen(user: FakeUser) -> BotMessage:
    return [m for m in user.messages() if m.buttons][-1]


def assert_plain(message: BotMessage) -> None:
    """No glyph in text or buttons, and every button alone in its row."""
    text = message.visible_text or ""
    assert not glyphs(text), text
    assert all(len(row) == 1 for row in message.buttons), message.button_labels
    assert not glyphs("".join(message.button_labels)), message.button_labels


async def switch(server: FakeBotApi, user: FakeUser, command: str) -> None:
    """Send /barrierefrei an|aus and wait for the reply and the screen shown again after it."""
    since = len(server.requests)
    await user.send_and_wait(command, timeout=20)
    await server.wait_for(
        lambda r: r.method == "sendMessage" and "reply_markup" in r.params and r.status == 200,
        timeout=20,
        start=since,
    )


def plain_mode(config: Config, user_id: int) -> list[tuple[int]]:
    return query(config, "SELECT plain_mode FROM members WHERE telegram_user_id = ?", (user_id,))


async def test_accessible_switch_end_to_end(config: Config, fake_bot_api: FakeBotApi) -> None:
    """/barrierefrei an|aus switches, is stored, shapes every screen, and is in /meinedaten."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        welcome = anna.last_message().visible_text or ""
        assert "Bildschirmleser" in welcome and "/barrierefrei an" in welcome  # the question
        await anna.press_button_and_wait(START)
        normal = question_screen(anna)
        assert "0 von 45 beantwortet ▱" in (normal.visible_text or "")  # words lead the bar
        assert any(len(row) > 1 for row in normal.buttons)

        await switch(fake_bot_api, anna, "/barrierefrei an")
        assert plain_mode(config, 1001) == [(1,)]
        assert any("ist an" in (m.visible_text or "") for m in anna.messages()[-3:])
        screen = question_screen(anna)
        assert_plain(screen)
        assert "0 von 45 beantwortet" in (screen.visible_text or "")
        assert "vollständig erfüllt" in screen.button_labels  # the words stay, the dot goes
        await anna.press_button_and_wait("teilweise erfüllt")
        assert_plain(question_screen(anna))
        assert "1 von 45 beantwortet" in (question_screen(anna).visible_text or "")

        await anna.send_and_wait("/uebersicht")
        overview = question_screen(anna)
        assert_plain(overview)
        assert "Z1 begonnen" in overview.button_labels and "K1 offen" in overview.button_labels
        assert re.search(r"Z1 .*\(1 von 3\)", overview.visible_text or "")

        await anna.send_and_wait("/pruefen")
        review = [m for m in anna.messages() if "Alle Antworten" in (m.visible_text or "")]
        assert review and all(not glyphs(m.visible_text or "") for m in review)
        assert "offen" in (review[-1].visible_text or "")

        before = len(anna.messages())
        await anna.send_and_wait("/barrierefrei vielleicht")  # bad input changes nothing
        assert plain_mode(config, 1001) == [(1,)]
        reply = anna.messages()[before].visible_text or ""
        assert "„vielleicht“" in reply and "nichts geändert" in reply

        await anna.send_and_wait("/meinedaten")
        [export] = [m for m in fake_bot_api.sent_to(anna.chat_id) if m.file]
        assert export.file is not None
        assert json.loads(export.file[1])["membership"]["plain_mode"] is True

        await switch(fake_bot_api, anna, "/accessible off")  # the English alias
        assert plain_mode(config, 1001) == [(0,)]
        screen = question_screen(anna)
        assert "▰" in (screen.visible_text or "") or "▱" in (screen.visible_text or "")
        assert any(len(row) > 1 for row in screen.buttons)


async def test_plain_mode_survives_a_restart(config: Config, fake_bot_api: FakeBotApi) -> None:
    """The choice is stored with the member, not held in memory."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.send_and_wait("/barrierefrei an")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait("/weiter")
        assert_plain(question_screen(anna))
        await anna.send_and_wait("/barrierefrei")
        assert "ist an" in (anna.last_message().visible_text or "")


async def test_charts_come_with_their_content_in_words(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """The profile chart and the heat map carry a caption that says per area/institution the
    mean and the requirements below 2, each light beside its colour word."""
    await set_up_institution(config)
    await prefill(config)  # every requirement "teilweise erfüllt" (score 1)
    async with running_bot(config, fake_bot_api):
        coordinator = fake_bot_api.user(COORDINATOR, "Kora")
        await coordinator.send_and_wait("/bericht ABH")
        await coordinator.send_and_wait("/heatmap")
    photos = [c.params for c in fake_bot_api.calls("sendPhoto")]
    assert len(photos) == 2
    profile, heatmap = (str(p.get("caption", "")) for p in photos)
    assert "Grafik in Worten" in profile and "Ausländerbehörde" in profile
    for line in profile.splitlines()[2:]:
        assert re.search(r": 1,0, orange; unter 2: [A-Z]+\d", line), line
    assert re.search(r"🟠 ABH: 1,0, orange; unter 2: Z1, ", heatmap), heatmap


async def test_reminder_in_plain_mode_has_words_only(
    tmp_path: Path, fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member in plain mode gets the deadline reminder without emoji, its button in words;
    a colleague without it gets the usual one."""
    config = make_config(tmp_path, fake_bot_api, "coordination_chat_id = -100777\n")
    await set_up_round(config, {"ABH": [501, 502]})
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        member = await storage.member_by_user(db, 501)
        assert member is not None
        await storage.set_plain_mode(db, member.id, True)
    users = {u: fake_bot_api.user(u, f"P{u}") for u in (501, 502)}
    monkeypatch.setattr(reminders, "FIRST_SWEEP", 1)
    async with running_bot(config, fake_bot_api, ReminderClock(SEVEN_DAYS)):
        await wait_until(lambda: all(u.messages() for u in users.values()))
    plain, usual = users[501].last_message(), users[502].last_message()
    assert "Erinnerung" in (plain.visible_text or "") and not glyphs(plain.visible_text or "")
    assert plain.button_labels == ["Weiter"]
    assert "⏰" in (usual.visible_text or "") and usual.button_labels == ["▶️ Weiter"]
