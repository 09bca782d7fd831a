"""End to end against the fake Bot API: every member can finish, and typed input means what the
member meant (issue 13). The real Application, the real SQLite file, the real templates; the
fake server checks every request against the Bot API spec at teardown.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from botharness import current_answers, make_config, query, running_bot, set_up_institution
from fakebot import BotMessage, FakeBotApi, FakeUser, parse_html

from bot.catalogue import load_catalogue
from bot.config import Config
from bot.render.callbacks import encode
from bot.render.templates import Templates
from dialogues import events as ev
from dialogues.model import Position

TEMPLATES = Templates(ZoneInfo("Europe/Berlin"))
CATALOGUE = load_catalogue()
FULFILMENT, POTENTIAL, MEASURES = CATALOGUE.questions
START = "▶️ Los geht's"
FULL, PARTLY, NOT_MET, UNKNOWN = (
    "🟢 vollständig erfüllt",
    "🟠 teilweise erfüllt",
    "🔴 nicht erfüllt",
    "⚪ nicht beurteilbar / trifft nicht zu",
)
YES, NO, NONE_PLANNED = "Ja", "Nein", "Keine Maßnahmen geplant"
DESCRIPTION = "Formulare gibt es nur auf Deutsch"


def label(key: str) -> str:
    return TEMPLATES.label("de", key)


def said(name: str, /, **context: object) -> str:
    """Return a template as the user reads it."""
    parsed = parse_html(TEMPLATES.render("de", name, **context))
    assert not parsed.errors, parsed.errors
    return parsed.text


def rejected(reason: str, **context: object) -> str:
    return said(
        "rejected",
        reason=reason,
        **{
            "limit": None,
            "open_count": 0,
            "options": [],
            "kind": None,
            "follow_up": None,
            "none_label": None,
            **context,
        },
    )


def shown(user: FakeUser) -> BotMessage:
    """The newest message with buttons: what the member acts on."""
    return [m for m in user.messages() if m.buttons][-1]


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    return make_config(tmp_path, fake_bot_api)


async def answer_the_rest(user: FakeUser) -> BotMessage:
    """Answer whatever question is shown (rating, no, none planned) until the end screen."""
    for _ in range(2 * 45):
        message = shown(user)
        labels = message.button_labels
        if FULL in labels:
            await user.press_button_and_wait(FULL)
        elif NO in labels and YES in labels:
            await user.press_button_and_wait(NO)
        elif NONE_PLANNED in labels:
            await user.press_button_and_wait(NONE_PLANNED)
        else:
            return message
    raise AssertionError("the questions never ended")


# -- §1: a "Ja" without its description --------------------------------------------------------


async def test_yes_without_description_is_asked_for_after_a_restart_and_the_check_submits(
    config: Config,
    fake_bot_api: FakeBotApi,
) -> None:
    """Protects against the trap of issue 13: a member taps "Ja", the bot restarts before the
    description; /weiter, an old "keep" button, and the end screen's "Weiter" all ask for the
    missing description (never offering to keep "Ja" alone), and the member submits."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait(START)
        await anna.press_button_and_wait(FULL)
        await anna.press_button_and_wait(YES)  # recorded; the description is asked next
    assert current_answers(config)[("Z1", "potential")] == ("yes", None)

    async with running_bot(config, fake_bot_api):  # a new process on the same file
        await anna.send_and_wait("/weiter")
        asking = shown(anna)
        text = asking.visible_text or ""
        assert POTENTIAL.follow_up and POTENTIAL.follow_up.de in text
        assert "Sie haben „Ja“ gewählt" in text
        assert label("keep") not in asking.button_labels
        assert label("keep_text") not in asking.button_labels
        assert asking.button_labels[:3] == [NO, label("back"), label("skip")]

        # "Antwort beibehalten" from a keyboard sent before: asks for the description again.
        keep = encode(ev.Keep(Position("Z1", "potential")))
        await anna.wait_answered(anna.press(asking.message_id, keep, check=False))
        assert POTENTIAL.follow_up.de in (shown(anna).visible_text or "")
        assert current_answers(config)[("Z1", "potential")] == ("yes", None)

        # Skipped, everything else answered: the walk wraps round to the open description…
        await anna.press_button_and_wait(label("skip"))
        wrapped = await answer_the_rest(anna)
        assert POTENTIAL.follow_up.de in (wrapped.visible_text or "")
        assert "Anforderung 1 von 15 · Frage 2 von 3" in (wrapped.visible_text or "")
        # …skipped again, the end screen says what is open, and its "Weiter" asks for it.
        await anna.press_button_and_wait(label("skip"))
        end = shown(anna)
        assert "44 von 45" in (end.visible_text or "") and "Z1" in (end.visible_text or "")
        assert label("keep") not in end.button_labels
        await anna.press_button_and_wait(label("resume"))
        asking = shown(anna)
        assert POTENTIAL.follow_up.de in (asking.visible_text or "")
        assert label("keep") not in asking.button_labels

        await anna.send_and_wait(DESCRIPTION)
        assert label("submit") in shown(anna).button_labels
        await anna.press_button_and_wait(label("submit"))
        await anna.press_button_and_wait(label("confirm"))

    assert current_answers(config)[("Z1", "potential")] == ("yes", DESCRIPTION)
    assert query(config, "SELECT status FROM checks") == [("submitted",)]


