"""Settings of the bot, read once from a TOML file and the environment into frozen models."""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

from dialogues.catalogue import DEFAULT_CATALOGUE

CONFIG_ENV = "CHANCENCHECK_CONFIG"
TOKEN_ENV = "CHANCENCHECK_TELEGRAM_TOKEN"
SECRET_ENV = "CHANCENCHECK_WEBHOOK_SECRET"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
# Unanchored, to hide a token wherever it turns up in a value we would print.
_TOKEN_ANYWHERE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")


class ConfigError(Exception):
    """A configuration that cannot be used: one line per problem, each with its fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _invalid(problem: str) -> PydanticCustomError:
    """Build a validation error whose message is the bare problem, without pydantic's prefix."""
    return PydanticCustomError("config", problem)


def _against_config_dir(value: Path, info: ValidationInfo) -> Path:
    """Resolve a relative path against the config file's directory (or the current one)."""
    base = (info.context or {}).get("base_dir") or Path.cwd()
    return Path(base, value.expanduser())  # an absolute value replaces base


class _Frozen(BaseModel):
    # Hidden inputs: a pydantic error printed as it is must not show the token.
    # Field descriptions hold the fix that ConfigError prints for a bad value.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class TelegramSection(_Frozen):
    token: SecretStr | None = Field(
        None,
        description="get a token from @BotFather in Telegram (send /newbot) and copy it whole; "
        'it looks like "123456789:AAH…"',
    )
    base_url: str = Field(
        "https://api.telegram.org/bot",
        description="write a URL starting with https:// or http://, "
        'for example "http://localhost:8081/bot"',
    )
    base_file_url: str = Field(
        "https://api.telegram.org/file/bot",
        description="write a URL starting with https:// or http://, "
        'for example "http://localhost:8081/file/bot"',
    )
    bot_username: str | None = Field(
        None, description='write the bot\'s username without "@", for example "chancencheck_bot"'
    )
    coordination_chat_id: int | None = Field(
        None,
        description="write the chat id as a number without quotes; "
        "groups have negative ids, for example -1001234567890",
    )
    coordinators: tuple[Annotated[int, Field(gt=0)], ...] = Field(
        (), description="write a list of Telegram user ids, for example [123456789, 987654321]"
    )
    coordinator_invite_hours: int = Field(
        24, ge=1, le=720, description="write a whole number of hours from 1 to 720, for example 24"
    )
    max_text_length: int = Field(
        2000, ge=1, le=3000, description="write a whole number from 1 to 3000, for example 2000"
    )

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or value == "":
            return None  # an empty placeholder means "no token yet": the demo still runs
        if not isinstance(value, str) or not TOKEN_PATTERN.match(value.strip()):
            raise _invalid("does not look like a Telegram bot token")
        return value.strip()

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://\S+", value):
            raise _invalid("is not a URL")
        return value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.removeprefix("@")  # people copy it from Telegram with the "@"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
            raise _invalid("is not a Telegram username")
        return name


class StorageSection(_Frozen):
    path: Path = Field(
        Path("data/chancencheck.sqlite3"),
        validate_default=True,  # the default is relative too and must be resolved
        description='write a file path in quotes, for example "data/chancencheck.sqlite3"',
    )

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        if value == Path():
            raise _invalid("is not a file path")
        return _against_config_dir(value, info)


