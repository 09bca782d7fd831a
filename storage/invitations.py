"""Invite codes as stored (a fingerprint, never the code) and the wrong codes each user tried."""

import hashlib
from datetime import datetime

from storage.db import Database
from storage.sql import fetch_all
from storage.times import from_text, to_text


def invite_hash(code: str) -> str:
    """Return the stored fingerprint of an invite code: its SHA-256 as hex."""
    # A plain hash suffices: the codes are random with at least 96 bits, so neither a
    # dictionary nor a brute-force search can find a code from its hash.
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


async def record_invite_failure(db: Database, telegram_user_id: int, now: datetime) -> None:
    """Record that the user tried a wrong invite code; the code itself is not kept."""
    insert = "INSERT INTO invite_failures (telegram_user_id, failed_at) VALUES (?, ?)"
    await db.writer.execute(insert, (telegram_user_id, to_text(now)))


async def forget_invite_failures(db: Database, before: datetime) -> None:
    """Delete everyone's wrong-code records older than the moment: the limit needs no more."""
    await db.writer.execute("DELETE FROM invite_failures WHERE failed_at < ?", (to_text(before),))


async def invite_failures_since(
    db: Database, telegram_user_id: int, since: datetime
) -> list[datetime]:
    """Return when the user tried a wrong invite code since the given moment, oldest first."""
    sql = """
        SELECT failed_at FROM invite_failures
        WHERE telegram_user_id = ? AND failed_at >= ?
        ORDER BY failed_at
    """
    rows = await fetch_all(db.conn, sql, (telegram_user_id, to_text(since)))
    return [from_text(row[0]) for row in rows]
