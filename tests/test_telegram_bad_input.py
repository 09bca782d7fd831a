"""End to end against the fake Bot API: what the bot does with input it does not expect.

Every test runs the real Application (long polling, real SQLite file) and checks two things: what
the user sees, rendered from the same templates the bot uses (so no wording is hard-coded here),
and that nothing was stored or changed that should not be. The `fake_bot_api` fixture checks at
teardown that every request the bot made is valid by the official Bot API spec, so each test also
proves the HTML the bot sent stays valid, whatever the user typed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botharness import current_answers, make_config, query, running_bot, set_up_institution
from fakebot import BotMessage, FakeBotApi, FakeUser, parse_html

from bot.catalogue import load_catalogue
from bot.config import Config, TelegramSection
from bot.core.invites import GUESSES
from bot.render.check_size import check_size
from bot.render.commands import MENU
from bot.render.templates import Templates
from dialogues.catalogue import Catalogue

TEMPLATES = Templates(ZoneInfo("Europe/Berlin"))
GROUP_ID = -100123
START = "▶️ Los geht's"
FULL = "🟢 vollständig erfüllt"
PARTLY = "🟠 teilweise erfüllt"
YES = "Ja"


def visible(html: str) -> str:
    """Return what a user reads for Telegram HTML."""
    parsed = parse_html(html)
    assert not parsed.errors, parsed.errors
    return parsed.text


def said(name: str, language: str = "de", /, **context: object) -> str:
    """Return a template as the user reads it."""
    return visible(TEMPLATES.render(language, name, **context))


def label(key: str, language: str = "de") -> str:
    return TEMPLATES.label(language, key)


@dataclass
class Bot:
    """A running bot with its fake server, config and one institution's invite code."""

    server: FakeBotApi
    config: Config
    code: str
    catalogue: Catalogue

    async def member(
        self,
        user_id: int = 1001,
        name: str = "Anna",
        started: bool = True,
        language_code: str = "de",
    ) -> FakeUser:
        """Return a user who joined with the invite link and (by default) began the check."""
        user = self.server.user(user_id, name, language_code=language_code)
        await user.send_and_wait(f"/start {self.code}")
        if started:
            await user.press_button_and_wait(START)
        return user

    def question(self, number: int, language: str = "de") -> str:
        """Return the text of reflection question 1, 2 or 3."""
        return self.catalogue.questions[number - 1].text(language)

    def counts(self) -> dict[str, int]:
        return {
            table: query(self.config, f"SELECT count(*) FROM {table}")[0][0]
            for table in ("answers", "members", "positions")
        }

    def snapshot(self) -> tuple[dict[str, int], dict[Any, Any], list[tuple[Any, ...]]]:
        """Everything a bad input must leave alone: answer revisions, members, positions."""
        return (
            self.counts(),
            current_answers(self.config),
            query(
                self.config,
                "SELECT member_id, requirement_id, question_key, phase "
                "FROM positions ORDER BY member_id",
            ),
        )


@pytest.fixture
def bot_extra() -> str:
    """More [telegram] config lines; a test overrides it with parametrize."""
    return ""


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi, tmp_path: Path, bot_extra: str) -> AsyncIterator[Bot]:
    """One running bot per test."""
    config = make_config(tmp_path, fake_bot_api, bot_extra)
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        yield Bot(fake_bot_api, config, code, load_catalogue(config.checks.catalogue_path))
    # Also checked at the end of each test; here as a safety net for tests that fail early.
    assert_callbacks_answered(fake_bot_api, expect_some=False)


def assert_callbacks_answered(server: FakeBotApi, expect_some: bool = True) -> None:
    """Every button press got its answerCallbackQuery (else the client shows a spinner)."""
    if expect_some:
        assert server.callback_queries, "this test pressed no button"
    unanswered = [qid for qid, answer in server.callback_queries.items() if answer is None]
    assert not unanswered, f"callback queries never answered: {unanswered}"


