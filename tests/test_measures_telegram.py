"""The improvement plan end to end (issue 16): measures typed in the check get a month and an
owner, the bot asks about them in their month at most once, members and coordinators see the
plan. The real Application over HTTP against the fake Bot API, the real SQLite file and
templates; the clock is the test's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from botharness import make_config, query, running_bot, set_up_institution
from fakebot import FakeBotApi, FakeUser, parse_html

import bot.reminders.measures as followups
import storage
from bot.catalogue import load_catalogue
from bot.cli.entry import main as cli
from bot.config import Config
from bot.render.templates import Templates
from bot.services import SERVICES

START = "▶️ Los geht's"
FULL = "🟢 vollständig erfüllt"
YES = "Ja"
TWO_MEASURES = "1. Flyer in Leichter Sprache 2. Formulare übersetzen lassen"
ENTERED = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)  # a Tuesday, 10:30 in Ludwigshafen
JUNE = datetime(2027, 6, 1, 7, 30, tzinfo=UTC)  # Tuesday, 09:30 local: the due month
JULY = datetime(2027, 7, 1, 7, 30, tzinfo=UTC)  # Thursday: overdue, asked again


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


GROUP = -1001234567890
TEMPLATES = Templates(ZoneInfo("Europe/Berlin"))
CATALOGUE = load_catalogue()
NEXT_ROUND = datetime(2027, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordination_chat_id = {GROUP}\ncoordinators = [9000]\n"
    return make_config(tmp_path, fake_bot_api, extra)


async def open_next_round_all_answered_but_one(config: Config) -> None:
    """Close the round, open the next and answer all but its last question, as stored."""
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        first = await storage.current_cycle(db)
        assert first is not None
        await storage.close_cycle(db, first.id, NEXT_ROUND)
        cycle = await storage.open_cycle(
            db, "Runde 2028", CATALOGUE.id, CATALOGUE.version, date(2028, 3, 31), NEXT_ROUND
        )
        institution = await storage.institution_by_short(db, "ABH")
        assert institution is not None
        check = await storage.check_for(db, institution.id, cycle.id)
        last = (CATALOGUE.requirements[-1].id, "measures")
        for requirement in CATALOGUE.requirements:
            for question, value in zip(CATALOGUE.questions, ("full", "no", "none"), strict=True):
                if (requirement.id, question.key) != last:
                    answer = storage.NewAnswer(
                        requirement.id, question.key, value, None, None, CATALOGUE.id,
                        CATALOGUE.version,
                    )  # fmt: skip
                    await storage.record_answer(db, check.id, answer, NEXT_ROUND)


async def question_shown(server: FakeBotApi, since: int, progress: str) -> None:
    """Wait until the bot has shown the question with this progress line since `since`."""
    await server.wait_for(
        lambda r: progress in str(r.params.get("text")) and r.status == 200,
        timeout=20,
        start=since,
    )


def asks(user: FakeUser) -> list[str]:
    return [m.visible_text or "" for m in user.messages() if "wie ist der Stand" in (m.text or "")]


async def type_two_measures(user: FakeUser, code: str) -> None:
    await user.send_and_wait(f"/start {code}")
    await user.press_button_and_wait(START)
    await user.press_button_and_wait(FULL)
    await user.press_button_and_wait(YES)
    await user.send_and_wait("Formulare gibt es nur auf Deutsch")
    await user.send_and_wait(TWO_MEASURES)


@pytest.mark.slow
async def test_two_measures_are_planned_followed_up_once_a_month_and_counted_next_round(
    config: Config,
    fake_bot_api: FakeBotApi,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Protects the whole promise of issue 16 (but the carry-forward screen): one reply with two
    numbered measures becomes two measures with the month and owner of two taps; in the due
    month the owner is asked once per measure, also across a restart; "In Arbeit" then next
    month "Umgesetzt" is stored with its history; /massnahmen, the coordinators' view and the
    CLI list show it; the next round counts it as carried out."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    clock = Clock(ENTERED)
    async with running_bot(config, fake_bot_api, clock):
        await type_two_measures(anna, code)
        plan = [m for m in anna.messages() if "Bis wann?" in (m.visible_text or "")][-1]
        assert "2 Maßnahmen gespeichert" in (plan.visible_text or "")
        assert plan.button_labels == [
            "Dieses Quartal", "Nächstes Quartal", "In 6 Monaten", "In 12 Monaten", "Offen",
            "Überspringen",
        ]  # fmt: skip
        # The follow-ups are the one message with buttons; the next question follows them.
        assert [m.message_id for m in anna.messages() if m.buttons] == [plan.message_id]
        await anna.press_and_wait(plan.message_id, plan.callback_data[1])  # Nächstes Quartal
        owner = _message(anna, plan.message_id)
        assert "Wer kümmert sich?" in (owner.visible_text or "")
        since = len(fake_bot_api.requests)
        await anna.press_and_wait(plan.message_id, _data(owner, "Ich"))
        await question_shown(fake_bot_api, since, "Anforderung 2 von 15")
        assert "bis 06/2027, zuständig: Anna" in (
            _message(anna, plan.message_id).visible_text or ""
        )

    stored = query(
        config,
        "SELECT text, due_month, owner_member_id IS NOT NULL, status FROM measures ORDER BY id",
    )
    assert stored == [
        ("Flyer in Leichter Sprache", "2027-06", 1, "geplant"),
        ("Formulare übersetzen lassen", "2027-06", 1, "geplant"),
    ]

    clock.now = JUNE
    async with running_bot(config, fake_bot_api, clock) as app:
        services = app.bot_data[SERVICES]
        assert await followups.sweep(services, app.bot, clock.now) == 2
        assert await followups.sweep(services, app.bot, clock.now) == 0
    async with running_bot(config, fake_bot_api, clock) as app:  # a restart asks nothing again
        assert await followups.sweep(app.bot_data[SERVICES], app.bot, clock.now) == 0
        assert len(asks(anna)) == 2
        first = [m for m in anna.messages() if "Flyer in Leichter Sprache" in (m.text or "")][-1]
        title = load_catalogue().requirement("Z1").title("de")
        assert first.visible_text == (
            f"🔔 Maßnahme aus dem ChancenCheck (Z1 {title}): „Flyer in Leichter Sprache“ – "
            "wie ist der Stand? (geplant bis 06/2027)"
        )
        assert first.button_labels == [
            "✅ Umgesetzt",
            "⏳ In Arbeit",
            "📅 Verschieben",
            "❌ Verworfen",
        ]
        await anna.press_and_wait(first.message_id, _data(first, "⏳ In Arbeit"))
        assert "in Arbeit" in (_message(anna, first.message_id).visible_text or "")

    clock.now = JULY
    async with running_bot(config, fake_bot_api, clock) as app:
        assert await followups.sweep(app.bot_data[SERVICES], app.bot, clock.now) == 2
        again = [m for m in anna.messages() if "Flyer in Leichter Sprache" in (m.text or "")][-1]
        assert again.message_id != first.message_id
        await anna.press_and_wait(again.message_id, _data(again, "✅ Umgesetzt"))
        await anna.send_and_wait("/massnahmen")
        listing = anna.last_message().visible_text or ""
        assert "Flyer in Leichter Sprache" in listing and "umgesetzt" in listing
        coordinator = fake_bot_api.user(9000, "Kora")
        await coordinator.send_and_wait("/massnahmen")
        overview = coordinator.last_message().visible_text or ""
        assert "ABH: 1 geplant · 0 in Arbeit · 1 umgesetzt · 0 verworfen · 0 überfällig" in overview
        await coordinator.send_and_wait("/massnahmen ABH")
        plan_of_abh = coordinator.last_message().visible_text or ""
        assert "Flyer in Leichter Sprache – umgesetzt, bis 06/2027" in plan_of_abh
        assert "Anna" not in plan_of_abh  # [privacy] authors = "none" by default

    history = query(
        config,
        "SELECT c.field, c.new FROM measure_changes c JOIN measures m ON m.id = c.measure_id "
        "WHERE m.text = 'Flyer in Leichter Sprache' AND c.field = 'status' ORDER BY c.id",
    )
    assert history == [("status", "in_arbeit"), ("status", "umgesetzt")]
    sends = query(config, "SELECT month, status, count(*) FROM measure_asks GROUP BY month, status")
    assert sends == [("2027-06", "sent", 2), ("2027-07", "sent", 2)]

    listed = [
        "--config",
        str(tmp_path / "config.toml"),
        "measures",
        "list",
        "--status",
        "umgesetzt",
    ]
    assert await asyncio.to_thread(cli, listed) == 0
    out = capsys.readouterr().out
    assert "Flyer in Leichter Sprache" in out and "übersetzen" not in out

    await open_next_round_all_answered_but_one(config)
    clock.now = NEXT_ROUND
    async with running_bot(config, fake_bot_api, clock):
        await anna.send_and_wait("/weiter")
        await anna.press_button_and_wait("Keine Maßnahmen geplant")
        await anna.press_button_and_wait("✅ Absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        await fake_bot_api.wait_for(
            lambda r: r.method == "sendMessage" and "Vorrunde" in str(r.params.get("text")),
            timeout=60,
        )
    digest = "\n".join(m.visible_text or "" for m in fake_bot_api.sent_to(GROUP))
    assert "1 von 2 Maßnahmen der Vorrunde umgesetzt" in digest


def _message(user: FakeUser, message_id: int):  # type: ignore[no-untyped-def]
    return next(m for m in reversed(user.messages()) if m.message_id == message_id)


def _data(message, label: str) -> str:  # type: ignore[no-untyped-def]
    for row in message.buttons:
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise LookupError(label)


def _plan_message(user: FakeUser):  # type: ignore[no-untyped-def]
    return [m for m in user.messages() if "Maßnahme" in (m.visible_text or "")][-1]


@pytest.mark.slow
async def test_skipping_or_typing_a_name_plans_and_the_dialogue_goes_on(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects "nobody gets stuck" for the follow-ups: "Überspringen" leaves month and owner
    open; "Jemand anderes" takes the next text as the name, also after a restart, and shows
    the question again; a long text instead of a name is taken as an answer; strangers get no
    plan and no one changes another institution's measure."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    clock = Clock(ENTERED)
    async with running_bot(config, fake_bot_api, clock):
        await type_two_measures(anna, code)
        plan = _plan_message(anna)
        since = len(fake_bot_api.requests)
        await anna.press_and_wait(plan.message_id, _data(plan, "Überspringen"))
        await question_shown(fake_bot_api, since, "Anforderung 2 von 15")
        assert "bis offen, zuständig: offen" in (_message(anna, plan.message_id).visible_text or "")
        assert "Anforderung 2 von 15 · Frage 1 von 3" in (anna.last_message().visible_text or "")
        # Requirement 2: one measure, then "Jemand anderes (Name tippen)".
        await anna.press_button_and_wait(FULL)
        await anna.press_button_and_wait("Nein")
        await anna.send_and_wait("Schulung für das Team")
        plan = _plan_message(anna)
        assert "Maßnahme gespeichert." in (plan.visible_text or "")
        await anna.press_and_wait(plan.message_id, _data(plan, "Dieses Quartal"))
        owner = _message(anna, plan.message_id)
        await anna.press_and_wait(plan.message_id, _data(owner, "Jemand anderes (Name tippen)"))
        assert "tippen Sie den Namen" in (_message(anna, plan.message_id).visible_text or "")
    async with running_bot(config, fake_bot_api, clock):  # the name is still awaited
        since = len(fake_bot_api.requests)
        await anna.send_and_wait("Herr Özdemir")
        await question_shown(fake_bot_api, since, "Anforderung 3 von 15")  # shown again
        texts = [m.visible_text or "" for m in anna.messages()]
        assert any("bis 03/2027, zuständig: Herr Özdemir" in t for t in texts)
        assert "Anforderung 3 von 15 · Frage 1 von 3" in texts[-1]  # the question again
        stranger = fake_bot_api.user(2002, "Eve")
        await stranger.send_and_wait("/massnahmen")
        refusal = stranger.last_message()
        assert "Maßnahmenplan" not in (refusal.visible_text or "")
        assert refusal.visible_text == parse_html(TEMPLATES.render("de", "not_member")).text
        first_id = query(config, "SELECT min(id) FROM measures")[0][0]
        before = query(config, "SELECT status FROM measures ORDER BY id")
        await stranger.wait_answered(
            stranger.press(refusal.message_id, f"ms:{first_id}:verworfen", check=False)
        )
        assert query(config, "SELECT status FROM measures ORDER BY id") == before
    stored = query(config, "SELECT text, due_month, owner_name FROM measures ORDER BY id")
    assert stored == [
        ("Flyer in Leichter Sprache", None, None),
        ("Formulare übersetzen lassen", None, None),
        ("Schulung für das Team", "2027-03", "Herr Özdemir"),
    ]
    assert query(config, "SELECT count(*) FROM measure_prompts") == [(0,)]


@pytest.mark.slow
async def test_the_opt_out_and_a_departed_owner_are_respected_by_the_follow_up(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects "/erinnerungen aus covers the follow-ups" and the fallback: an owner who left
    the institution is not asked; the measure falls back to the institution's members."""
    code = await set_up_institution(config)
    anna, bert = fake_bot_api.user(1001, "Anna"), fake_bot_api.user(1002, "Bert")
    clock = Clock(ENTERED)
    async with running_bot(config, fake_bot_api, clock) as app:
        await type_two_measures(anna, code)
        plan = _plan_message(anna)
        await anna.press_and_wait(plan.message_id, _data(plan, "Dieses Quartal"))
        await anna.press_and_wait(plan.message_id, _data(_message(anna, plan.message_id), "Ich"))
        await bert.send_and_wait(f"/start {code}")
        await anna.send_and_wait("/erinnerungen aus")
        clock.now = datetime(2027, 3, 2, 8, 30, tzinfo=UTC)  # Tuesday in the due month
        assert await followups.sweep(app.bot_data[SERVICES], app.bot, clock.now) == 0
        assert asks(anna) == [] and asks(bert) == []
        clock.now = datetime(2027, 4, 1, 7, 30, tzinfo=UTC)  # overdue: asked in April
        await anna.send_and_wait("/austreten")
        await anna.press_button_and_wait("🚪 Ja, austreten")
        assert await followups.sweep(app.bot_data[SERVICES], app.bot, clock.now) == 2
        assert len(asks(bert)) == 2 and asks(anna) == []
        await bert.send_and_wait("/massnahmen")
        listing = bert.last_message()
        assert "niemand benannt" in (listing.visible_text or "")
        await bert.press_and_wait(listing.message_id, _data(listing, "1"))
        chosen = bert.last_message()
        assert "Flyer in Leichter Sprache" in (chosen.visible_text or "")
        await bert.press_and_wait(chosen.message_id, _data(chosen, "❌ Verworfen"))
    assert query(config, "SELECT status FROM measures ORDER BY id") == [
        ("verworfen",),
        ("geplant",),
    ]
