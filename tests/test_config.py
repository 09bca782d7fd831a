"""load_config: defaults, the example file, the environment, errors that name key, value, fix."""

from __future__ import annotations

import re
import shutil
import tomllib
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.config import KEYS, SECTIONS, Config, ConfigError, load_config
from dialogues.catalogue import DEFAULT_CATALOGUE

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"
TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the Bot API docs' sample token
OTHER_TOKEN = "987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDxyz"
NO_ENV: dict[str, str] = {}


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] = NO_ENV) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env)
    return str(info.value)


# --- defaults and the example file ---------------------------------------------------------


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, NO_ENV)
    assert not config.has_token
    assert config.telegram.token is None
    assert config.telegram.base_url == "https://api.telegram.org/bot"
    assert config.telegram.base_file_url == "https://api.telegram.org/file/bot"
    assert config.telegram.bot_username is None
    assert config.telegram.coordination_chat_id is None
    assert config.telegram.coordinators == ()
    assert config.telegram.max_text_length == 2000
    assert config.storage.path == tmp_path / "data" / "chancencheck.sqlite3"
    assert config.checks.catalogue is None
    assert config.checks.catalogue_path == DEFAULT_CATALOGUE
    assert config.checks.language == "de"
    assert config.checks.tz == ZoneInfo("Europe/Berlin")
    assert config.reminders.days_before == (14, 7, 3, 1, 0)
    assert config.reminders.send_at == time(9, 0)
    assert config.reminders.skip_weekends is True
    assert config.logging.level == "INFO"


def test_the_example_file_equals_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    copy = tmp_path / "config.toml"
    shutil.copy(EXAMPLE, copy)  # what the docs tell people to do
    monkeypatch.chdir(tmp_path)
    assert load_config(copy, NO_ENV) == load_config(None, NO_ENV)


def test_the_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"\n[{section}]\n" in text
    for key in (key for key in KEYS if "." in key):
        name = key.rpartition(".")[2]
        assert re.search(rf"^(# )?{name} = ", text, re.MULTILINE), f"{key} is not documented"
    assert "@BotFather" in text
    assert "CHANCENCHECK_TELEGRAM_TOKEN" in text
    assert "negative" in text


def test_the_example_file_keys_sit_in_their_sections() -> None:
    uncommented = "\n".join(
        line.removeprefix("# ") if re.match(r"# \w+ = ", line) else line
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
    )
    data = tomllib.loads(uncommented)
    assert {f"{s}.{k}" for s, keys in data.items() for k in keys} | set(SECTIONS) == set(KEYS)


def test_the_token_placeholder_in_the_example_is_rejected(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("# token = ", "token = ")
    message = problems(write(tmp_path, text))
    assert "telegram.token does not look like a Telegram bot token" in message
    assert "@BotFather" in message


# --- the environment and paths -------------------------------------------------------------


def test_the_token_from_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f'[telegram]\ntoken = "{OTHER_TOKEN}"\n')
    assert load_config(path, NO_ENV).telegram.token.get_secret_value() == OTHER_TOKEN
    config = load_config(path, {"CHANCENCHECK_TELEGRAM_TOKEN": TOKEN})
    assert config.has_token
    assert config.telegram.token.get_secret_value() == TOKEN


def test_the_token_from_the_environment_works_without_a_file() -> None:
    assert load_config(None, {"CHANCENCHECK_TELEGRAM_TOKEN": TOKEN}).has_token


def test_the_environment_names_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[checks]\nlanguage = "en"\n', name="elsewhere.toml")
    config = load_config(None, {"CHANCENCHECK_CONFIG": str(path)})
    assert config.checks.language == "en"


def test_an_explicit_path_wins_over_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[checks]\nlanguage = "en"\n')
    env = {"CHANCENCHECK_CONFIG": str(tmp_path / "missing.toml")}
    assert load_config(path, env).checks.language == "en"


def test_relative_paths_are_resolved_against_the_config_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text("", encoding="utf-8")
    path = write(
        tmp_path, '[storage]\npath = "db/bot.sqlite3"\n[checks]\ncatalogue = "mine.toml"\n'
    )
    config = load_config(path, NO_ENV)
    assert config.storage.path == tmp_path / "db" / "bot.sqlite3"
    assert config.checks.catalogue == config.checks.catalogue_path == tmp_path / "mine.toml"


