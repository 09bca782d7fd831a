"""The staff conversation end to end: the real Application, the fake Bot API server, SQLite."""

from __future__ import annotations

import re

import pytest
from botharness import current_answers, make_config, query, running_bot, set_up_institution
from fakebot import FakeBotApi, FakeUser

from bot.catalogue import load_catalogue
from bot.config import Config

CATALOGUE = load_catalogue()
RATINGS = [
    "🟢 vollständig erfüllt",
    "🟡 überwiegend erfüllt",
    "🟠 teilweise erfüllt",
    "🔴 nicht erfüllt",
    "⚪ nicht beurteilbar / trifft nicht zu",
]
PROGRESS = re.compile(r"Anforderung (\d+) von 15 · Frage (\d) von 3")


def where(user: FakeUser) -> tuple[int, int]:
    """Return (requirement number, question number) of the question shown last."""
    match = PROGRESS.search(user.last_message().visible_text or "")
    assert match, user.last_message().visible_text
    return int(match.group(1)), int(match.group(2))


async def answer_shown(user: FakeUser, number: int) -> None:
    """Answer the question on screen, varying answers by the question's number."""
    labels = user.last_message().button_labels
    if RATINGS[0] in labels:
        await user.press_button_and_wait(RATINGS[number % 5])
    elif "Ja" in labels and number % 2:
        await user.press_button_and_wait("Ja")
        await user.send_and_wait(f'Potenzial {number}: Formulare <kürzer> & "klarer" 📄')
    elif "Ja" in labels:
        await user.press_button_and_wait("Nein")
    elif number % 3:
        await user.send_and_wait(f"Maßnahme {number}: Schulung, Team B, bis 06/2027")
        await user.press_button_and_wait("Überspringen")  # the plan's "Bis wann?" (issue 16)
    else:
        await user.press_button_and_wait("Keine Maßnahmen geplant")


async def join(user: FakeUser, code: str) -> None:
    await user.send_and_wait(f"/start {code}")
    assert "Ausländerbehörde" in (user.last_message().visible_text or "")