def with_buttons(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.messages() if m.buttons]


def current_question(user: FakeUser) -> BotMessage:
    """The one message with buttons; it must also be the newest message with buttons."""
    shown = with_buttons(user)
    assert len(shown) == 1, [m.visible_text for m in shown]
    return shown[0]


def texts_since(server: FakeBotApi, chat_id: int, since: int) -> list[str]:
    """Visible texts of messages sent (not edited) to a chat from request index `since` on."""
    return [
        visible(r.params["text"])
        for r in server.requests[since:]
        if r.method == "sendMessage"
        and str(r.params.get("chat_id")) == str(chat_id)
        and r.status == 200
    ]


async def answer_until_follow_up(bot: Bot, user: FakeUser) -> None:
    """Rate question 1 and say "yes" to question 2, so a description is asked next."""
    await user.press_button_and_wait(FULL)
    await user.press_button_and_wait(YES)
    assert bot.catalogue.questions[1].follow_up("de") in user.last_message().visible_text


# ------------------------------------------------------------------------------------------
# 1. Stickers, photos, voice notes and files where text is expected
# ------------------------------------------------------------------------------------------


async def test_non_text_messages_get_a_hint_and_store_nothing(bot: Bot) -> None:
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)  # text is expected now
    asking = current_question(anna)
    before = bot.snapshot()
    for send in (
        anna.send_sticker,
        anna.send_photo,
        anna.send_voice,
        anna.send_document,
        lambda: anna.send_photo(caption="Mehr Beratung in leichter Sprache"),
    ):
        since = len(bot.server.requests)
        await anna.wait_answered(send(), since=since)
        assert texts_since(bot.server, anna.chat_id, since) == [said("not_text")]
        assert bot.snapshot() == before
        # The question asked keeps its buttons; no other message got any.
        assert current_question(anna).message_id == asking.message_id
        assert current_question(anna).buttons == asking.buttons
    # And the conversation goes on where it was.
    await anna.send_and_wait("Mehr Beratung in leichter Sprache")
    assert current_answers(bot.config)[("Z1", "potential")] == (
        "yes",
        "Mehr Beratung in leichter Sprache",
    )
    assert bot.question(3) in current_question(anna).visible_text
    assert_callbacks_answered(bot.server)


# ------------------------------------------------------------------------------------------
# 2. Buttons from old messages and forged callback data
# ------------------------------------------------------------------------------------------


async def test_button_of_an_answered_question_changes_nothing(bot: Bot) -> None:
    anna = await bot.member()
    q1 = current_question(anna)
    full = q1.callback_data[q1.button_labels.index(FULL)]
    partly = q1.callback_data[q1.button_labels.index(PARTLY)]
    await anna.press_button_and_wait(FULL)
    assert not bot.server.current_message(anna.chat_id, q1.message_id).buttons
    before = bot.snapshot()
    assert before[1] == {("Z1", "fulfilment"): ("full", None)}
    # Another answer on the old message: refused, and the current question is shown again.
    since = len(bot.server.requests)
    update = anna.press(q1.message_id, partly, check=False)
    await anna.wait_answered(update, since=since)
    answer = bot.server.callback_queries[update["callback_query"]["id"]]
    assert answer is not None and visible(answer["text"]) == said("callback_stale")
    assert bot.snapshot() == before
    shown = current_question(anna)
    assert bot.question(2) in shown.visible_text
    assert shown.message_id == anna.last_message().message_id
    assert texts_since(bot.server, anna.chat_id, since) == [
        said("rejected", reason="stale"),
        shown.visible_text,
    ]
    # The same answer again: changes nothing either; the current question stays the newest
    # message with buttons (shown again, or left where it is).
    since = len(bot.server.requests)
    update = anna.press(q1.message_id, full, check=False)
    await anna.wait_answered(update, since=since)
    answer = bot.server.callback_queries[update["callback_query"]["id"]]
    assert answer is not None and visible(answer["text"]) == said("callback_stale")
    assert bot.snapshot() == before
    shown = current_question(anna)
    assert bot.question(2) in shown.visible_text
    assert shown.message_id == anna.last_message().message_id
    # The old message still shows the answer that was given.
    old = bot.server.current_message(anna.chat_id, q1.message_id)
    assert FULL in old.visible_text and not old.buttons
    assert_callbacks_answered(bot.server)


