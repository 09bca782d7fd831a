"""Last round's measures in the next round (issue 16 §4): the carry-forward screen of a
requirement shows them with their status, and "✅ Stimmt noch so" carries the open ones into
the new round (owner, month and status kept, the link in their history) and leaves the done
ones with last round. The real Application over HTTP against the fake Bot API, the real SQLite
file and templates; the clock is the test's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from botharness import make_config, query, running_bot, set_up_institution
from fakebot import FakeBotApi, FakeUser
from test_measures_telegram import (
    CATALOGUE,
    ENTERED,
    GROUP,
    NEXT_ROUND,
    Clock,
    _data,
    _message,
    type_two_measures,
)

import storage
from bot.config import Config

FIRST = CATALOGUE.requirements[0].id
pytestmark = pytest.mark.slow


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordination_chat_id = {GROUP}\ncoordinators = [9000]\n"
    return make_config(tmp_path, fake_bot_api, extra)


async def open_round_2028_all_answered_but_the_first(config: Config) -> None:
    """Close the round, open the next, and answer every requirement but the first, as stored."""
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
        for requirement in CATALOGUE.requirements[1:]:
            for question, value in zip(CATALOGUE.questions, ("full", "no", "none"), strict=True):
                answer = storage.NewAnswer(
                    requirement.id, question.key, value, None, None, CATALOGUE.id,
                    CATALOGUE.version,
                )  # fmt: skip
                await storage.record_answer(db, check.id, answer, NEXT_ROUND)


async def set_status(anna: FakeUser, number: str, label: str) -> None:
    """Change a measure's status through /massnahmen: tap its number, then the status."""
    await anna.send_and_wait("/massnahmen")
    plan = anna.last_message()
    await anna.press_and_wait(plan.message_id, _data(plan, number))
    offer = anna.last_message()
    await anna.press_and_wait(offer.message_id, _data(offer, label))


async def round_one_with_a_done_and_an_open_measure(
    config: Config, fake_bot_api: FakeBotApi, clock: Clock
) -> FakeUser:
    """Round 1: Anna types two measures (next quarter, hers), one done, one in progress."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api, clock):
        await type_two_measures(anna, code)
        plan = [m for m in anna.messages() if "Bis wann?" in (m.visible_text or "")][-1]
        await anna.press_and_wait(plan.message_id, plan.callback_data[1])  # Nächstes Quartal
        await anna.press_and_wait(plan.message_id, _data(_message(anna, plan.message_id), "Ich"))
        await set_status(anna, "1", "✅ Umgesetzt")
        await set_status(anna, "2", "⏳ In Arbeit")
    assert query(config, "SELECT text, status FROM measures ORDER BY id") == [
        ("Flyer in Leichter Sprache", "umgesetzt"),
        ("Formulare übersetzen lassen", "in_arbeit"),
    ]
    await open_round_2028_all_answered_but_the_first(config)
    clock.now = NEXT_ROUND
    return anna


def round_2028(config: Config) -> list[tuple[object, ...]]:
    return query(
        config,
        "SELECT m.text, m.status, m.due_month, m.owner_member_id IS NOT NULL "
        "FROM measures m JOIN cycles c ON c.id = m.cycle_id WHERE c.name = 'Runde 2028' "
        "ORDER BY m.id",
    )


@pytest.mark.slow
async def test_aendern_shows_last_rounds_measures_before_question_3_to_carry_in_one_tap(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects issue 16 §4 "Ändern": question 3 lists last round's measures with status and
    offers one tap per open one (none for the done one); the tap carries it once (a second
    tap on the stale button adds nothing), the screen then marks it carried, and measures
    typed afterwards join it instead of replacing it."""
    clock = Clock(ENTERED)
    anna = await round_one_with_a_done_and_an_open_measure(config, fake_bot_api, clock)
    async with running_bot(config, fake_bot_api, clock):
        await anna.send_and_wait("/weiter")
        await anna.press_button_and_wait("✏️ Ändern")
        await anna.press_button_and_wait("👍 Antwort beibehalten")  # rating as last year
        await anna.press_button_and_wait("👍 Antwort beibehalten")  # potential as last year
        third = anna.last_message()
        lines = (third.visible_text or "").splitlines()
        at = lines.index("Maßnahmen der letzten Runde:")
        assert lines[at + 1 : at + 3] == [
            "✅ Flyer in Leichter Sprache – umgesetzt · Anna · bis 06/2027",
            "⏳ Formulare übersetzen lassen – in Arbeit · Anna · bis 06/2027",
        ]
        carry = [b for b in third.button_labels if b.startswith("↪️")]
        assert carry == ["↪️ Übernehmen: Formulare übersetzen lassen"]
        tapped = _data(third, carry[0])
        await anna.press_and_wait(third.message_id, tapped)
        shown = anna.last_message()
        assert "⏳ Formulare übersetzen lassen – in Arbeit · Anna · bis 06/2027 · übernommen" in (
            shown.visible_text or ""
        )
        assert not [b for b in shown.button_labels if b.startswith("↪️")]
        since = len(fake_bot_api.requests)  # a double tap: the old button once more
        update = anna.press(third.message_id, tapped, check=False)
        await fake_bot_api.wait_answered(update, since=since)
        assert round_2028(config) == [("Formulare übersetzen lassen", "in_arbeit", "2027-06", 1)]
        await anna.send_and_wait("Website barrierefrei machen")
    assert round_2028(config) == [
        ("Formulare übersetzen lassen", "in_arbeit", "2027-06", 1),
        ("Website barrierefrei machen", "geplant", None, 0),
    ]


