"""Who sees what, end to end: every forbidden path is tried and changes and reveals nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from accessharness import (
    COORDINATOR,
    GROUP,
    coordination_config,
    dump,
    fill,
    rows,
    said,
)
from botharness import Clock, running_bot, set_up_institution
from fakebot import FakeBotApi

from bot.cli.entry import main
from bot.config import Config
from bot.core.invites import GUESSES

SECRET = "GEHEIM-VHS Formulare nur auf Amtsdeutsch"
LINK = re.compile(r"https://t\.me/chancencheck_test_bot\?start=(\S+)")
# Every coordinator command with arguments that would act, German names and English aliases.
COORDINATOR_COMMANDS = [
    "/status",
    "/bericht VHS",
    "/report VHS",
    "/export",
    "/heatmap",
    "/wiedereroeffnen VHS",
    "/reopen VHS",
    "/frist 2099-12-31",
    "/deadline 2099-12-31",
    "/institution_neu NEU Neues Amt",
    "/institution_new NEU Neues Amt",
    "/institution_umbenennen VHS Anders",
    "/institution_rename VHS Anders",
    "/institution_entfernen VHS",
    "/institution_remove VHS",
    "/einladung VHS neu",
    "/invite VHS new",
    "/mitglieder VHS",
    "/members VHS",
    "/mitglied_entfernen VHS Vera",
    "/member_remove VHS #1",
]


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    return coordination_config(tmp_path, fake_bot_api)


async def two_institutions(config: Config) -> tuple[str, str]:
    """Set up ABH and VHS in one round, VHS answered by Vera (2002); return both codes."""
    abh = await set_up_institution(config)
    vhs = await set_up_institution(config, "VHS", "Volkshochschule")
    await fill(config, "VHS", 2002, "Vera", SECRET)
    return abh, vhs


def texts(server: FakeBotApi, chat_id: int, since: int = 0) -> list[str]:
    return [m.visible_text or "" for m in server.sent_to(chat_id)[since:]]


def files_to(server: FakeBotApi, chat_id: int) -> list[str]:
    return [
        r.method
        for r in server.requests
        if r.method in ("sendDocument", "sendPhoto") and r.params.get("chat_id") == chat_id
    ]


async def test_a_member_never_reads_or_writes_another_institutions_check(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    abh, _ = await two_institutions(config)
    vhs_answers = (
        "SELECT * FROM answers WHERE check_id = (SELECT c.id FROM checks c JOIN "
        "institutions i ON i.id = c.institution_id WHERE i.short = 'VHS') ORDER BY id"
    )
    vhs_before = rows(config, vhs_answers)
    assert len(vhs_before) == 45
    [(vhs_hash,)] = rows(config, "SELECT invite_hash FROM institutions WHERE short = 'VHS'")
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {abh}")
        await anna.press_button_and_wait("▶️ Los geht's")
        for command in (
            "/pruefen",
            "/pruefen VHS",
            "/uebersicht VHS",
            "/weiter VHS",
            "/runde VHS",
            "/review VHS",
            "/bericht VHS",
            "/export",
            "/status",
            "/mitglieder VHS",
            f"/start {vhs_hash}",
        ):
            await anna.send_and_wait(command)
        # Forged buttons: the data never names a check, so they can only reach her own.
        for data in ("c:K1.0:full", "j:K1", "v", "o", "c:K1.0:full:VHS", "VHS:K1", "s", "y"):
            update = anna.press(anna.last_message().message_id, data, check=False)
            await anna.wait_answered(update)
    told = "\n".join(texts(fake_bot_api, anna.chat_id))
    assert SECRET not in told and "Volkshochschule" not in told and "Vera" not in told
    assert files_to(fake_bot_api, anna.chat_id) == []
    assert rows(config, vhs_answers) == vhs_before
    # Whatever Anna's presses stored went to her own institution's check.
    assert rows(
        config,
        """SELECT DISTINCT i.short FROM answers a JOIN checks c ON c.id = a.check_id
                           JOIN institutions i ON i.id = c.institution_id
                           JOIN members m ON m.id = a.author_id WHERE m.first_name = 'Anna'""",
    ) in ([], [("ABH",)])
    assert rows(
        config,
        "SELECT i.short FROM members m JOIN institutions i "
        "ON i.id = m.institution_id WHERE m.telegram_user_id = 1001",
    ) == [("ABH",)]


async def test_non_coordinators_are_refused_every_coordinator_command(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    abh, _ = await two_institutions(config)
    member, stranger = fake_bot_api.user(1001, "Anna"), fake_bot_api.user(1003, "Sam")
    refusals = {said("coordinator_only"), said("deadline_refused")}
    async with running_bot(config, fake_bot_api):
        await member.send_and_wait(f"/start {abh}")
        before = dump(config)
        for user in (member, stranger):
            for command in COORDINATOR_COMMANDS:
                await user.send_and_wait(command)
                assert user.last_message().visible_text in refusals, (user.id, command)
    assert dump(config) == before
    assert files_to(fake_bot_api, member.chat_id) == files_to(fake_bot_api, stranger.chat_id) == []
    assert rows(config, "SELECT count(*) FROM audit WHERE actor_kind = 'coordinator'") == [(0,)]


async def test_coordinator_commands_in_a_foreign_group_are_refused(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await two_institutions(config)
    kora = fake_bot_api.user(COORDINATOR, "Kora")
    commands = [*COORDINATOR_COMMANDS, "/uebersicht", "/overview", "/runde", "/round"]
    # Several groups: the bot's rate limiter allows 20 messages a minute into one group.
    groups = [kora.in_group(-100700 - n, f"Kaffeeklatsch {n}", "supergroup") for n in range(3)]
    refusals = {said("coordinator_wrong_chat"), said("private_only", bot="chancencheck_test_bot")}
    async with running_bot(config, fake_bot_api):
        before = dump(config)
        for number, command in enumerate(commands):
            group = groups[number // 10]
            await group.send_and_wait(command)
            assert group.last_message().visible_text in refusals, command
    assert dump(config) == before
    for group in groups:
        assert SECRET not in "\n".join(texts(fake_bot_api, group.chat_id))
        assert files_to(fake_bot_api, group.chat_id) == []
    assert files_to(fake_bot_api, COORDINATOR) == []


async def test_added_to_a_group_the_bot_leaves_unless_it_is_the_coordination_chat(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    ben = fake_bot_api.user(2002, "Ben")
    team = ben.in_group(-100555, "Team", "group")
    coordination = ben.in_group(GROUP, "Koordinierungsgruppe", "supergroup")
    bot_user = fake_bot_api.bot_user
    async with running_bot(config, fake_bot_api):
        await team.wait_answered(team.message(new_chat_members=[bot_user]))
        await coordination.wait_answered(coordination.message(new_chat_members=[bot_user]))
    assert texts(fake_bot_api, -100555) == [said("private_only", bot="chancencheck_test_bot")]
    assert [c.params["chat_id"] for c in fake_bot_api.calls("leaveChat")] in (
        [-100555],
        ["-100555"],
    )
    assert texts(fake_bot_api, GROUP) == [said("coordination_welcome")]
    assert GROUP not in fake_bot_api.left


async def test_nothing_changes_after_submission_until_a_coordinator_reopens(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    config = coordination_config(tmp_path, fake_bot_api, group=False)  # no digest to render
    code = await set_up_institution(config)
    await fill(config, "ABH", 1001, "Anna", "Schulung", leave_out=1)
    anna, ben = fake_bot_api.user(1001, "Anna"), fake_bot_api.user(1002, "Ben")
    chief = fake_bot_api.user(COORDINATOR, "Kora")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait("/weiter")
        await anna.press_button_and_wait("Keine Maßnahmen geplant")
        await anna.press_button_and_wait("✅ Absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        submitted = rows(config, "SELECT * FROM answers ORDER BY id")
        await ben.send_and_wait(f"/start {code}")
        for user in (anna, ben):
            for text in (
                "/weiter",
                "vollständig erfüllt",
                "/zurueck",
                "/ueberspringen",
                "Neue Maßnahme: alles anders",
                "/absenden",
            ):
                await user.send_and_wait(text)
            for data in ("c:K1.0:full", "k:K1.0", "b:K1.0", "n:K1.0", "j:K1", "s", "y"):
                await user.wait_answered(
                    user.press(user.last_message().message_id, data, check=False)
                )
        assert rows(config, "SELECT * FROM answers ORDER BY id") == submitted
        assert rows(config, "SELECT status FROM checks") == [("submitted",)]
        await chief.send_and_wait("/wiedereroeffnen ABH")
        await anna.send_and_wait("/zurueck")  # the last question, the measures
        await anna.send_and_wait("Neue Maßnahme: Schulung")
    assert len(rows(config, "SELECT * FROM answers")) == len(submitted) + 1
    assert rows(config, "SELECT status FROM checks") == [("open",)]


async def test_a_replaced_invite_link_stops_working(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    old = await set_up_institution(config)
    chief, bea = fake_bot_api.user(COORDINATOR, "Kora"), fake_bot_api.user(1005, "Bea")
    async with running_bot(config, fake_bot_api):
        await chief.send_and_wait("/einladung ABH neu")
        new = LINK.search(chief.last_message().visible_text or "")
        assert new and new[1] != old
        await bea.send_and_wait(f"/start {old}")
        assert bea.last_message().visible_text == said("invite_invalid", limit=GUESSES)
        await bea.send_and_wait(f"/start {new[1]}")
        assert "Ausländerbehörde" in (bea.last_message().visible_text or "")
    assert rows(config, "SELECT count(*) FROM members WHERE telegram_user_id = 1005") == [(1,)]


async def test_wrong_codes_are_limited_per_user_even_across_restarts(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    code = await set_up_institution(config)
    clock = Clock()
    eve, max_ = fake_bot_api.user(6006, "Eve"), fake_bot_api.user(6007, "Max")
    async with running_bot(config, fake_bot_api, clock):
        for attempt in range(3):
            await eve.send_and_wait(f"/start guess{attempt}")
    async with running_bot(config, fake_bot_api, clock):  # the count survives a restart
        for attempt in range(3, GUESSES):
            await eve.send_and_wait(f"/start guess{attempt}")
            assert f"höchstens {GUESSES} falsche Codes" in (eve.last_message().visible_text or "")
        await eve.send_and_wait(f"/start {code}")  # even the right code: the limit is reached
        locked = eve.last_message().visible_text or ""
        assert f"{GUESSES} falsche Codes in einer Stunde" in locked and "Ab " in locked
        await max_.send_and_wait(f"/start {code}")  # the limit is per user
        assert "Ausländerbehörde" in (max_.last_message().visible_text or "")
        # Only moments are kept, never the codes tried.
        failures = "SELECT count(*) FROM invite_failures WHERE telegram_user_id = 6006"
        assert rows(config, failures) == [(GUESSES,)]
        # The codes tried were "guess0" … ; the round's stored catalogue says "guessing" itself.
        tried = [f"guess{n}" for n in range(GUESSES)]
        assert not any(
            code in str(cell)
            for table in dump(config).values()
            for row in table
            for cell in row
            for code in tried
        )
        clock.advance(3601)
        await eve.send_and_wait(f"/start {code}")
        assert "Ausländerbehörde" in (eve.last_message().visible_text or "")
    assert rows(config, "SELECT count(*) FROM members") == [(2,)]
    assert rows(config, failures) == [(0,)]  # forgotten after the hour


async def test_coordinators_added_by_the_cli_count_at_once(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    kim = fake_bot_api.user(5005, "Kim")
    config_file = str(Path(config.storage.path).parent / "config.toml")
    async with running_bot(config, fake_bot_api):
        await kim.send_and_wait("/status")
        assert kim.last_message().visible_text == said("coordinator_only")
        assert (
            await asyncio.to_thread(main, ["--config", config_file, "coordinator", "add", "5005"])
            == 0
        )
        await kim.send_and_wait("/status")
        assert "ABH" in (kim.last_message().visible_text or "")
        assert (
            await asyncio.to_thread(
                main, ["--config", config_file, "coordinator", "remove", "5005"]
            )
            == 0
        )
        await kim.send_and_wait("/status")
        assert kim.last_message().visible_text == said("coordinator_only")


async def test_coordinators_manage_institutions_and_members_in_the_chat(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    await fill(config, "ABH", 1001, "Anna", "Schulung", leave_out=44)
    chief = fake_bot_api.user(COORDINATOR, "Kora")
    vera, veit = fake_bot_api.user(2002, "Vera"), fake_bot_api.user(2003, "Vera")

    async def say(text: str) -> str:
        await chief.send_and_wait(text)
        return chief.last_message().visible_text or ""

    async with running_bot(config, fake_bot_api):
        link = LINK.search(await say("/institution_neu VHS Volkshochschule Ludwigshafen"))
        assert link
        for user in (vera, veit):
            await user.send_and_wait(f"/start {link[1]}")
        assert "Volkshochschule Ludwigshafen" in (vera.last_message().visible_text or "")
        assert "heißt jetzt" in await say("/institution_umbenennen VHS Volkshochschule LU")
        listing = await say("/mitglieder VHS")
        numbers = re.findall(r"#(\d+) Vera", listing)
        assert len(numbers) == 2
        assert f"#{numbers[0]}, #{numbers[1]}" in await say("/mitglied_entfernen VHS vera")
        assert "gehört nicht mehr zu VHS" in await say(f"/mitglied_entfernen VHS #{numbers[0]}")
        assert "ausgetragen" in (vera.last_message().visible_text or "")
        await vera.send_and_wait("/weiter")
        assert vera.last_message().visible_text == said("not_member")
        # It has an answer: only IT can remove it, and no server command is shown.
        refusal = await say("/institution_entfernen ABH")
        assert "wer mich betreut (IT)" in refusal and "chancencheck" not in refusal
        assert "ist entfernt, mit 1 Mitglied" in await say("/institution_entfernen VHS")
        assert "kenne ich nicht" in await say("/mitglieder VHS")
        assert "1–12 Buchstaben" in await say("/institution_neu A-B Name")
        assert "/institution_neu KURZ Name" in await say("/institution_neu XY")
    assert rows(config, "SELECT short FROM institutions") == [("ABH",)]
    assert rows(config, "SELECT count(*) FROM members WHERE telegram_user_id IN (2002, 2003)") == [
        (0,)
    ]