FORGED = [
    "zz",
    "c:K1.0:<b>",
    "c:Z1.0:<b>",
    "c:Z1.9:full",
    "j:../x",
    "c:Z1.0:" + "x" * 30,
    "r:junk",
    "c:Z1.0:full:extra",
    "%00",
]


async def test_forged_callback_data_changes_nothing(bot: Bot) -> None:
    anna = await bot.member()
    before = bot.snapshot()
    for data in FORGED:
        pressed = current_question(anna).message_id
        since = len(bot.server.requests)
        update = anna.press(pressed, data, check=False)
        await anna.wait_answered(update, since=since)
        answer = bot.server.callback_queries[update["callback_query"]["id"]]
        assert answer is not None and visible(answer["text"]) == said("callback_stale"), data
        assert bot.snapshot() == before, data
        # The current question is shown again, below, as the one message with buttons.
        shown = current_question(anna)
        assert bot.question(1) in shown.visible_text
        assert shown.message_id == anna.last_message().message_id != pressed, data
    # The real buttons still work afterwards.
    await anna.press_button_and_wait(FULL)
    assert current_answers(bot.config) == {("Z1", "fulfilment"): ("full", None)}
    assert_callbacks_answered(bot.server)


# ------------------------------------------------------------------------------------------
# 4. Texts over the configured maximum
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bot_extra", ["max_text_length = 100"])
async def test_text_over_the_limit_is_refused_and_at_the_limit_stored(bot: Bot) -> None:
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)
    before = bot.snapshot()
    asked = current_question(anna).message_id
    since = len(bot.server.requests)
    await anna.send_and_wait("ä" * 101)
    replies = texts_since(bot.server, anna.chat_id, since)
    assert replies[0] == said("rejected", reason="too_long", limit=100)
    assert "100" in replies[0]
    assert bot.snapshot() == before
    # The description is asked again, as the only message with buttons.
    shown = current_question(anna)
    assert shown.message_id != asked
    assert bot.catalogue.questions[1].follow_up("de") in shown.visible_text
    # Surrounding spaces do not count; exactly 100 characters are taken.
    exact = "Ü" + "b" * 98 + "!"
    await anna.send_and_wait(f"  {exact}\n")
    assert current_answers(bot.config)[("Z1", "potential")] == ("yes", exact)
    assert bot.question(3) in current_question(anna).visible_text
    # The same for the measures (question 3).
    before = bot.snapshot()
    await anna.send_and_wait("m" * 101)
    assert bot.snapshot() == before
    await anna.send_and_wait("m" * 100)
    assert current_answers(bot.config)[("Z1", "measures")] == ("planned", "m" * 100)
    assert_callbacks_answered(bot.server)


MAX_CONFIGURABLE = next(
    m.le for m in TelegramSection.model_fields["max_text_length"].metadata if hasattr(m, "le")
)


def failed_sends(server: FakeBotApi) -> list[Any]:
    return [r for r in server.requests if r.method.startswith(("send", "edit")) and r.status != 200]


