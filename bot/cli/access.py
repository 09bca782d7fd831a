"""Command line for access and data protection: institutions, coordinators, retention, audit.

Registered by bot/cli/entry.py; errors are raised as AdminError, which it turns into exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeAlias

import storage
from bot.cli.counts import count
from bot.config import Config
from bot.core import admin, audit, institutions, invites, privacy

Command = Callable[[argparse.Namespace, Config], Awaitable[int]]
AddCommand = Callable[..., argparse.ArgumentParser]  # bot.cli.entry._command
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def institution_commands(inner: Subparsers, command: AddCommand) -> None:
    """Add rename, remove and invite to `chancencheck institution`."""
    rename = command(inner, "rename", _rename, "give an institution a new full name")
    rename.add_argument("short", help="the institution's short name, e.g. ABH")
    rename.add_argument("name", help='the new full name, e.g. "Ausländerbehörde Ludwigshafen"')
    remove = command(
        inner,
        "remove",
        _remove,
        "remove an institution, its members and (with --force) its answers",
    )
    remove.add_argument("short")
    remove.add_argument(
        "--force", action="store_true", help="also when it has answers, which are deleted with it"
    )
    invite = command(inner, "invite", _invite, "give an institution a new invite link")
    invite.add_argument("short")
    invite.add_argument(
        "--rotate",
        action="store_true",
        required=True,
        help="make a new code; the old link stops working",
    )


def commands(sub: Subparsers, command: AddCommand) -> None:
    """Add `coordinator`, `retention` and `audit` to the command line."""
    group = sub.add_parser("coordinator", help="coordinators besides those in config")
    inner = group.add_subparsers(dest="coordinator", required=True)
    for name, handler, text in (
        ("add", _coordinator_add, "make a Telegram user a coordinator"),
        ("remove", _coordinator_remove, "remove a stored coordinator"),
    ):
        command(inner, name, handler, text).add_argument("id", type=int, help="Telegram user id")
    command(inner, "list", _coordinator_list, "list coordinators (config and stored)")
    invite = command(
        inner,
        "invite",
        _coordinator_invite,
        "print a one-time link that makes whoever opens it a coordinator",
    )
    invite.add_argument(
        "--hours",
        type=int,
        metavar="H",
        help="how long the link is valid (default: [telegram] coordinator_invite_hours, 24)",
    )
    retention = command(
        sub,
        "retention",
        _retention,
        "delete rounds closed more than N years ago, with all their data",
    )
    retention.add_argument("--older-than-years", type=_years, required=True, metavar="N")
    retention.add_argument("--dry-run", action="store_true", help="only say what would go")
    log = command(sub, "audit", _audit, "show the audit log: who did what when")
    log.add_argument("--limit", type=int, default=50, help="entries to show (default 50)")


def _years(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: write a whole number of years, at least 1")
    return int(text)


async def print_invitation(invitation: admin.Invitation, username: str | None) -> None:
    """Print the invite link, or the code and how to get the link."""
    if username:
        print(f"invite link: {invitation.link(username)}")
    else:
        print(f"invite code: {invitation.code}")
        print("set [telegram] bot_username or a token in the config to get the invite link")
    print("the link is not stored and cannot be shown again; keep it until it is sent")


async def bot_username(config: Config) -> str | None:
    """Return the bot's username from config, or ask Telegram when a token is configured."""
    if config.telegram.bot_username:
        return config.telegram.bot_username
    if not config.has_token:
        return None
    from bot.telegram.app import fetch_username

    return await fetch_username(config)


async def _rename(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        renamed = await institutions.rename(db, args.short, args.name, storage.CLI)
    print(f"renamed {renamed.short}: {renamed.name}")
    return 0


async def _remove(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        removed = await institutions.remove(db, args.short, args.force, storage.CLI)
    deleted = ", ".join(f"{n} {table}" for table, n in removed.counts.items() if n)
    print(
        f"removed {removed.institution.short} ({removed.institution.name}), ending "
        f"{count(removed.members, 'membership')}; deleted rows: {deleted or 'none'}"
    )
    return 0


async def _invite(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        invitation = await institutions.replace_invite(db, args.short, storage.CLI)
    print(f"new invite for {invitation.institution.short}; the old link no longer works")
    await print_invitation(invitation, await bot_username(config))
    return 0


async def _coordinator_add(args: argparse.Namespace, config: Config) -> int:
    _positive(args.id)
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        if not await storage.add_coordinator(db, args.id):
            raise admin.AdminError(f"{args.id} is a coordinator already")
        await storage.record_audit(db, storage.CLI, "coordinator_add", subject_user_id=args.id)
    print(f"{args.id} is a coordinator now; the running bot knows at their next message")
    return 0


async def _coordinator_remove(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        if not await storage.remove_coordinator(db, args.id):
            where = (
                "in the config file: remove it from [telegram] coordinators there"
                if args.id in config.telegram.coordinators
                else "not a stored coordinator"
            )
            raise admin.AdminError(f"{args.id} is {where}")
        await storage.record_audit(db, storage.CLI, "coordinator_remove", subject_user_id=args.id)
    print(f"{args.id} is no coordinator any more")
    return 0


async def _coordinator_invite(args: argparse.Namespace, config: Config) -> int:
    hours = args.hours or config.telegram.coordinator_invite_hours
    if not 1 <= hours <= 720:
        raise admin.AdminError(f"--hours {hours}: choose 1 to 720 hours")
    async with await storage.open_database(config.storage.path) as db:
        code = await invites.new_coordinator_invite(db, hours, datetime.now(UTC))
    username = await bot_username(config)
    if username:
        print(f"coordinator link: https://t.me/{username}?start={code}")
    else:
        print(f"coordinator code: {code}")
        print("set [telegram] bot_username or a token in the config to get the link")
    print(f"valid for {hours} hours, for one person: whoever opens it first becomes a coordinator")
    return 0


async def _coordinator_list(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        stored = await storage.list_coordinators(db)
    for user_id in config.telegram.coordinators:
        print(f"{user_id:<14} config file")
    for coordinator in stored:
        print(f"{coordinator.telegram_user_id:<14} added {coordinator.added_at:%Y-%m-%d %H:%M} UTC")
    if not stored and not config.telegram.coordinators:
        print("no coordinators yet; add one with: chancencheck coordinator add TELEGRAM_USER_ID")
    return 0


def _positive(user_id: int) -> None:
    if user_id <= 0:
        raise admin.AdminError(f"{user_id} is no Telegram user id: they are positive numbers")


async def _retention(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        purge = await privacy.retention(
            db, args.older_than_years, datetime.now(UTC), args.dry_run, config.replication.enabled
        )
    verb = "would delete" if args.dry_run else "deleted"
    rounds = ", ".join(purge.cycles) or "none"
    rows = ", ".join(f"{n} {table}" for table, n in purge.counts.items() if n) or "nothing"
    print(f"rounds closed more than {args.older_than_years} years ago: {rounds}")
    print(f"{verb}: {rows}")
    return 0


async def _audit(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        entries = await storage.recent_audit(db, max(args.limit, 1))
    if not entries:
        print("the audit log is empty")
    for entry in entries:
        print(audit.describe(entry))
    return 0
