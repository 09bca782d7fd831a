"""`chancencheck doctor`: check what the bot needs to run, and say what to fix.

Reads only: the database is opened read-only and Telegram is only asked (getMe, getChat,
getChatMember, getWebhookInfo), so the doctor is safe to run next to the running bot.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from telegram import Bot, Chat, ChatFullInfo, ChatMember, ChatMemberRestricted
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError

import storage
from bot.catalogue import load_catalogue
from bot.cli.counts import count
from bot.config import Config
from bot.reminders.schedule import deadline_end, reminder_times
from bot.replication import Lag, ReplicationError, find_litestream, lag, replicates
from dialogues.catalogue import CatalogueError
from storage.db import explain
from storage.health import integrity_problems, migration_state, open_read_only, outbox_state

OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    level: str  # OK, INFO, WARN or FAIL; only FAIL makes the doctor exit non-zero
    topic: str
    text: str
    fix: str | None = None


@dataclass
class Stored:
    """What the database says that the Telegram and reminder checks need."""

    cycle: storage.Cycle | None = None
    coordination_chat: int | None = None
    findings: list[Finding] = field(default_factory=list)


async def diagnose(config: Config, now: datetime) -> list[Finding]:
    """Run every check and return the findings, in the order they are worth reading."""
    findings = check_config(config)
    stored = await check_database(config)
    findings += stored.findings
    if config.has_token:
        findings += await check_telegram(config, stored.coordination_chat)
    findings += check_reminders(config, stored.cycle, now)
    findings += await asyncio.to_thread(check_replication, config, now)  # runs litestream
    return findings


def check_config(config: Config) -> list[Finding]:
    """Check what the config names: the token, the catalogue, the mode."""
    findings = []
    mode = f"webhook at {config.webhook.url}" if config.webhook.url else "long polling"
    try:
        catalogue = load_catalogue(config.checks.catalogue_path)
        findings.append(
            Finding(
                OK,
                "config",
                f"{mode}; catalogue {catalogue.id} "
                f"{catalogue.version}; time zone {config.checks.timezone}",
            )
        )
    except CatalogueError as exc:
        findings.append(
            Finding(
                FAIL,
                "catalogue",
                str(exc),
                "fix the file, then check it with `chancencheck catalogue check`",
            )
        )
    if not config.has_token:
        findings.append(
            Finding(
                FAIL,
                "token",
                "no bot token configured",
                "set CHANCENCHECK_TELEGRAM_TOKEN, or [telegram] token",
            )
        )
    return findings


async def check_database(config: Config) -> Stored:
    """Check the database file: access, integrity, migrations, and the outbox."""
    path = config.storage.path
    if not path.exists():
        return Stored(
            findings=[
                Finding(
                    WARN,
                    "database",
                    f"{path} does not exist yet",
                    "the bot creates it at start, or run `chancencheck db migrate`",
                )
            ]
        )
    stored = Stored(findings=_access(path))
    try:
        db = await open_read_only(path)
    except sqlite3.Error as exc:
        stored.findings.append(Finding(FAIL, "database", str(explain(str(path), exc))))
        return stored
    async with db:
        try:
            await _inspect(db, path, stored)
        except sqlite3.Error as exc:
            stored.findings.append(
                Finding(
                    FAIL,
                    "database",
                    str(explain(str(path), exc)),
                    "restore a backup (see README.md)",
                )
            )
    return stored


def _access(path: Path) -> list[Finding]:
    """Check that this user may write the file and its folder (SQLite's log files live there)."""
    if os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK):
        return []
    return [
        Finding(
            FAIL,
            "database",
            f"this user cannot write {path} or its folder",
            "run the doctor as the bot's user (sudo -u chancencheck …), and give that "
            "user write permission on the file and its folder",
        )
    ]