@pytest.mark.parametrize(
    ("bot_extra", "text"),
    [
        ("", "😀" * 2000),  # the default limit, in emoji (2 UTF-16 units each)
        (f"max_text_length = {MAX_CONFIGURABLE}", "a" * MAX_CONFIGURABLE),  # plain, at the maximum
    ],
    ids=["emoji-at-default-limit", "ascii-at-configurable-maximum"],
)
async def test_answer_at_the_limit_can_be_shown_again(bot: Bot, text: str) -> None:
    """Whatever the limit lets through must fit every message that quotes it.

    The question shown again quotes the stored answer ("Gespeicherte Antwort: Ja: …", "Bisher:
    „…“"), with the requirement, its explanation (💡) and the progress around it.
    """
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)
    since = len(bot.server.requests)
    await anna.send_and_wait(text)
    stored = current_answers(bot.config)[("Z1", "potential")]
    if stored != ("yes", text):  # refusing it is fine too, if it says so
        assert texts_since(bot.server, anna.chat_id, since)[0] == said(
            "rejected", reason="too_long", limit=bot.config.telegram.max_text_length
        )
        return
    # Back to question 2, its explanation, "yes" (the description asked with "Bisher: …"),
    # and the explanation there too (the follow-up has no 💡 button, the command works).
    for step in (label("back"), label("hint"), YES, "/erklaerung"):
        if step.startswith("/"):
            await anna.send_and_wait(step)
        else:
            await anna.press_button_and_wait(step)
        assert not failed_sends(bot.server), (step, failed_sends(bot.server))
        assert len(with_buttons(anna)) == 1
    assert text in current_question(anna).visible_text
    assert_callbacks_answered(bot.server)


async def test_review_with_emoji_answers_is_split_to_fit(bot: Bot) -> None:
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)
    text = "🌍" * 1000  # half the default limit, 2000 UTF-16 units
    await anna.send_and_wait(text)
    await anna.send_and_wait(text)
    assert current_answers(bot.config)[("Z1", "measures")] == ("planned", text)
    since = len(bot.server.requests)
    await anna.send_and_wait("/pruefen")
    assert not failed_sends(bot.server), failed_sends(bot.server)
    review = "\n".join(texts_since(bot.server, anna.chat_id, since))
    assert review.count(text) == 2
    assert said("error") not in review


# ------------------------------------------------------------------------------------------
# 5. Group chats
# ------------------------------------------------------------------------------------------


async def test_commands_in_a_group_point_to_the_private_chat(bot: Bot) -> None:
    team = bot.server.user(2002, "Ben").in_group(GROUP_ID, "Team", "supergroup")
    before = bot.snapshot()
    pointer = said("private_only", bot="chancencheck_test_bot")
    for text in (
        "/weiter",
        f"/start {bot.code}",
        "/start@chancencheck_test_bot " + bot.code,
        "/sprache",
        "/hilfe",
        "/absenden",
    ):
        since = len(bot.server.requests)
        await team.send_and_wait(text)
        assert texts_since(bot.server, GROUP_ID, since) == [pointer], text
        assert texts_since(bot.server, team.id, since) == []  # nothing in private either
    assert bot.snapshot() == before
    assert bot.counts()["members"] == 0
    # Plain talk in the group is none of the bot's business: no reply, nothing stored.
    await team.wait_answered(team.send("Ja"), expect_reply=False)
    assert texts_since(bot.server, GROUP_ID, 0) == [pointer] * 6
    assert bot.snapshot() == before
    assert_callbacks_answered(bot.server, expect_some=False)


async def test_member_writing_in_a_group_changes_nothing(bot: Bot) -> None:
    anna = await bot.member()
    team = anna.in_group(GROUP_ID, "Team", "supergroup")
    before = bot.snapshot()
    asking = current_question(anna)
    since = len(bot.server.requests)
    await team.send_and_wait("/weiter")
    await team.wait_answered(team.send("vollständig erfüllt"), expect_reply=False)
    assert texts_since(bot.server, GROUP_ID, since) == [
        said("private_only", bot="chancencheck_test_bot")
    ]
    assert texts_since(bot.server, anna.chat_id, since) == []
    assert bot.snapshot() == before
    assert current_question(anna) == asking
    assert_callbacks_answered(bot.server)