async def test_after_a_jump_and_an_answer_the_next_open_question_follows(
    config: Config,
    fake_bot_api: FakeBotApi,
) -> None:
    """Protects §2: after overview → K1 and an answer there, the bot goes on to K1's next open
    question, then wraps to the first open one; answered questions are not walked again."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait(START)
        await anna.press_button_and_wait(FULL)  # Z1 1
        await anna.send_and_wait("/uebersicht")
        await anna.press_button_and_wait(
            next(b for b in shown(anna).button_labels if b.endswith(" K1"))
        )
        await anna.press_button_and_wait(PARTLY)  # K1 1
        assert POTENTIAL.text.de in (shown(anna).visible_text or "")
        assert "Anforderung 7 von 15 · Frage 2 von 3" in (shown(anna).visible_text or "")
        await anna.send_and_wait("/zurueck")  # answered questions are visited on purpose
        assert label("keep") == shown(anna).button_labels[-1]  # keep comes last, back stays
        await anna.press_button_and_wait(label("keep"))
        assert "Anforderung 7 von 15 · Frage 2 von 3" in (shown(anna).visible_text or "")


# -- §3: answers that are not what the member meant ---------------------------------------------


async def at_measures(config: Config, fake_bot_api: FakeBotApi) -> FakeUser:
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    await anna.send_and_wait(f"/start {code}")
    await anna.press_button_and_wait(START)
    await anna.press_button_and_wait(FULL)
    await anna.press_button_and_wait(NO)
    assert MEASURES.text.de in (shown(anna).visible_text or "")
    return anna


async def test_a_bare_yes_to_measures_asks_for_them_and_stores_nothing(
    config: Config,
    fake_bot_api: FakeBotApi,
) -> None:
    """Protects §3: "Ja", "ja.", "yes", "ok", "j" are no measures — the bot asks which, stores
    nothing; "Nein" still means "keine geplant"."""
    async with running_bot(config, fake_bot_api):
        anna = await at_measures(config, fake_bot_api)
        before = current_answers(config)
        for reply in ("Ja", "ja.", "yes", "ok", "j", "OK!"):
            await anna.send_and_wait(reply)
            texts = [m.visible_text for m in anna.messages()[-2:]]
            assert texts[0] == rejected(
                "yes_no_word",
                kind="measures",
                follow_up=MEASURES.follow_up.de,  # type: ignore[union-attr]
                none_label=NONE_PLANNED,
            )
            assert "Welche Maßnahmen?" in (texts[0] or "")
            assert MEASURES.text.de in (texts[1] or "")  # the question again, to answer
            assert current_answers(config) == before
        await anna.send_and_wait("Nein")
        assert current_answers(config)[("Z1", "measures")] == ("none", None)


async def test_digits_and_punctuation_are_no_description(
    config: Config,
    fake_bot_api: FakeBotApi,
) -> None:
    """Protects §3: a number alone ("99") or punctuation alone ("...") is refused with a short
    hint on the measures and on a description, and nothing is stored."""
    async with running_bot(config, fake_bot_api):
        anna = await at_measures(config, fake_bot_api)
        before = current_answers(config)
        for reply, reason in (
            ("99", "digits_only"),
            ("12.05.", "digits_only"),
            ("...", "no_words"),
            ("?!", "no_words"),
        ):
            await anna.send_and_wait(reply)
            assert anna.messages()[-2].visible_text == rejected(reason)
            assert current_answers(config) == before
        await anna.press_button_and_wait(NONE_PLANNED)
        await anna.press_button_and_wait(FULL)  # Z2
        await anna.press_button_and_wait(YES)
        for reply, reason in (("2", "digits_only"), ("ja", "yes_no_word"), ("-", "no_words")):
            await anna.send_and_wait(reply)
            assert (anna.messages()[-2].visible_text or "").startswith(
                rejected(reason, follow_up=POTENTIAL.follow_up.de)[:20]
            )  # type: ignore[union-attr]
            assert current_answers(config)[("Z2", "potential")] == ("yes", None)
        await anna.send_and_wait("nein")  # a typed "no" answers the question instead
        assert current_answers(config)[("Z2", "potential")] == ("no", None)


async def test_typed_options_match_as_people_type_them(
    config: Config,
    fake_bot_api: FakeBotApi,
) -> None:
    """Protects §3: "teilweise", "überwiegend", "voll", "weiß nicht" pick their options; "nicht"
    could be two, so the bot asks back with both as buttons and stores nothing until one is
    tapped."""
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait(START)
        for requirement, (typed, value) in zip(
            ("Z1", "Z2", "Z3", "ZU1"),
            (
                ("teilweise", "partly"),
                ("Überwiegend", "mostly"),
                ("voll", "full"),
                ("weiß nicht", "unknown"),
            ),
            strict=True,
        ):
            await anna.send_and_wait(typed)
            assert current_answers(config)[(requirement, "fulfilment")] == (value, None)
            await anna.press_button_and_wait(NO)
            await anna.press_button_and_wait(NONE_PLANNED)
        before = current_answers(config)
        await anna.send_and_wait("nicht")
        asking = anna.last_message()
        assert asking.visible_text == rejected("ambiguous", options=[NOT_MET, UNKNOWN])
        assert asking.button_labels == [NOT_MET, UNKNOWN]
        assert current_answers(config) == before
        await anna.press_button_and_wait(NOT_MET)
        assert current_answers(config)[("ZU2", "fulfilment")] == ("not", None)
        assert POTENTIAL.text.de in (shown(anna).visible_text or "")
