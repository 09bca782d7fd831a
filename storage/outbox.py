"""Outbox: messages decided inside a transaction and sent after it, once per key."""

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.errors import NotFoundError
from storage.sql import fetch_all, fetch_one
from storage.times import from_text, maybe_from_text, to_text, utc_now


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    key: str  # names the message so that deciding to send it twice stores it once
    chat_id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None  # None once delivered or given up
    delivered_at: datetime | None
    message_id: int | None  # Telegram's id of the sent message
    last_error: str | None


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        key=row["key"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        created_at=from_text(row["created_at"]),
        attempts=row["attempts"],
        next_attempt_at=maybe_from_text(row["next_attempt_at"]),
        delivered_at=maybe_from_text(row["delivered_at"]),
        message_id=row["message_id"],
        last_error=row["last_error"],
    )


async def enqueue(
    db: Database,
    key: str,
    chat_id: int,
    kind: str,
    payload: Mapping[str, Any],
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue a message for sending now; a key queued before keeps its first message."""
    stamp = to_text(now or utc_now())
    sql = """
        INSERT INTO outbox (key, chat_id, kind, payload, created_at, next_attempt_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO NOTHING
    """
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    await db.writer.execute(sql, (key, chat_id, kind, text, stamp, stamp))
    row = await fetch_one(db.writer, "SELECT * FROM outbox WHERE key = ?", (key,))
    assert row is not None  # inserted above if it was missing
    return _message(row)


async def due(db: Database, now: datetime | None = None, limit: int = 50) -> list[OutboxMessage]:
    """Return undelivered messages whose next attempt is due, oldest first."""
    sql = """
        SELECT * FROM outbox WHERE next_attempt_at <= ?
        ORDER BY next_attempt_at, id
        LIMIT ?
    """
    rows = await fetch_all(db.conn, sql, (to_text(now or utc_now()), limit))
    return [_message(row) for row in rows]


async def mark_delivered(
    db: Database, outbox_id: int, message_id: int, now: datetime | None = None
) -> OutboxMessage:
    """Record that Telegram accepted the message under message_id; the first record stays."""
    sql = """
        UPDATE outbox SET delivered_at = ?, message_id = ?, next_attempt_at = NULL,
            attempts = attempts + 1, last_error = NULL
        WHERE id = ? AND delivered_at IS NULL
        RETURNING *
    """
    return await _updated(db, outbox_id, sql, (to_text(now or utc_now()), message_id, outbox_id))


async def mark_failed(
    db: Database, outbox_id: int, error: str, retry_at: datetime | None
) -> OutboxMessage:
    """Record a failed attempt and when to try again; retry_at None gives the message up."""
    sql = """
        UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
        WHERE id = ? AND delivered_at IS NULL
        RETURNING *
    """
    retry = None if retry_at is None else to_text(retry_at)
    return await _updated(db, outbox_id, sql, (error, retry, outbox_id))


async def _updated(
    db: Database, outbox_id: int, sql: str, params: tuple[Any, ...]
) -> OutboxMessage:
    """Run an update of one message and return it, or raise NotFoundError."""
    row = await fetch_one(db.writer, sql, params)
    if row is None:
        row = await fetch_one(db.writer, "SELECT * FROM outbox WHERE id = ?", (outbox_id,))
    if row is None:
        raise NotFoundError(f"there is no outbox message with id {outbox_id}")
    return _message(row)


async def retarget(db: Database, old_chat_id: int, new_chat_id: int) -> int:
    """Send undelivered messages for a chat to its new id; return how many moved."""
    sql = "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND delivered_at IS NULL"
    cursor = await db.writer.execute(sql, (new_chat_id, old_chat_id))
    return cursor.rowcount