async def _inspect(db: storage.Database, path: Path, stored: Stored) -> None:
    problems = await integrity_problems(db)
    if problems:
        stored.findings.append(
            Finding(
                FAIL,
                "database",
                f"{path} is damaged: " + "; ".join(problems[:3]),
                "stop the bot and restore the last backup (see README.md)",
            )
        )
        return
    migrations = await migration_state(db)
    if migrations.unknown:
        stored.findings.append(
            Finding(
                FAIL,
                "database",
                f"migrated by a newer version ({', '.join(migrations.unknown)})",
                "run that version of the bot, or restore a backup",
            )
        )
        return
    if migrations.pending:
        stored.findings.append(
            Finding(
                WARN,
                "database",
                f"{count(len(migrations.pending), 'migration')} pending "
                f"({', '.join(migrations.pending)})",
                "the bot applies them at start; make a backup first (`chancencheck backup FILE`)",
            )
        )
        return
    stored.findings.append(
        Finding(
            OK,
            "database",
            f"{path}: integrity ok, "
            f"{count(len(migrations.applied), 'migration')} applied, none pending",
        )
    )
    stored.cycle = await storage.current_cycle(db)
    chat = await storage.get_setting(db, storage.COORDINATION_CHAT)
    stored.coordination_chat = int(chat) if chat is not None else None
    stored.findings += await _outbox(db)


async def _outbox(db: storage.Database) -> list[Finding]:
    state = await outbox_state(db)
    findings = []
    if state.given_up:
        findings.append(
            Finding(
                WARN,
                "outbox",
                f"{count(state.given_up, 'message')} given up, as "
                f"Telegram refused them (last: {state.last_error})",
                "check the coordination chat (see below); they are not retried",
            )
        )
    if state.waiting:
        findings.append(
            Finding(
                WARN,
                "outbox",
                f"{count(state.waiting, 'message')} waiting to be sent "
                f"again (last error: {state.last_error})",
                "the running bot retries them; check its log if this stays",
            )
        )
    return findings


async def check_telegram(config: Config, stored_chat: int | None) -> list[Finding]:
    """Check the token (getMe), the coordination chat and how updates arrive."""
    assert config.telegram.token is not None
    bot = Bot(
        config.telegram.token.get_secret_value(),
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
    )
    try:
        await bot.initialize()  # calls getMe
    except InvalidToken:
        return [
            Finding(
                FAIL,
                "token",
                "Telegram refuses the token",
                "copy the token again from @BotFather (/mybots → API Token)",
            )
        ]
    except NetworkError as exc:
        return [
            Finding(
                FAIL,
                "telegram",
                f"cannot reach {config.telegram.base_url}: {exc.message}",
                "check the network, a proxy, or [telegram] base_url",
            )
        ]
    try:
        findings = [Finding(OK, "token", f"belongs to @{bot.username} (id {bot.id})")]
        if config.telegram.bot_username and config.telegram.bot_username != bot.username:
            findings.append(
                Finding(
                    WARN,
                    "token",
                    f"[telegram] bot_username is "
                    f"{config.telegram.bot_username}, the token's bot is "
                    f"@{bot.username}",
                    "correct bot_username, or remove it",
                )
            )
        stored = stored_chat is not None
        chat_id = stored_chat if stored else config.telegram.coordination_chat_id
        findings.append(await check_coordination_chat(bot, chat_id, stored))
        findings.append(await check_updates(bot, config))
        return findings
    finally:
        await bot.shutdown()


async def check_coordination_chat(bot: Bot, chat_id: int | None, stored: bool = False) -> Finding:
    """Check that the bot can post digests (text, chart, files) to the coordination chat.

    stored: the chat was chosen in Telegram (/koordinationsgruppe, or followed to its new id after
    a migration), which outranks the config; the fix then is to choose it there again.
    """
    topic = "coordination chat"
    if chat_id is None:
        return Finding(
            WARN,
            topic,
            "none chosen: digests of submitted checks are not sent",
            "add the bot to the group and send /koordinationsgruppe there as a "
            "coordinator (or set [telegram] coordination_chat_id)",
        )
    finding = await _reach(bot, chat_id, stored)
    source = (
        "chosen with /koordinationsgruppe" if stored else "from [telegram] coordination_chat_id"
    )
    return Finding(finding.level, topic, f"{finding.text}; {source}", finding.fix)