@pytest.mark.parametrize("command", ["/uebersicht", "/overview"])
async def test_overview_in_a_group_points_to_the_private_chat(bot: Bot, command: str) -> None:
    """/uebersicht is in every member's menu; typed in the team group it must not sound as if
    the member were not allowed to see their own overview."""
    anna = await bot.member()
    team = anna.in_group(GROUP_ID, "Team", "supergroup")
    before = bot.snapshot()
    since = len(bot.server.requests)
    await team.send_and_wait(command)
    assert bot.snapshot() == before
    assert texts_since(bot.server, GROUP_ID, since) == [
        said("private_only", bot="chancencheck_test_bot")
    ]
    assert_callbacks_answered(bot.server)


async def test_bot_added_to_a_group_says_it_works_privately(bot: Bot) -> None:
    ben = bot.server.user(2002, "Ben")
    group = ben.in_group(GROUP_ID, "Team", "group")
    await group.wait_answered(group.message(new_chat_members=[bot.server.bot_user]))
    assert [m.visible_text for m in group.messages()] == [
        said("private_only", bot="chancencheck_test_bot")
    ]
    # Someone else joining the group is not greeted.
    since = len(bot.server.requests)
    other = {"id": 3003, "is_bot": False, "first_name": "Cem"}
    await group.wait_answered(group.message(new_chat_members=[other]), expect_reply=False)
    assert texts_since(bot.server, GROUP_ID, since) == []
    assert bot.counts()["members"] == 0
    assert_callbacks_answered(bot.server, expect_some=False)


# ------------------------------------------------------------------------------------------
# 6. Double taps
# ------------------------------------------------------------------------------------------


async def test_double_tap_stores_the_answer_once(bot: Bot) -> None:
    """Two presses of one button, both queued before the bot saw the first: one revision."""
    anna = await bot.member()
    q1 = current_question(anna)
    data = q1.callback_data[q1.button_labels.index(FULL)]
    since = len(bot.server.requests)
    first, second = anna.press(q1.message_id, data), anna.press(q1.message_id, data)
    await anna.wait_answered(first, since=since)
    await anna.wait_answered(second, since=since)
    revisions = query(bot.config, "SELECT requirement_id, question_key, value FROM answers")
    assert revisions == [("Z1", "fulfilment", "full")]
    assert bot.snapshot()[2] == [(1, "Z1", "potential", "asking")]
    shown = current_question(anna)
    assert bot.question(2) in shown.visible_text
    assert shown.message_id == anna.last_message().message_id
    for update in (first, second):
        assert bot.server.callback_queries[update["callback_query"]["id"]] is not None
    assert_callbacks_answered(bot.server)


@pytest.mark.parametrize("where", ["rating", "yes", "none_planned"])
async def test_double_tap_shows_what_follows_once(bot: Bot, where: str) -> None:
    anna = await bot.member()
    if where == "yes":
        await anna.press_button_and_wait(FULL)
    if where == "none_planned":
        await answer_until_follow_up(bot, anna)
        await anna.send_and_wait("Mehr Dolmetscher")
    q = current_question(anna)
    questions = bot.catalogue.questions
    wanted, key, follows = {
        "rating": (FULL, "fulfilment", bot.question(2)),
        "yes": (YES, "potential", questions[1].follow_up("de")),
        "none_planned": (questions[2].none("de"), "measures", bot.question(1)),
    }[where]
    data = q.callback_data[q.button_labels.index(wanted)]
    before = bot.counts()["answers"]
    since = len(bot.server.requests)
    first, second = anna.press(q.message_id, data), anna.press(q.message_id, data)
    await anna.wait_answered(first, since=since)
    await anna.wait_answered(second, since=since)
    assert_callbacks_answered(bot.server)
    assert bot.counts()["answers"] == before + 1
    assert query(bot.config, "SELECT count(*) FROM answers WHERE question_key = ?", (key,)) == [
        (1,)
    ]
    assert follows in current_question(anna).visible_text
    sent = texts_since(bot.server, anna.chat_id, since)
    assert said("rejected", reason="stale") not in sent
    assert len([t for t in sent if follows in t]) == 1, sent


