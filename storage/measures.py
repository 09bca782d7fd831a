"""Measures: the improvement plan, with owner, due month, status, history and follow-ups.

A follow-up ask is written (status "sending") before its message goes to Telegram, as the
reminders are: an ask that has a row is never sent again, so a crash leaves at most a lost
question, never a doubled one.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.sql import fetch_all, fetch_one, fetch_value
from storage.times import from_text, to_text

STATUSES = ("geplant", "in_arbeit", "umgesetzt", "verworfen")
OPEN_STATUSES = ("geplant", "in_arbeit")


@dataclass(frozen=True)
class Measure:
    id: int
    institution_id: int
    cycle_id: int
    check_id: int
    requirement_id: str
    text: str
    batch: int  # the reply it came from: one reply, one owner and month
    entered_by: int | None  # member id of who typed it
    owner_member_id: int | None
    owner_name: str | None  # a typed name (free text) when the owner is no member
    due_month: str | None  # "YYYY-MM"
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MeasureChange:
    measure_id: int
    at: datetime
    member_id: int | None
    coordinator: int | None
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class NewMeasure:
    institution_id: int
    cycle_id: int
    check_id: int
    requirement_id: str
    text: str
    entered_by: int


def _measure(row: sqlite3.Row) -> Measure:
    return Measure(
        id=row["id"],
        institution_id=row["institution_id"],
        cycle_id=row["cycle_id"],
        check_id=row["check_id"],
        requirement_id=row["requirement_id"],
        text=row["text"],
        batch=row["batch"],
        entered_by=row["entered_by"],
        owner_member_id=row["owner_member_id"],
        owner_name=row["owner_name"],
        due_month=row["due_month"],
        status=row["status"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
    )


async def replace_unstarted(
    db: Database, check_id: int, requirement_id: str, texts: list[NewMeasure], now: datetime
) -> int:
    """Store a reply's measures as a new batch; drop the requirement's untouched ones first.

    A member who rewrites the measures of a requirement replaces the planned ones nobody has
    followed up yet; measures with a status or a follow-up stay, they are commitments.
    """
    drop = """
        DELETE FROM measures WHERE check_id = ? AND requirement_id = ? AND status = 'geplant'
            AND NOT EXISTS (SELECT 1 FROM measure_asks a WHERE a.measure_id = measures.id)
            AND NOT EXISTS (SELECT 1 FROM measure_changes c WHERE c.measure_id = measures.id
                            AND c.field IN ('status', 'carried_from'))
    """
    await db.writer.execute(drop, (check_id, requirement_id))
    batch = int(await fetch_value(db.writer, "SELECT coalesce(max(batch), 0) + 1 FROM measures"))
    insert = """
        INSERT INTO measures (institution_id, cycle_id, check_id, requirement_id, text, batch,
                              entered_by, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    """
    stamp = to_text(now)
    for m in texts:
        params = (
            m.institution_id,
            m.cycle_id,
            m.check_id,
            m.requirement_id,
            m.text,
            batch,
            m.entered_by,
            stamp,
            stamp,
        )
        await db.writer.execute(insert, params)
    return batch


async def carry_measure(
    db: Database, source: Measure, check_id: int, cycle_id: int, member_id: int, now: datetime
) -> Measure | None:
    """Copy an open measure of the round before into a check, once; None if already there.

    The copy keeps text, owner, due month and status; its history starts with a
    "carried_from" entry naming the source measure, which is also how a second carry is
    recognised (a double tap, or "Stimmt noch so" after a single carry).
    """
    if source.id in await carried_sources(db, check_id):
        return None
    batch = int(await fetch_value(db.writer, "SELECT coalesce(max(batch), 0) + 1 FROM measures"))
    insert = """
        INSERT INTO measures (institution_id, cycle_id, check_id, requirement_id, text, batch,
                              entered_by, owner_member_id, owner_name, due_month, status,
                              created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *
    """
    stamp = to_text(now)
    params = (
        source.institution_id,
        cycle_id,
        check_id,
        source.requirement_id,
        source.text,
        batch,
        source.entered_by,
        source.owner_member_id,
        source.owner_name,
        source.due_month,
        source.status,
        stamp,
        stamp,
    )
    row = await fetch_one(db.writer, insert, params)
    assert row is not None
    history = """
        INSERT INTO measure_changes (measure_id, at, member_id, field, old, new)
        VALUES (?, ?, ?, 'carried_from', NULL, ?)
    """
    await db.writer.execute(history, (row["id"], stamp, member_id, str(source.id)))
    return _measure(row)


async def carried_sources(db: Database, check_id: int) -> dict[int, int]:
    """Return {measure of the round before: its copy} for the measures carried into a check."""
    sql = """
        SELECT CAST(c.new AS INTEGER) AS source, m.id AS copy FROM measure_changes c
        JOIN measures m ON m.id = c.measure_id
        WHERE m.check_id = ? AND c.field = 'carried_from'
    """
    return {r["source"]: r["copy"] for r in await fetch_all(db.writer, sql, (check_id,))}


async def measures_of_batch(db: Database, batch: int) -> list[Measure]:
    sql = "SELECT * FROM measures WHERE batch = ? ORDER BY id"
    return [_measure(r) for r in await fetch_all(db.conn, sql, (batch,))]


async def measure_by_id(db: Database, measure_id: int) -> Measure | None:
    row = await fetch_one(db.conn, "SELECT * FROM measures WHERE id = ?", (measure_id,))
    return None if row is None else _measure(row)


async def list_measures(
    db: Database, institution_id: int | None = None, cycle_id: int | None = None
) -> list[Measure]:
    """Return measures, optionally of one institution and/or round, by institution and id.

    Without a round this is the plan as it stands: a measure carried into a later round is
    represented by its copy there (so it is listed, counted and followed up once); with a
    round, all of that round's measures, carried on or not.
    """
    sql = """
        SELECT * FROM measures WHERE (?1 IS NULL OR institution_id = ?1)
            AND (?2 IS NULL OR cycle_id = ?2)
            AND (?2 IS NOT NULL OR id NOT IN (
                SELECT CAST(new AS INTEGER) FROM measure_changes WHERE field = 'carried_from'))
        ORDER BY institution_id, cycle_id, id
    """
    return [_measure(r) for r in await fetch_all(db.conn, sql, (institution_id, cycle_id))]


async def update_measure(
    db: Database,
    measure_id: int,
    field: str,
    value: str | int | None,
    by_member: int | None,
    now: datetime,
    coordinator: int | None = None,
) -> Measure | None:
    """Change one field (status, due_month, owner_member_id, owner_name) and record it."""
    if field not in ("status", "due_month", "owner_member_id", "owner_name"):
        raise ValueError(f"{field!r} cannot be changed")
    old = await fetch_value(db.writer, f"SELECT {field} FROM measures WHERE id = ?", (measure_id,))
    sql = f"UPDATE measures SET {field} = ?, updated_at = ? WHERE id = ? RETURNING *"
    row = await fetch_one(db.writer, sql, (value, to_text(now), measure_id))
    if row is None:
        return None
    if old != value:
        history = """
            INSERT INTO measure_changes (measure_id, at, member_id, coordinator, field, old, new)
            VALUES (?, ?, ?, ?, ?, ?, ?)
        """
        params = (measure_id, to_text(now), by_member, coordinator, field, _text(old), _text(value))
        await db.writer.execute(history, params)
    return _measure(row)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def changes_of(db: Database, measure_id: int) -> list[MeasureChange]:
    sql = "SELECT * FROM measure_changes WHERE measure_id = ? ORDER BY id"
    return [
        MeasureChange(
            r["measure_id"],
            from_text(r["at"]),
            r["member_id"],
            r["coordinator"],
            r["field"],
            r["old"],
            r["new"],
        )
        for r in await fetch_all(db.conn, sql, (measure_id,))
    ]


async def last_changes(db: Database) -> dict[int, datetime]:
    """Return when each measure last changed (its creation when it never did)."""
    sql = "SELECT id, updated_at FROM measures"
    return {r["id"]: from_text(r["updated_at"]) for r in await fetch_all(db.conn, sql)}


# -- follow-up asks ---------------------------------------------------------------------------


async def asks_of(db: Database, measure_id: int) -> list[str]:
    """Return the months a measure was asked about (claimed, whatever the outcome)."""
    sql = "SELECT DISTINCT month FROM measure_asks WHERE measure_id = ? ORDER BY month"
    return [r["month"] for r in await fetch_all(db.conn, sql, (measure_id,))]


async def claim_ask(
    db: Database, measure_id: int, month: str, member_id: int, now: datetime
) -> int | None:
    """Mark a follow-up to a member as being sent; None if it was handled before."""
    sql = """
        INSERT INTO measure_asks (measure_id, month, member_id, status, created_at, updated_at)
        VALUES (?, ?, ?, 'sending', ?, ?)
        ON CONFLICT (measure_id, month, member_id) DO NOTHING
        RETURNING id
    """
    stamp = to_text(now)
    row = await fetch_one(db.writer, sql, (measure_id, month, member_id, stamp, stamp))
    return None if row is None else int(row["id"])


async def release_ask(db: Database, ask_id: int) -> None:
    """Forget a follow-up that surely did not reach Telegram, so the next sweep tries again."""
    await db.writer.execute("DELETE FROM measure_asks WHERE id = ?", (ask_id,))


async def mark_ask(
    db: Database, ask_id: int, status: str, message_id: int | None, error: str | None, now: datetime
) -> None:
    """Record how a follow-up went: sent, failed or uncertain."""
    sql = """
        UPDATE measure_asks SET status = ?, message_id = ?, error = ?, updated_at = ?
        WHERE id = ?
    """
    await db.writer.execute(sql, (status, message_id, error, to_text(now), ask_id))


async def abandon_asks(db: Database, now: datetime) -> int:
    """Mark follow-ups a crash left in "sending" as uncertain: never sent again."""
    sql = """
        UPDATE measure_asks SET status = 'uncertain', error = 'interrupted while sending',
            updated_at = ? WHERE status = 'sending'
    """
    cursor = await db.writer.execute(sql, (to_text(now),))
    return cursor.rowcount


# -- the typed owner name -----------------------------------------------------------------------


async def await_owner_name(db: Database, member_id: int, batch: int, now: datetime) -> None:
    sql = """
        INSERT INTO measure_prompts (member_id, batch, created_at) VALUES (?, ?, ?)
        ON CONFLICT (member_id) DO UPDATE SET batch = excluded.batch,
            created_at = excluded.created_at
    """
    await db.writer.execute(sql, (member_id, batch, to_text(now)))


async def awaited_owner_name(db: Database, member_id: int, since: datetime) -> int | None:
    """Return the batch whose owner's name the member was asked to type after `since`."""
    sql = "SELECT batch FROM measure_prompts WHERE member_id = ? AND created_at >= ?"
    value = await fetch_value(db.conn, sql, (member_id, to_text(since)))
    return None if value is None else int(value)


async def forget_owner_prompt(db: Database, member_id: int) -> None:
    await db.writer.execute("DELETE FROM measure_prompts WHERE member_id = ?", (member_id,))


# -- privacy --------------------------------------------------------------------------------------


async def release_owner(db: Database, member_id: int, now: datetime) -> None:
    """Take a person off the measures they own: the measures stay with the institution."""
    owned = "SELECT id FROM measures WHERE owner_member_id = ?"
    for row in await fetch_all(db.writer, owned, (member_id,)):
        await update_measure(db, row["id"], "owner_member_id", None, None, now)
    await db.writer.execute("DELETE FROM measure_prompts WHERE member_id = ?", (member_id,))


async def forget_coordinator(db: Database, telegram_user_id: int) -> None:
    """Erase a coordinator's Telegram id from the measures' history."""
    sql = "UPDATE measure_changes SET coordinator = NULL WHERE coordinator = ?"
    await db.writer.execute(sql, (telegram_user_id,))


async def owned_by(db: Database, member_id: int) -> list[Measure]:
    sql = "SELECT * FROM measures WHERE owner_member_id = ? ORDER BY id"
    return [_measure(r) for r in await fetch_all(db.conn, sql, (member_id,))]