async def _reach(bot: Bot, chat_id: int, stored: bool) -> Finding:
    topic = "coordination chat"  # the caller adds where the chat came from
    choose_again = "add the bot to the coordination group and send /koordinationsgruppe there"
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except ChatMigrated as exc:
        return Finding(
            FAIL,
            topic,
            f"the group {chat_id} became a supergroup with the id {exc.new_chat_id}",
            choose_again if stored else f"set coordination_chat_id = {exc.new_chat_id}",
        )
    except (BadRequest, Forbidden) as exc:
        return Finding(
            FAIL,
            topic,
            f"the bot cannot see chat {chat_id} ({exc.message})",
            choose_again
            if stored
            else "add the bot to the coordination group and "
            "check the id: groups have negative ids, supergroups start with -100",
        )
    except NetworkError as exc:
        return Finding(FAIL, topic, f"could not ask Telegram about chat {chat_id}: {exc.message}")
    return _membership(chat, member)


def _membership(chat: Chat | ChatFullInfo, member: ChatMember) -> Finding:
    name = f"{chat.title or chat.id} ({chat.id})"
    gone = isinstance(member, ChatMemberRestricted) and not member.is_member
    if gone or member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return Finding(
            FAIL,
            "coordination chat",
            f"the bot is not a member of {name}",
            "add the bot to the group again",
        )
    if isinstance(member, ChatMemberRestricted):
        denied = [
            what
            for what, allowed in (
                ("messages", member.can_send_messages),
                ("photos", member.can_send_photos),
                ("files", member.can_send_documents),
            )
            if not allowed
        ]
        if denied:
            return Finding(
                FAIL,
                "coordination chat",
                f"the bot may not send {', '.join(denied)} to {name}",
                "allow it in the group's permissions, or make the bot an admin",
            )
    return Finding(OK, "coordination chat", f"the bot can post to {name} as {member.status}")


async def check_updates(bot: Bot, config: Config) -> Finding:
    """Check how updates reach the bot: Telegram's webhook state against the config."""
    try:
        info = await bot.get_webhook_info()
    except NetworkError as exc:
        return Finding(FAIL, "updates", f"could not ask Telegram about the webhook: {exc.message}")
    url = config.webhook.url
    if url is None:
        if info.url:
            return Finding(
                INFO,
                "updates",
                f"a webhook is set ({info.url}); the bot removes it when it starts polling",
            )
        return Finding(
            OK, "updates", f"long polling; {count(info.pending_update_count, 'update')} waiting"
        )
    if info.url != url:
        return Finding(
            INFO,
            "updates",
            f"Telegram's webhook is {info.url or 'not set'}; the bot sets {url} when it starts",
        )
    if info.last_error_message:
        return Finding(
            WARN,
            "updates",
            f"Telegram's last delivery to {url} failed: {info.last_error_message}",
            f"check that the proxy forwards {url} to {config.webhook.listen}:"
            f"{config.webhook.port}{config.webhook.url_path} with a valid certificate",
        )
    return Finding(
        OK, "updates", f"webhook {url}; {count(info.pending_update_count, 'update')} waiting"
    )


def check_reminders(config: Config, cycle: storage.Cycle | None, now: datetime) -> list[Finding]:
    """Show when the open round's next reminders go out, from the reminder schedule."""
    r, tz = config.reminders, config.checks.tz
    if cycle is None:
        return [Finding(INFO, "reminders", "no round is open, so no reminders are planned")]
    if not r.days_before:
        return [Finding(INFO, "reminders", "off ([reminders] days_before = [])")]
    deadline = cycle.deadline.strftime("%d.%m.%Y")
    if now >= deadline_end(cycle.deadline, tz):
        return [
            Finding(
                WARN,
                "reminders",
                f"the deadline of round {cycle.name} ({deadline}) has passed: no more reminders",
                "move it (`chancencheck cycle deadline YYYY-MM-DD`) or close the round",
            )
        ]
    times = reminder_times(cycle.deadline, r.days_before, r.send_at, r.skip_weekends, tz)
    upcoming = [
        f"{moment:%a %d.%m.%Y %H:%M} ({_before(days)})" for days, moment in times if moment > now
    ]
    if not upcoming:
        return [
            Finding(
                OK,
                "reminders",
                f"round {cycle.name}, deadline {deadline}: every planned reminder is past",
            )
        ]
    return [
        Finding(
            OK,
            "reminders",
            f"round {cycle.name}, deadline {deadline}: next "
            + ", ".join(upcoming[:4])
            + f" ({tz.key})",
        )
    ]