# ------------------------------------------------------------------------------------------
# 7. Awkward characters in typed answers
# ------------------------------------------------------------------------------------------

AWKWARD = [
    'Formulare <b>nicht</b> & "Anträge" \'zu\' lang </i> <a href="x">',
    "مرحبا بكم في المكتب — שלום לכולם — gemischt mit Deutsch",
    "Team 👩‍💻👨‍👩‍👧‍👦 🏳️‍🌈 mit Nullbreiten\u200bzeichen\u200dund\u2060mehr",
    "1 < 2 && 3 > 2; &amp; &lt; &#39; &nbsp; — Zeile 1\nZeile 2",
]


@pytest.mark.parametrize("text", AWKWARD, ids=["html", "rtl", "zwj", "entities"])
async def test_awkward_text_is_stored_and_shown_verbatim(bot: Bot, text: str) -> None:
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)
    await anna.send_and_wait(text)
    await anna.send_and_wait(text[::-1].strip() or "x")  # the measures, also awkward
    answers = current_answers(bot.config)
    assert answers[("Z1", "potential")] == ("yes", text)
    assert answers[("Z1", "measures")] == ("planned", text[::-1].strip())
    shown = "\n".join(m.visible_text or "" for m in anna.messages())
    assert text in shown and text[::-1].strip() in shown
    # Asked again, the question quotes the stored text exactly.
    await anna.send_and_wait("/zurueck")  # to the measures
    assert text[::-1].strip() in current_question(anna).visible_text
    await anna.send_and_wait("/zurueck")  # to question 2
    assert text in current_question(anna).visible_text
    await anna.press_button_and_wait(YES)
    assert text in current_question(anna).visible_text
    assert_callbacks_answered(bot.server)


# ------------------------------------------------------------------------------------------
# 8. Unknown commands, strangers, wrong invite codes
# ------------------------------------------------------------------------------------------


async def test_unknown_command_from_a_member(bot: Bot) -> None:
    anna = await bot.member()
    before = bot.snapshot()
    asking = current_question(anna)
    for text in ("/foo", "/weiter_machen", "/Hilfe2"):
        since = len(bot.server.requests)
        await anna.send_and_wait(text)
        assert texts_since(bot.server, anna.chat_id, since) == [said("unknown_command")], text
    assert bot.snapshot() == before
    assert current_question(anna) == asking
    assert_callbacks_answered(bot.server)


async def test_stranger_is_told_how_to_join_and_nothing_is_created(bot: Bot) -> None:
    eve = bot.server.user(6006, "Eve")
    before = bot.snapshot()
    await eve.send_and_wait("/start")
    welcome = said("start_no_code")
    assert eve.last_message().visible_text == welcome
    assert not eve.last_message().buttons
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", welcome.split("\n", 1)[1]) if s]
    assert len(sentences) == 2, sentences
    for text, template in (
        ("Hallo?", "not_member"),
        ("/weiter", "not_member"),
        ("/uebersicht", "not_member"),
        ("/sprache", "not_member"),
        ("/foo", "unknown_command"),
        (f"/start {bot.code}x", "invite_invalid"),
        ("/start ABH", "invite_invalid"),
        ("/start ../../etc", "invite_invalid"),
    ):
        since = len(bot.server.requests)
        await eve.send_and_wait(text)
        # Other templates ignore the limit, which invite_invalid states.
        assert texts_since(bot.server, eve.chat_id, since) == [said(template, limit=GUESSES)], text
    # A forged button press on the bot's message: an alert, nothing else.
    for data in ("r", "c:Z1.0:full", "zz"):
        since = len(bot.server.requests)
        update = eve.press(eve.last_message().message_id, data, check=False)
        await eve.wait_answered(update, since=since)
        answer = bot.server.callback_queries[update["callback_query"]["id"]]
        assert answer is not None and answer.get("show_alert") is True
        assert visible(answer["text"]) == said("callback_not_member")
        assert texts_since(bot.server, eve.chat_id, since) == []
    assert bot.snapshot() == before
    assert query(bot.config, "SELECT count(*) FROM members WHERE telegram_user_id = 6006") == [(0,)]
    assert_callbacks_answered(bot.server)