class ChecksSection(_Frozen):
    catalogue: Path | None = Field(
        None,
        description="write the path of a catalogue TOML file in quotes, "
        "or leave the key out to use the built-in catalogue",
    )
    language: Literal["de", "en"] = Field("de", description='write "de" (German) or "en" (English)')
    timezone: str = Field(
        "Europe/Berlin",
        description='write an IANA time zone name, for example "Europe/Berlin"',
    )

    @field_validator("catalogue")
    @classmethod
    def _catalogue(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = _against_config_dir(value, info)
        if not path.is_file():
            raise _invalid(f"is not a file (looked for {path})")
        return path

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            close = difflib.get_close_matches(value, available_timezones(), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise _invalid(f"is not a known time zone{hint}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def catalogue_path(self) -> Path:
        return self.catalogue or DEFAULT_CATALOGUE


class RemindersSection(_Frozen):
    days_before: tuple[int, ...] = Field(
        (14, 7, 3, 1, 0),
        description="write a list of whole days before the deadline, 0 or more, "
        "for example [14, 7, 3, 1]",
    )
    send_at: time = Field(time(9, 0), description='write it as "HH:MM", for example "09:00"')
    skip_weekends: bool = Field(True, description="write true or false, without quotes")

    @field_validator("days_before")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 0 for day in value):
            raise _invalid("contains a negative number")
        return tuple(sorted(set(value), reverse=True))  # one reminder per day, earliest first

    @field_validator("send_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> time:
        if isinstance(value, time):
            return value  # a TOML time literal such as 09:00:00
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value) if isinstance(value, str) else None
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
        raise _invalid("is not a time")


class LoggingSection(_Frozen):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description='write "DEBUG", "INFO", "WARNING" or "ERROR"'
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value  # "info" is what people type


class PrivacySection(_Frozen):
    # Who coordinators see behind an answer. "none" by default: coordinators need results per
    # institution, and naming people can monitor performance (Personalrat, Dienstvereinbarung).
    authors: Literal["names", "members", "none"] = Field(
        "none", description='write "names", "members" or "none"'
    )


class WebhookSection(_Frozen):
    url: str | None = Field(
        None,
        description="write the public HTTPS address Telegram sends updates to, "
        'for example "https://bot.example.org/telegram", or leave the key out to use polling',
    )
    listen: str = Field(
        "127.0.0.1",
        description='write the local address to listen on, for example "127.0.0.1" behind a '
        'reverse proxy or "0.0.0.0" for all interfaces',
    )
    port: int = Field(
        8443, ge=1, le=65535, description="write a port number from 1 to 65535, for example 8443"
    )
    path: str | None = Field(
        None,
        description='write the local URL path starting with "/", for example "/telegram"; '
        "leave it out to use the path of url",
    )
    secret_token: SecretStr | None = Field(
        None,
        validate_default=True,  # so that a missing secret is reported when url is set
        description="write 1 to 256 characters A-Z, a-z, 0-9, _ or -, for example the output "
        "of `openssl rand -hex 32`; Telegram sends it with every update",
    )

    @field_validator("url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[^/\s]+(/\S*)?", value):
            raise _invalid("is not an https:// URL (Telegram sends webhooks only over HTTPS)")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"/\S*", value):
            raise _invalid('is not a URL path starting with "/"')
        return value

    @field_validator("secret_token", mode="before")
    @classmethod
    def _secret(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or value == "":
            if info.data.get("url"):
                raise _invalid("is missing, but url is set: without it anyone could send updates")
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise _invalid("has characters Telegram does not allow, or is too long")
        return value

    @property
    def url_path(self) -> str:
        """Return the local path the webhook server answers on."""
        if self.path is not None:
            return self.path
        return (urlsplit(self.url).path or "/") if self.url else "/"


class ReplicationSection(_Frozen):
    litestream_config: Path | None = Field(
        None,
        description="write the path of the Litestream config in quotes, for example "
        '"/etc/chancencheck/litestream.yml", or leave the key out without replication',
    )

    @field_validator("litestream_config")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value == Path():
            raise _invalid("is not a file path")
        return None if value is None else _against_config_dir(value, info)

    @property
    def enabled(self) -> bool:
        """Return whether Litestream replicates the database (and so owns its checkpoints)."""
        return self.litestream_config is not None


class Config(_Frozen):
    """All settings of the bot; build it with load_config()."""

    telegram: TelegramSection = Field(default_factory=TelegramSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    checks: ChecksSection = Field(default_factory=ChecksSection)
    reminders: RemindersSection = Field(default_factory=RemindersSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    webhook: WebhookSection = Field(default_factory=WebhookSection)
    replication: ReplicationSection = Field(default_factory=ReplicationSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)

    @property
    def has_token(self) -> bool:
        return self.telegram.token is not None


SECTIONS: dict[str, Any] = {name: f.annotation for name, f in Config.model_fields.items()}
KEYS = [*SECTIONS, *(f"{s}.{key}" for s, model in SECTIONS.items() for key in model.model_fields)]


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file and the environment once, or raise ConfigError with every problem."""
    env = os.environ if env is None else env
    from_env = path is None and bool(env.get(CONFIG_ENV))
    if from_env:
        path = env[CONFIG_ENV]
    path = Path(path) if path is not None else None
    data = _read(path, from_env) if path else {}
    for section in SECTIONS:
        data.setdefault(section, {})  # so every section sees the config directory
    token = env.get(TOKEN_ENV, "").strip()
    if token and isinstance(data["telegram"], dict):
        data["telegram"]["token"] = token  # the environment wins over the file
    secret = env.get(SECRET_ENV, "").strip()
    if secret and isinstance(data["webhook"], dict):
        data["webhook"]["secret_token"] = secret
    base_dir = path.absolute().parent if path else Path.cwd()
    try:
        return Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        source = str(path) if path else "config"
        lines = [_describe(err, data, source, bool(token)) for err in exc.errors()]
        raise ConfigError(lines) from None


def _read(path: Path, from_env: bool) -> dict[str, Any]:
    """Parse the TOML file, or raise ConfigError saying how to fix it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        named = f" (named by the environment variable {CONFIG_ENV})" if from_env else ""
        problem = (
            f"{path}: no such config file{named}; create one with "
            f"`cp config.example.toml {path}` and edit it, or start without a config file "
            "to run the demo with the defaults"
        )
    except UnicodeDecodeError:
        problem = f"{path}: is not UTF-8 text; save the file as UTF-8"
    except OSError as exc:
        problem = f"{path}: cannot read the config file ({exc.strerror}); check the path"
    except tomllib.TOMLDecodeError as exc:
        problem = (
            f"{path}: is not valid TOML: {exc}; check that line: text needs quotes, "
            'for example send_at = "09:00", and each [section] may appear only once'
        )
    raise ConfigError([problem])


_PROBLEMS = {
    "int_parsing": "is not a whole number",
    "int_type": "is not a whole number",
    "int_from_float": "is not a whole number",
    "bool_parsing": "is not true or false",
    "bool_type": "is not true or false",
    "string_type": "is not text in quotes",
    "path_type": "is not a path in quotes",
    "tuple_type": "is not a list",
    "literal_error": "is not one of the allowed values",
    "greater_than": "is too small",
    "greater_than_equal": "is too small",
    "less_than_equal": "is too large",
    "model_type": "is not a section",
}


def _describe(error: ErrorDetails, data: dict[str, Any], source: str, env_token: bool) -> str:
    """Turn one validation error into a line naming the key, the value and the fix."""
    parts = [str(loc) for loc in error["loc"] if not isinstance(loc, int)]
    key = ".".join(parts)
    if error["type"] == "extra_forbidden":
        return f"{source}: {_unknown(key, error['input'])}"
    if error["type"] == "config":
        problem = error["msg"]
    else:
        problem = _PROBLEMS.get(error["type"], f"is not valid ({error['msg'].lower()})")
    if len(parts) < len(error["loc"]):  # the error is about one item of a list
        problem = f"has an item {_show(error['input'])} that {problem}"
    if key == "telegram.token":  # never print the token, not even a malformed one
        where = f"environment variable {TOKEN_ENV}" if env_token else source
        return f"{where}: {key} {problem}; {_fix(parts)}"
    if key == "webhook.secret_token":  # a secret, like the token
        return f"{source}: {key} {problem}; {_fix(parts)}"
    return f"{source}: {key} = {_show(_lookup(data, parts))} {problem}; {_fix(parts)}"


def _unknown(key: str, value: Any) -> str:
    """Describe an unknown key (without its value, which may be a misfiled token)."""
    section = "." not in key and isinstance(value, dict)
    prefix, _, name = key.rpartition(".")
    # Keys of the same section come first, so [telegram] tokn suggests telegram.token.
    candidates = sorted(
        (known for known in KEYS if section != ("." in known)),
        key=lambda known: not known.startswith(f"{prefix}."),
    )
    by_name: dict[str, str] = {}
    for known in candidates:
        by_name.setdefault(known.rpartition(".")[2], known)
    close = [by_name[n] for n in difflib.get_close_matches(name, by_name, n=1)]
    if section:
        hint = f"; did you mean [{close[0]}]?" if close else "; remove or rename it"
        return f"unknown section [{key}]{hint}"
    hint = f"; did you mean {close[0]}?" if close else "; remove it (see config.example.toml)"
    return f"unknown key {key}{hint}"


def _fix(parts: list[str]) -> str:
    """Return the fix documented on the field at this key."""
    if len(parts) == 1:
        return f"write [{parts[0]}] on a line of its own with the section's keys below it"
    model = SECTIONS.get(parts[0])
    field: FieldInfo | None = model.model_fields.get(parts[1]) if model else None
    return (field.description if field else None) or "see config.example.toml"


def _lookup(data: Any, parts: list[str]) -> Any:
    """Return the raw value the user wrote at this key."""
    for part in parts:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _show(value: Any) -> str:
    """Render a value as the user wrote it in TOML, hiding anything that looks like a token."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if _TOKEN_ANYWHERE.search(text):
        return "(hidden: looks like a bot token)"
    return text if len(text) <= 60 else f"{text[:57]}…"