# How far the replica may trail the last write before the doctor warns, or fails: Litestream
# syncs every second, so a minute means it is not running or cannot reach the replica.
LAG_WARN_SECONDS = 10
LAG_FAIL_SECONDS = 60


def check_replication(config: Config, now: datetime) -> list[Finding]:
    """Check that Litestream replicates the database, and how far behind the replica is."""
    path = config.replication.litestream_config
    if path is None:
        return [
            Finding(
                INFO,
                "replication",
                "not configured: a lost disk loses every answer "
                'since the last backup (README.md, "Replikation und Wiederherstellung")',
            )
        ]
    binary = find_litestream()
    if binary is None:
        return [
            Finding(
                FAIL,
                "replication",
                "the litestream program is not installed",
                "pip install 'chancencheck-bot[replication]' into the bot's venv",
            )
        ]
    if not path.is_file():
        return [
            Finding(
                FAIL,
                "replication",
                f"{path} does not exist",
                "copy deploy/litestream.yml there and edit it, or remove "
                "[replication] litestream_config",
            )
        ]
    try:
        if not replicates(binary, path, config.storage.path):
            return [
                Finding(
                    FAIL,
                    "replication",
                    f"{path} does not replicate {config.storage.path}",
                    "set dbs: - path: to [storage] path",
                )
            ]
        return [_lag_finding(lag(binary, path, config.storage.path), now)]
    except ReplicationError as exc:
        return [
            Finding(
                FAIL,
                "replication",
                str(exc),
                f"check {path} and Litestream's log; for a replica that needs keys, run "
                "the doctor with them in the environment (README.md, systemd-run)",
            )
        ]


def _lag_finding(lag: Lag, now: datetime) -> Finding:
    if lag.replica_txid == 0:
        return Finding(
            FAIL,
            "replication",
            "the replica holds nothing yet",
            "start the bot under Litestream (deploy/chancencheck.service.d/"
            "litestream.conf) and check its log",
        )
    synced = (
        f"replica at transaction {lag.replica_txid}, "
        f"{_ago(lag.replica_time, now)}; {lag.transactions} behind the database"
    )
    if lag.seconds > LAG_FAIL_SECONDS:
        return Finding(
            FAIL,
            "replication",
            f"the database was written {lag.seconds:.0f} s "
            f"after the replica's newest position ({synced})",
            "is Litestream running? `systemctl status chancencheck`, and its log",
        )
    if lag.transactions and lag.seconds > LAG_WARN_SECONDS:
        return Finding(
            WARN,
            "replication",
            f"{synced}, {lag.seconds:.0f} s",
            "the replica catches up within seconds; check Litestream's log if not",
        )
    return Finding(OK, "replication", synced)


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "time unknown"
    return f"newest {max(0, (now - moment).total_seconds()):.0f} s ago"


def _before(days: int) -> str:
    return "on the deadline day" if days == 0 else f"{days} day{'s' * (days != 1)} before"


def render(findings: list[Finding], secrets: tuple[str | None, ...] = ()) -> str:
    """Return the report: one line per finding, its fix below, a verdict at the end."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.level:<5} {finding.topic:<18} {finding.text}")
        if finding.fix and finding.level in (WARN, FAIL):
            lines.append(f"{'':<24} → {finding.fix}")
    failed = sum(f.level == FAIL for f in findings)
    lines.append(
        f"{failed} problem{'s' * (failed != 1)} to fix; run `chancencheck doctor` again afterwards"
        if failed
        else "everything the bot needs is in order"
    )
    text = "\n".join(lines)
    for secret in (s for s in secrets if s):
        text = text.replace(secret, "<secret>")
    return text
