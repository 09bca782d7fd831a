"""Coordinators added at run time (`chancencheck coordinator add`); config names the others."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.sql import fetch_all
from storage.times import from_text, to_text, utc_now


@dataclass(frozen=True)
class StoredCoordinator:
    telegram_user_id: int
    added_at: datetime


def _coordinator(row: sqlite3.Row) -> StoredCoordinator:
    return StoredCoordinator(row["telegram_user_id"], from_text(row["added_at"]))


async def add_coordinator(db: Database, telegram_user_id: int, now: datetime | None = None) -> bool:
    """Store a coordinator; return False if they were stored already."""
    sql = """
        INSERT INTO coordinators (telegram_user_id, added_at) VALUES (?, ?)
        ON CONFLICT (telegram_user_id) DO NOTHING
    """
    cursor = await db.writer.execute(sql, (telegram_user_id, to_text(now or utc_now())))
    return cursor.rowcount == 1


async def remove_coordinator(db: Database, telegram_user_id: int) -> bool:
    """Remove a stored coordinator; return False if there was none with this id."""
    sql = "DELETE FROM coordinators WHERE telegram_user_id = ?"
    cursor = await db.writer.execute(sql, (telegram_user_id,))
    return cursor.rowcount == 1


async def list_coordinators(db: Database) -> list[StoredCoordinator]:
    """Return the stored coordinators, earliest added first."""
    sql = "SELECT * FROM coordinators ORDER BY added_at, telegram_user_id"
    rows = await fetch_all(db.conn, sql)
    return [_coordinator(row) for row in rows]


async def coordinator_ids(db: Database) -> frozenset[int]:
    """Return the Telegram user ids of the stored coordinators."""
    rows = await fetch_all(db.conn, "SELECT telegram_user_id FROM coordinators")
    return frozenset(int(row[0]) for row in rows)


async def data_version(db: Database) -> int:
    """Return SQLite's data_version: it changes when another connection (the CLI) commits."""
    rows = await fetch_all(db.conn, "PRAGMA data_version")
    return int(rows[0][0])


async def create_coordinator_invite(
    db: Database, code_hash: str, expires_at: datetime, now: datetime | None = None
) -> None:
    """Store a one-time coordinator link by its code's hash."""
    sql = "INSERT INTO coordinator_invites (code_hash, created_at, expires_at) VALUES (?, ?, ?)"
    await db.writer.execute(sql, (code_hash, to_text(now or utc_now()), to_text(expires_at)))


async def claim_coordinator_invite(
    db: Database, code_hash: str, telegram_user_id: int, now: datetime | None = None
) -> bool:
    """Use up an unexpired, unused coordinator link; return whether it was one."""
    stamp = to_text(now or utc_now())
    sql = """
        UPDATE coordinator_invites SET used_at = ?, used_by = ?
        WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?
    """
    cursor = await db.writer.execute(sql, (stamp, telegram_user_id, code_hash, stamp))
    return cursor.rowcount == 1
