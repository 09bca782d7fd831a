"""Members: the Telegram users who answer their institution's check."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.errors import NotFoundError
from storage.handovers import revoke_handovers_of_member
from storage.sql import fetch_all, fetch_one, fetch_value
from storage.times import from_text, to_text, utc_now


@dataclass(frozen=True)
class Member:
    id: int
    telegram_user_id: int | None  # None for a former member
    institution_id: int
    role: str  # "member" or "coordinator"
    first_name: str | None  # None for a former member
    language: str  # "de" or "en"
    reminders_enabled: bool
    plain_mode: bool  # the screen-reader friendly mode of /barrierefrei
    unreachable: bool
    joined_at: datetime
    last_seen_at: datetime


def _member(row: sqlite3.Row) -> Member:
    return Member(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        institution_id=row["institution_id"],
        role=row["role"],
        first_name=row["first_name"],
        language=row["language"],
        reminders_enabled=bool(row["reminders_enabled"]),
        plain_mode=bool(row["plain_mode"]),
        unreachable=bool(row["unreachable"]),
        joined_at=from_text(row["joined_at"]),
        last_seen_at=from_text(row["last_seen_at"]),
    )


async def join_institution(
    db: Database,
    telegram_user_id: int,
    institution_id: int,
    first_name: str | None,
    language: str,
    now: datetime | None = None,
) -> Member:
    """Add the user as a member of the institution, or move the existing member there."""
    # A move keeps the member's id, role and reminder choice; their earlier answers keep
    # their author.
    sql = """
        INSERT INTO members
            (telegram_user_id, institution_id, first_name, language, joined_at, last_seen_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (telegram_user_id) DO UPDATE SET
            institution_id = excluded.institution_id,
            first_name = excluded.first_name,
            language = excluded.language,
            joined_at = CASE WHEN institution_id = excluded.institution_id
                THEN joined_at ELSE excluded.joined_at END,
            last_seen_at = excluded.last_seen_at,
            unreachable = 0
        RETURNING *
    """
    stamp = to_text(now or utc_now())
    params = (telegram_user_id, institution_id, first_name, language, stamp, stamp)
    row = await fetch_one(db.writer, sql, params)
    assert row is not None  # RETURNING gives the inserted or updated row
    return _member(row)


async def member_by_user(db: Database, telegram_user_id: int) -> Member | None:
    """Return the member with this Telegram user id, or None."""
    sql = "SELECT * FROM members WHERE telegram_user_id = ?"
    row = await fetch_one(db.conn, sql, (telegram_user_id,))
    return None if row is None else _member(row)


async def institution_of_user(db: Database, telegram_user_id: int) -> str | None:
    """Return the short name of the institution the user belongs to, or None (one query)."""
    sql = """
        SELECT i.short FROM members AS m JOIN institutions AS i ON i.id = m.institution_id
        WHERE m.telegram_user_id = ?
    """
    return await fetch_value(db.conn, sql, (telegram_user_id,))  # type: ignore[no-any-return]


async def member_by_id(db: Database, member_id: int) -> Member | None:
    """Return the member with this id, former members included, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM members WHERE id = ?", (member_id,))
    return None if row is None else _member(row)


async def members_of(db: Database, institution_id: int) -> list[Member]:
    """Return the current (not former) members of an institution, earliest joined first."""
    sql = """
        SELECT * FROM members
        WHERE institution_id = ? AND telegram_user_id IS NOT NULL
        ORDER BY joined_at, id
    """
    return [_member(row) for row in await fetch_all(db.conn, sql, (institution_id,))]


async def set_language(db: Database, member_id: int, language: str) -> Member:
    """Set the language the member is spoken to in."""
    return await _update(db, member_id, "language = ?", language)


async def set_reminders(db: Database, member_id: int, enabled: bool) -> Member:
    """Switch the member's deadline reminders on or off."""
    return await _update(db, member_id, "reminders_enabled = ?", int(enabled))


async def set_plain_mode(db: Database, member_id: int, plain: bool) -> Member:
    """Switch the member's plain mode (words only, one button per row) on or off."""
    return await _update(db, member_id, "plain_mode = ?", int(plain))


async def set_role(db: Database, member_id: int, role: str) -> Member:
    """Make the member a "member" or a "coordinator"."""
    return await _update(db, member_id, "role = ?", role)


async def set_unreachable(db: Database, member_id: int, unreachable: bool) -> Member:
    """Record whether Telegram refuses messages to the member (e.g. they blocked the bot)."""
    return await _update(db, member_id, "unreachable = ?", int(unreachable))


async def touch_member(db: Database, member_id: int, now: datetime | None = None) -> Member:
    """Record that the member was active now, which also proves them reachable."""
    return await _update(
        db, member_id, "last_seen_at = ?, unreachable = 0", to_text(now or utc_now())
    )


async def forget_member(db: Database, member_id: int) -> Member:
    """Turn the member into a former member: Telegram id, name and dialogue position go."""
    # The row stays because answers and submissions name it as their author.
    await db.writer.execute("DELETE FROM positions WHERE member_id = ?", (member_id,))
    await revoke_handovers_of_member(db, member_id, utc_now())  # their links die with them
    await db.writer.execute("DELETE FROM reason_requests WHERE member_id = ?", (member_id,))
    sql = "telegram_user_id = NULL, first_name = NULL, reminders_enabled = 0"
    return await _update(db, member_id, sql)


async def _update(db: Database, member_id: int, assignments: str, *values: object) -> Member:
    """Set columns of one member and return the member, or raise NotFoundError."""
    sql = f"UPDATE members SET {assignments} WHERE id = ? RETURNING *"
    row = await fetch_one(db.writer, sql, (*values, member_id))
    if row is None:
        raise NotFoundError(f"there is no member with id {member_id}")
    return _member(row)