async def test_stranger_in_english_is_answered_in_english(bot: Bot) -> None:
    eve = bot.server.user(6006, "Eve", language_code="en")
    await eve.send_and_wait("/weiter")
    assert eve.last_message().visible_text == said("not_member", "en")
    await eve.send_and_wait("/start wrong")
    assert eve.last_message().visible_text == said("invite_invalid", "en", limit=GUESSES)
    assert bot.counts()["members"] == 0
    assert_callbacks_answered(bot.server, expect_some=False)


# ------------------------------------------------------------------------------------------
# 9. Edited messages
# ------------------------------------------------------------------------------------------


async def test_edited_answer_is_not_applied(bot: Bot) -> None:
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)
    sent = anna.send("Mehr Beratung")
    await anna.wait_answered(sent)
    before = bot.snapshot()
    assert before[1][("Z1", "potential")] == ("yes", "Mehr Beratung")
    asking = current_question(anna)
    edited = {
        **sent["message"],
        "text": "Weniger Beratung",
        "edit_date": sent["message"]["date"] + 5,
    }
    since = len(bot.server.requests)
    await anna.wait_answered(bot.server.inject({"edited_message": edited}), since=since)
    assert texts_since(bot.server, anna.chat_id, since) == [said("edited")]
    assert bot.snapshot() == before
    assert current_question(anna) == asking
    assert_callbacks_answered(bot.server)


# ------------------------------------------------------------------------------------------
# 10. Telegram failing while the bot answers
# ------------------------------------------------------------------------------------------


