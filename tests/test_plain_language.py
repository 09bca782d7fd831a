"""What members and coordinators read: the welcome, /hilfe, and no server commands in chat."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botharness import make_config, running_bot, set_up_institution
from fakebot import FakeBotApi
from telegram.ext import CommandHandler

from bot.catalogue import load_catalogue
from bot.config import Config
from bot.render.check_size import check_size
from bot.render.commands import MENU
from bot.render.templates import Templates
from bot.telegram.app import build_application

COORDINATOR = 9001
# Every coordinator command, as registered in bot/telegram/routes.py (German names).
COORDINATOR_COMMANDS = (
    "/status",
    "/runde",
    "/runde_oeffnen",
    "/runde_schliessen",
    "/frist",
    "/bericht",
    "/export",
    "/heatmap",
    "/wiedereroeffnen",
    "/institution_neu",
    "/institution_umbenennen",
    "/institution_entfernen",
    "/einladung",
    "/mitglieder",
    "/mitglied_entfernen",
    "/koordinierungsgruppe",
)


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    return make_config(tmp_path, fake_bot_api, f"coordinators = [{COORDINATOR}]")


async def test_welcome_says_what_the_check_is_for_and_how_long_it_takes(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """The welcome names the institution in quotes, the purpose, and size and time from the
    catalogue (no hard-coded 15)."""
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await anna.send_and_wait(f"/start {code}")
        welcome = anna.last_message().visible_text or ""
    size = check_size(load_catalogue())
    assert "Mitglied der Einrichtung „Ausländerbehörde“ (ABH)" in welcome
    assert "Bewertet werden die Angebote, nicht Personen" in welcome
    assert (
        f"zu {size.requirements} Qualitätsanforderungen je {size.per_requirement} Fragen" in welcome
    )
    assert f"etwa {size.minutes_low} bis {size.minutes_high} Minuten" in welcome
    assert "Runde 2027" in welcome and "Runde Runde" not in welcome


def test_the_size_follows_the_catalogue() -> None:
    """A smaller catalogue gives a shorter estimate; nothing says 15 or 45 by itself."""
    small = check_size(load_catalogue(Path(__file__).parent / "data" / "minimal_catalogue.toml"))
    full = check_size(load_catalogue())
    assert full.requirements == 15 and full.per_requirement == 3
    assert (full.minutes_low, full.minutes_high) == (20, 45)
    assert small.requirements < full.requirements and small.minutes_high < full.minutes_high


async def test_help_lists_every_coordinator_command_only_for_coordinators(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """/hilfe adds the coordinators' part for coordinators, one line per command."""
    code = await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        await anna.send_and_wait(f"/start {code}")
        await anna.send_and_wait("/hilfe")
        member_help = anna.last_message().visible_text or ""
        kora = fake_bot_api.user(COORDINATOR, "Kora")
        await kora.send_and_wait("/hilfe")
        coordinator_help = kora.last_message().visible_text or ""
    assert "Ich führe Sie" in member_help and "Für die Koordinierungsgruppe" not in member_help
    assert "Für die Koordinierungsgruppe" in coordinator_help
    lines = coordinator_help.split("Für die Koordinierungsgruppe", 1)[1].splitlines()
    for command in COORDINATOR_COMMANDS:
        assert sum(line.startswith(f"{command} ") for line in lines) == 1, command


async def test_coordinators_are_not_shown_server_commands(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Without a round or institutions, /status and /runde point to the chat, not the CLI."""
    async with running_bot(config, fake_bot_api):
        kora = fake_bot_api.user(COORDINATOR, "Kora")
        await kora.send_and_wait("/status")
        status = kora.last_message().visible_text or ""
        await kora.send_and_wait("/runde")
        round_reply = kora.last_message().visible_text or ""
    for text in (status, round_reply):
        assert "keine" in text.lower() and "chancencheck " not in text


# Registered names that /hilfe leaves out on purpose, with the reason.
NOT_IN_HELP = {
    "start": "the invite link sends it; nobody types it",
    "id": "a set-up step the README explains (a coordinator's Telegram id)",
    "koordinationsgruppe": "an old spelling; /hilfe names /koordinierungsgruppe",
    "resume": "a second English alias of /continue",
    "hint": "a second English alias of /explain",
}


def registered_commands(config: Config) -> set[str]:
    """Every command name the bot answers, read from the real handler registration."""
    app = build_application(config)
    return {
        name
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }


def test_every_registered_command_is_in_the_help(config: Config) -> None:
    """Protects discoverability: a command added to bot/telegram/routes.py but not to /hilfe
    (German or English, coordinators' part included) fails here; so does a stale exception."""
    templates = Templates(config.checks.tz)
    size = check_size(load_catalogue())
    helps = " ".join(
        templates.render(language, "help", size=size, coordinator=True) for language in ("de", "en")
    )
    listed = set(re.findall(r"(?<![<\w])/([a-z_]+)\b", helps))  # not </b>
    registered = registered_commands(config)
    missing = registered - listed - set(NOT_IN_HELP)
    assert not missing, f"registered but not in /hilfe: {sorted(missing)}"
    assert set(NOT_IN_HELP) <= registered, set(NOT_IN_HELP) - registered
    assert not (listed - registered), f"/hilfe names unknown commands: {listed - registered}"


def test_every_menu_command_is_registered_and_in_the_member_help(config: Config) -> None:
    """The menu Telegram shows (setMyCommands) offers only commands that answer, each also
    explained in the members' /hilfe."""
    templates = Templates(config.checks.tz)
    member_help = templates.render(
        "de", "help", size=check_size(load_catalogue()), coordinator=False
    )
    registered = registered_commands(config)
    for name in MENU:
        assert name in registered, name
        assert name == "hilfe" or f"/{name}" in member_help, name