def test_a_config_without_storage_section_keeps_the_database_next_to_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), NO_ENV)
    assert config.storage.path == tmp_path / "data" / "chancencheck.sqlite3"


def test_absolute_storage_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "bot.sqlite3"
    (tmp_path / "conf").mkdir()
    path = write(tmp_path / "conf", f'[storage]\npath = "{target}"\n')
    assert load_config(path, NO_ENV).storage.path == target


# --- values --------------------------------------------------------------------------------


def test_values_are_read_and_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[telegram]\nbot_username = "@cc_bot"\ncoordination_chat_id = -1001234567890\n'
        'coordinators = [11, 22]\n[checks]\ntimezone = "UTC"\n'
        '[reminders]\ndays_before = [1, 7, 1, 0]\nsend_at = "7:30"\nskip_weekends = false\n'
        '[logging]\nlevel = "debug"\n',
    )
    config = load_config(path, NO_ENV)
    assert config.telegram.bot_username == "cc_bot"
    assert config.telegram.coordination_chat_id == -1001234567890
    assert config.telegram.coordinators == (11, 22)
    assert config.checks.tz == ZoneInfo("UTC")
    assert config.reminders.days_before == (7, 1, 0)
    assert config.reminders.send_at == time(7, 30)
    assert config.reminders.skip_weekends is False
    assert config.logging.level == "DEBUG"


def test_a_toml_time_literal_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "[reminders]\nsend_at = 18:45:00\n")
    assert load_config(path, NO_ENV).reminders.send_at == time(18, 45)


def test_the_config_is_frozen() -> None:
    config = load_config(None, NO_ENV)
    with pytest.raises(ValidationError):
        config.checks.language = "en"  # type: ignore[misc]


# --- errors: key, value, fix ---------------------------------------------------------------


BAD_VALUES = {
    "send_at": (
        '[reminders]\nsend_at = "9 Uhr"\n',
        (
            'config.toml: reminders.send_at = "9 Uhr" is not a time; '
            'write it as "HH:MM", for example "09:00"'
        ),
    ),
    "send_at out of range": ('[reminders]\nsend_at = "24:00"\n', 'send_at = "24:00" is not a time'),
    "timezone": (
        '[checks]\ntimezone = "Mars/Base"\n',
        (
            'config.toml: checks.timezone = "Mars/Base" is not a known time zone; '
            'write an IANA time zone name, for example "Europe/Berlin"'
        ),
    ),
    "timezone suggestion": (
        '[checks]\ntimezone = "Europe/berlin"\n',
        (
            'checks.timezone = "Europe/berlin" is not a known time zone '
            '(did you mean "Europe/Berlin"?)'
        ),
    ),
    "language": (
        '[checks]\nlanguage = "fr"\n',
        (
            'config.toml: checks.language = "fr" is not one of the allowed values; '
            'write "de" (German) or "en" (English)'
        ),
    ),
    "days_before": (
        "[reminders]\ndays_before = [-1]\n",
        (
            "config.toml: reminders.days_before = [-1] contains a negative number; "
            "write a list of whole days before the deadline, 0 or more, for example [14, 7, 3, 1]"
        ),
    ),
    "days_before item": (
        '[reminders]\ndays_before = [7, "x"]\n',
        'reminders.days_before = [7, "x"] has an item "x" that is not a whole number',
    ),
    "max_text_length": (
        "[telegram]\nmax_text_length = 5000\n",
        "telegram.max_text_length = 5000 is too large; write a whole number from 1 to 3000",
    ),
    "coordination_chat_id": (
        '[telegram]\ncoordination_chat_id = "my group"\n',
        (
            'telegram.coordination_chat_id = "my group" is not a whole number; '
            "write the chat id as a number without quotes; groups have negative ids"
        ),
    ),
    "base_url": (
        '[telegram]\nbase_url = "localhost:8081"\n',
        (
            'telegram.base_url = "localhost:8081" is not a URL; '
            "write a URL starting with https:// or http://"
        ),
    ),
    "skip_weekends": (
        '[reminders]\nskip_weekends = "sometimes"\n',
        (
            'reminders.skip_weekends = "sometimes" is not true or false; '
            "write true or false, without quotes"
        ),
    ),
    "level": (
        '[logging]\nlevel = "chatty"\n',
        (
            'logging.level = "chatty" is not one of the allowed values; '
            'write "DEBUG", "INFO", "WARNING" or "ERROR"'
        ),
    ),
    "catalogue": (
        '[checks]\ncatalogue = "missing.toml"\n',
        'checks.catalogue = "missing.toml" is not a file (looked for ',
    ),
    "section": (
        'storage = "bot.sqlite3"\n',
        'config.toml: storage = "bot.sqlite3" is not a section; write [storage] on a line',
    ),
    "unknown key": (
        '[telegram]\ntokn = "abc"\n',
        "config.toml: unknown key telegram.tokn; did you mean telegram.token?",
    ),
    "key in the wrong section": (
        '[telegram]\nlanguage = "en"\n',
        "config.toml: unknown key telegram.language; did you mean checks.language?",
    ),
    "unknown section": (
        "[remindres]\nskip_weekends = false\n",
        "config.toml: unknown section [remindres]; did you mean [reminders]?",
    ),
    "unknown key without suggestion": (
        "[telegram]\nxyz = 1\n",
        "config.toml: unknown key telegram.xyz; remove it (see config.example.toml)",
    ),
}


