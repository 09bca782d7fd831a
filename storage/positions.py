"""Positions: where each member stands in the dialogue of a check."""

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.sql import fetch_one
from storage.times import to_text, utc_now


@dataclass(frozen=True)
class SavedPosition:
    """Where a member stands in a check's dialogue: the question and the engine's phase."""

    requirement_id: str
    question_key: str
    phase: str  # the dialogue engine's phase, stored by its value


async def load_position(db: Database, member_id: int, check_id: int) -> SavedPosition | None:
    """Return the member's saved position in the check, or None."""
    sql = """
        SELECT requirement_id, question_key, phase FROM positions
        WHERE member_id = ? AND check_id = ?
    """
    row = await fetch_one(db.conn, sql, (member_id, check_id))
    if row is None:
        return None
    return SavedPosition(row["requirement_id"], row["question_key"], row["phase"])


async def save_position(
    db: Database,
    member_id: int,
    check_id: int,
    position: SavedPosition,
    now: datetime | None = None,
) -> None:
    """Save the member's position in the check, replacing the previous one."""
    sql = """
        INSERT INTO positions (member_id, check_id, requirement_id, question_key, phase, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (member_id, check_id) DO UPDATE SET
            requirement_id = excluded.requirement_id,
            question_key = excluded.question_key,
            phase = excluded.phase,
            updated_at = excluded.updated_at
    """
    where = (position.requirement_id, position.question_key, position.phase)
    await db.writer.execute(sql, (member_id, check_id, *where, to_text(now or utc_now())))


@dataclass(frozen=True)
class ActiveMessage:
    message_id: int
    asks: str | None  # "requirement_id.question_key" of the question it shows, if any


async def load_active_message(db: Database, member_id: int) -> ActiveMessage | None:
    """Return the member's message that still shows buttons, or None."""
    sql = "SELECT message_id, asks FROM active_messages WHERE member_id = ?"
    row = await fetch_one(db.conn, sql, (member_id,))
    return None if row is None else ActiveMessage(row["message_id"], row["asks"])


async def save_active_message(db: Database, member_id: int, message: ActiveMessage | None) -> None:
    """Remember the member's message with buttons; None when no message has any.

    One statement without BEGIN and COMMIT around it (`Database.write_alone`): it runs after
    every turn, and SQLite commits a single statement as atomically and durably.
    """
    if message is None:
        await db.write_alone("DELETE FROM active_messages WHERE member_id = ?", (member_id,))
        return
    sql = """
        INSERT INTO active_messages (member_id, message_id, asks) VALUES (?, ?, ?)
        ON CONFLICT (member_id) DO UPDATE SET message_id = excluded.message_id, asks = excluded.asks
    """
    await db.write_alone(sql, (member_id, message.message_id, message.asks))