async def answer_all(user: FakeUser) -> None:
    for number in range(45):
        assert where(user) == (number // 3 + 1, number % 3 + 1)
        await answer_shown(user, number)


@pytest.fixture
def config(tmp_path, fake_bot_api: FakeBotApi) -> Config:
    return make_config(tmp_path, fake_bot_api)


async def test_member_joins_and_completes_the_whole_check(config, fake_bot_api: FakeBotApi) -> None:
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await join(anna, code)
        welcome = anna.last_message().visible_text or ""
        assert "Runde 2027" in welcome and "Frist" in welcome
        await anna.press_button_and_wait("▶️ Los geht's")
        await answer_all(anna)
        assert "Alle 45 Fragen sind beantwortet" in (anna.last_message().visible_text or "")
        await anna.press_button_and_wait("✅ Absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        summary = anna.last_message().visible_text or ""

    assert "Der ChancenCheck ist abgesendet" in summary
    assert all(area.title.de in summary for area in CATALOGUE.areas)
    stored = current_answers(config)
    assert len(stored) == 45
    assert stored[("Z1", "potential")] == ("yes", 'Potenzial 1: Formulare <kürzer> & "klarer" 📄')
    assert query(config, "SELECT status, submitted_by IS NOT NULL FROM checks") == [
        ("submitted", 1)
    ]
    with_buttons = [m for m in anna.messages() if m.buttons]
    assert with_buttons == [], "a submitted check leaves no buttons to press"
    transcript = [m.visible_text for m in anna.messages() if m.visible_text.startswith("Z1 ")]
    assert transcript[0].endswith("➜ 🟢 vollständig erfüllt")


async def test_commands_are_registered_in_german_and_english(config, fake_bot_api) -> None:
    async with running_bot(config, fake_bot_api):
        pass
    calls = fake_bot_api.calls("setMyCommands")
    by_language = {c.params.get("language_code"): c.params["commands"] for c in calls}
    assert set(by_language) == {None, "de", "en"}
    names = [c["command"] for c in by_language["en"]]
    assert "weiter" in names and "hilfe" in names and "sprache" in names
    german = {c["command"]: c["description"] for c in by_language["de"]}
    english = {c["command"]: c["description"] for c in by_language["en"]}
    assert german["weiter"] != english["weiter"]


async def test_pause_restart_and_resume_at_the_right_question(config, fake_bot_api) -> None:
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await join(anna, code)
        await anna.press_button_and_wait("▶️ Los geht's")
        for number in range(4):
            await answer_shown(anna, number)
        await anna.press_button_and_wait("Überspringen ▶️")  # question 6 stays open
        await answer_shown(anna, 6)
        await anna.send_and_wait("/pause")
        assert "Pause" in (anna.last_message().visible_text or "")
    before = current_answers(config)

    async with running_bot(config, fake_bot_api):  # a new process on the same file
        await anna.send_and_wait("/weiter")
        assert where(anna) == (2, 2)  # the first open question: the skipped one
        await answer_shown(anna, 4)
        assert where(anna) == (3, 1), "the next open question; answered ones are not walked again"
        await anna.send_and_wait("/weiter")
        assert where(anna) == (3, 1)  # /weiter: the first open one, the same

    assert set(before) < set(current_answers(config))
    assert len(before) == 5


async def test_back_shows_and_changes_the_answer_keeping_the_old_revision(
    config, fake_bot_api
) -> None:
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await join(anna, code)
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait(RATINGS[1])
        await anna.press_button_and_wait("◀️ Zurück")
        shown = anna.last_message().visible_text or ""
        assert "Gespeicherte Antwort: 🟡 überwiegend erfüllt" in shown and "Anna" in shown
        assert "👍 Antwort beibehalten" in anna.last_message().button_labels
        await anna.press_button_and_wait(RATINGS[3])
        assert where(anna) == (1, 2)

    revisions = query(
        config,
        "SELECT value FROM answers WHERE requirement_id = 'Z1' "
        "AND question_key = 'fulfilment' ORDER BY id",
    )
    assert revisions == [("mostly",), ("not",)]


async def test_a_second_member_sees_the_first_members_answers(config, fake_bot_api) -> None:
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        ben = fake_bot_api.user(1002, "Ben")
        await join(anna, code)
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait(RATINGS[2])
        await join(ben, code)
        await ben.press_button_and_wait("▶️ Los geht's")
        assert where(ben) == (1, 2), "Ben starts at the first question nobody answered"
        await ben.press_button_and_wait("◀️ Zurück")
        shown = ben.last_message().visible_text or ""
        assert "🟠 teilweise erfüllt" in shown and "(Anna," in shown
        await ben.press_button_and_wait("👍 Antwort beibehalten")
        assert where(ben) == (1, 2)
        await ben.send_and_wait("/zurueck")
        await ben.press_button_and_wait(RATINGS[0])

    rows = query(
        config,
        "SELECT value, m.first_name FROM answers a JOIN members m "
        "ON m.id = a.author_id WHERE requirement_id = 'Z1' ORDER BY a.id",
    )
    assert rows == [("partly", "Anna"), ("full", "Ben")]


async def test_overview_jumps_to_a_requirement(config, fake_bot_api) -> None:
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await join(anna, code)
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait(RATINGS[0])
        await anna.press_button_and_wait("📋 Übersicht")
        overview = anna.last_message()
        assert len([label for label in overview.button_labels if label[-2:].strip()]) >= 15
        assert "◐ Z1" in overview.button_labels and "○ K1" in overview.button_labels
        await anna.press_button_and_wait("○ K1")
        assert where(anna) == (7, 1)
        assert "Form und Sprache von Informationen" in (anna.last_message().visible_text or "")


async def test_typed_option_and_hint(config, fake_bot_api) -> None:
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await join(anna, code)
        await anna.send_and_wait("/weiter")
        await anna.press_button_and_wait("💡 Erklärung")
        assert "Beispiel:" in (anna.last_message().visible_text or "")
        await anna.send_and_wait("überwiegend erfüllt")
        await anna.send_and_wait("nein")
        assert where(anna) == (1, 3)
    assert current_answers(config) == {
        ("Z1", "fulfilment"): ("mostly", None),
        ("Z1", "potential"): ("no", None),
    }


async def test_review_splits_long_answers_within_telegram_limits(config, fake_bot_api) -> None:
    code = await set_up_institution(config)
    long_text = "Sehr ausführliche Beschreibung mit <Sonderzeichen> & Umlauten äöü. " * 28
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await join(anna, code)
        await anna.send_and_wait("/weiter")
        for _ in range(6):
            await anna.press_button_and_wait(RATINGS[2])
            await anna.press_button_and_wait("Ja")
            await anna.send_and_wait(long_text[:1990])
            await anna.send_and_wait(long_text[:1990])
            await anna.press_button_and_wait("Überspringen")  # the plan's "Bis wann?"
        sent_before = len(anna.messages())
        await anna.send_and_wait("/pruefen")
        review = anna.messages()[sent_before:]
    assert len(review) >= 3, "six 2,000-character answers cannot fit into fewer messages"
    assert all(len(m.visible_text or "") <= 4096 for m in review)
    assert review[-1].buttons and not any(m.buttons for m in review[:-1])
    assert sum((m.visible_text or "").count("Sonderzeichen") for m in review) == 6 * 2 * 28


async def test_submission_needs_every_answer_and_confirmation(config, fake_bot_api) -> None:
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await join(anna, code)
        await anna.send_and_wait("/weiter")
        await anna.press_button_and_wait(RATINGS[4])
        await anna.send_and_wait("/absenden")
        assert "noch 44 Fragen offen" in "".join(m.visible_text or "" for m in anna.messages()[-2:])
        assert query(config, "SELECT status FROM checks") == [("open",)]