@pytest.mark.parametrize(("toml", "expected"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_bad_value_names_key_value_and_fix(tmp_path: Path, toml: str, expected: str) -> None:
    assert expected in problems(write(tmp_path, toml))


def test_every_problem_is_reported_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[checks]\nlanguage = "fr"\n[reminders]\nsend_at = "9 Uhr"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, NO_ENV)
    assert len(info.value.problems) == 2
    assert str(info.value).splitlines() == info.value.problems


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    message = problems(write(tmp_path, "[reminders]\nsend_at = 9 Uhr\n"))
    assert message.startswith(f"{tmp_path / 'config.toml'}: is not valid TOML")
    assert "line 2" in message
    assert 'text needs quotes, for example send_at = "09:00"' in message


def test_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    message = problems(path)
    assert f"{path}: no such config file; create one with " in message
    assert f"`cp config.example.toml {path}`" in message


def test_a_missing_file_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="named by the environment variable CHANCENCHECK_CONFIG"):
        load_config(None, {"CHANCENCHECK_CONFIG": str(tmp_path / "nope.toml")})


# --- the token stays secret ----------------------------------------------------------------


def test_the_token_is_not_in_str_or_repr(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\n'), NO_ENV)
    assert config.has_token
    for text in (str(config), repr(config), repr(config.telegram), str(config.model_dump())):
        assert TOKEN not in text
        assert "AAHdqTcv" not in text


@pytest.mark.parametrize("bad", ["123:short", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "99999"])
def test_a_malformed_token_is_rejected_without_printing_it(tmp_path: Path, bad: str) -> None:
    message = problems(write(tmp_path, f'[telegram]\ntoken = "{bad}"\n'))
    assert "config.toml: telegram.token does not look like a Telegram bot token" in message
    assert "get a token from @BotFather" in message
    assert bad not in message


def test_a_malformed_token_from_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, {"CHANCENCHECK_TELEGRAM_TOKEN": "123:secret-but-short"})
    assert str(info.value).startswith("environment variable CHANCENCHECK_TELEGRAM_TOKEN: ")
    assert "secret-but-short" not in str(info.value)


def test_a_token_under_a_wrong_key_is_not_printed(tmp_path: Path) -> None:
    toml = f'token = "{TOKEN}"\n[telegram]\ntoken = 42\nbase_url = "{TOKEN}"\n'
    message = problems(write(tmp_path, toml), {"CHANCENCHECK_TELEGRAM_TOKEN": OTHER_TOKEN})
    assert "unknown key token; did you mean telegram.token?" in message
    assert "telegram.base_url = (hidden: looks like a bot token) is not a URL" in message
    assert TOKEN not in message and OTHER_TOKEN not in message


def test_pydantic_errors_hide_the_token_too() -> None:
    with pytest.raises(ValidationError) as info:
        Config.model_validate({"telegram": {"token": TOKEN, "max_text_length": 0}})
    assert TOKEN not in str(info.value)