async def test_failed_reply_keeps_the_answer_and_the_bot_goes_on(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await bot.member()
    await answer_until_follow_up(bot, anna)
    caplog.set_level(logging.INFO)
    bot.server.fail_next("sendMessage", 500)  # the next question cannot be sent
    since = len(bot.server.requests)
    await anna.send_and_wait("Mehr Beratung in leichter Sprache")
    # Committed before replying: the answer is safe although the reply failed.
    assert current_answers(bot.config)[("Z1", "potential")] == (
        "yes",
        "Mehr Beratung in leichter Sprache",
    )
    sends = [r for r in bot.server.requests[since:] if r.method == "sendMessage"]
    assert [r.status for r in sends] == [500, 200]  # PTB does not retry a 500; no duplicate
    assert visible(sends[1].params["text"]) == said("error")
    assert anna.last_message().visible_text == said("error")
    assert "update" in caplog.text and "failed" in caplog.text
    assert bot.server.token not in caplog.text
    # The next update works: /weiter asks the first open question, with buttons.
    await anna.send_and_wait("/weiter")
    shown = current_question(anna)
    assert bot.question(3) in shown.visible_text
    assert shown.message_id == anna.last_message().message_id
    await anna.press_button_and_wait(bot.catalogue.questions[2].none("de"))
    assert current_answers(bot.config)[("Z1", "measures")] == ("none", None)
    assert_callbacks_answered(bot.server)


async def test_failure_on_a_button_press_still_answers_the_query(bot: Bot) -> None:
    anna = await bot.member()
    bot.server.fail_next("sendMessage", 500, count=2)  # the question and the error message
    since = len(bot.server.requests)
    await anna.press_button_and_wait(FULL)
    assert current_answers(bot.config) == {("Z1", "fulfilment"): ("full", None)}
    assert [r.status for r in bot.server.requests[since:] if r.method == "sendMessage"] == [
        500,
        500,
    ]
    assert_callbacks_answered(bot.server)  # the error handler answered the press
    await anna.send_and_wait("/weiter")
    assert bot.question(2) in current_question(anna).visible_text
    assert_callbacks_answered(bot.server)


# ------------------------------------------------------------------------------------------
# 11. Language and help
# ------------------------------------------------------------------------------------------


async def test_language_switches_and_back(bot: Bot) -> None:
    anna = await bot.member()
    since = len(bot.server.requests)
    await anna.send_and_wait("/sprache")
    assert said("language_set", "en") in texts_since(bot.server, anna.chat_id, since)
    shown = current_question(anna)
    assert bot.question(1, "en") in shown.visible_text
    assert label("back", "en") in shown.button_labels
    assert query(bot.config, "SELECT language FROM members") == [("en",)]
    # Answers in English are stored like German ones.
    await anna.press_button_and_wait(shown.button_labels[0])
    assert current_answers(bot.config) == {("Z1", "fulfilment"): ("full", None)}
    assert bot.question(2, "en") in current_question(anna).visible_text
    since = len(bot.server.requests)
    await anna.send_and_wait("/language")
    assert said("language_set", "de") in texts_since(bot.server, anna.chat_id, since)
    shown = current_question(anna)
    assert bot.question(2) in shown.visible_text and label("back") in shown.button_labels
    assert query(bot.config, "SELECT language FROM members") == [("de",)]
    assert bot.counts()["answers"] == 1
    assert_callbacks_answered(bot.server)


async def test_help_lists_the_commands(bot: Bot) -> None:
    anna = await bot.member()
    before = bot.snapshot()
    await anna.send_and_wait("/hilfe")
    text = anna.last_message().visible_text
    size = check_size(load_catalogue())
    assert text == said("help", size=size, coordinator=False)
    listed = set(re.findall(r"(?m)^/([a-z_]+)", text))
    assert set(MENU) - {"hilfe"} <= listed, set(MENU) - listed  # it is the help itself
    assert bot.snapshot() == before
    assert len(with_buttons(anna)) == 1
    await anna.send_and_wait("/help")
    assert anna.last_message().visible_text == said("help", size=size, coordinator=False)
    assert_callbacks_answered(bot.server)


# ------------------------------------------------------------------------------------------
# 12. The command menu
# ------------------------------------------------------------------------------------------


async def test_command_menu_is_set_in_german_and_english(bot: Bot) -> None:
    default = json.dumps({"type": "all_private_chats"}, sort_keys=True)  # not in groups
    menus = bot.server.commands
    assert {(default, ""), (default, "de"), (default, "en")} <= set(menus)
    for language in ("", "de", "en"):
        commands = menus[(default, language)]
        names = [c["command"] for c in commands]
        assert names == list(MENU)
        for command in commands:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]), command
            assert 1 <= len(command["description"]) <= 256, command
        wanted = TEMPLATES.commands(language or "de")
        assert [c["description"] for c in commands] == [wanted[n] for n in MENU]
    assert menus[(default, "")] == menus[(default, "de")] != menus[(default, "en")]
    calls = [
        c
        for c in bot.server.calls("setMyCommands")
        if c.params.get("scope") == {"type": "all_private_chats"}
    ]
    assert sorted(str(c.params.get("language_code", "")) for c in calls) == ["", "de", "en"]
    # Every command in the menu is understood in a private chat (none is "unknown").
    anna = await bot.member()
    for name in MENU:
        since = len(bot.server.requests)
        await anna.send_and_wait(f"/{name}")
        assert said("unknown_command") not in texts_since(bot.server, anna.chat_id, since), name
        if name == "sprache":
            await anna.send_and_wait("/sprache")
    assert_callbacks_answered(bot.server)