@pytest.mark.slow
async def test_stimmt_noch_so_carries_the_open_measure_and_leaves_the_done_one(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects issue 16 §4: the proposal screen lists last round's measures with status;
    "Stimmt noch so" copies only the open one into the new round with owner, month, status and
    a "carried_from" history entry; /massnahmen shows it once (the copy stands for the
    original, so it is not listed or followed up twice); the new round's digest still counts
    "1 von 2 Maßnahmen der Vorrunde umgesetzt"."""
    clock = Clock(ENTERED)
    anna = await round_one_with_a_done_and_an_open_measure(config, fake_bot_api, clock)
    async with running_bot(config, fake_bot_api, clock):
        await anna.send_and_wait("/weiter")
        proposal = (anna.last_message().visible_text or "").splitlines()
        at = proposal.index("Maßnahmen der letzten Runde:")
        assert proposal[at + 1 : at + 3] == [
            "✅ Flyer in Leichter Sprache – umgesetzt · Anna · bis 06/2027",
            "⏳ Formulare übersetzen lassen – in Arbeit · Anna · bis 06/2027",
        ]
        await anna.press_button_and_wait("✅ Stimmt noch so")

        carried = query(
            config,
            "SELECT m.text, m.status, m.due_month, m.owner_member_id IS NOT NULL, c.name "
            "FROM measures m JOIN cycles c ON c.id = m.cycle_id WHERE c.name = 'Runde 2028'",
        )
        assert carried == [("Formulare übersetzen lassen", "in_arbeit", "2027-06", 1, "Runde 2028")]
        link = query(
            config,
            "SELECT c.new FROM measure_changes c JOIN measures m ON m.id = c.measure_id "
            "JOIN cycles y ON y.id = m.cycle_id "
            "WHERE y.name = 'Runde 2028' AND c.field = 'carried_from'",
        )
        source = query(config, "SELECT id FROM measures WHERE text LIKE 'Formulare%' ORDER BY id")
        assert link == [(str(source[0][0]),)]

        await anna.send_and_wait("/massnahmen")
        listing = anna.last_message().visible_text or ""
        assert listing.count("Formulare übersetzen lassen") == 1  # the copy, not both
        assert "in Arbeit · bis 06/2027 · Anna" in listing
        assert "Flyer in Leichter Sprache" in listing  # done, with its round

        await anna.press_button_and_wait("✅ Absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        await fake_bot_api.wait_for(
            lambda r: r.method == "sendMessage" and "Vorrunde" in str(r.params.get("text")),
            timeout=60,
        )
    digest = "\n".join(m.visible_text or "" for m in fake_bot_api.sent_to(GROUP))
    assert "1 von 2 Maßnahmen der Vorrunde umgesetzt" in digest
