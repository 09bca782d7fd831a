"""Reminders: deadline changes and the messages members get about a deadline, each once.

A reminder row is written (status "sending") before its message goes to Telegram and updated
after: a row that exists is never sent again, whatever happened to it. "pending" is the one
status that may be (re)tried: decided but not tried yet, or surely not delivered.
"""

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from storage.checks import Check, _check
from storage.db import Database
from storage.errors import NotFoundError
from storage.sql import fetch_all, fetch_one, fetch_value
from storage.times import date_from_text, date_to_text, from_text, to_text, utc_now

REMINDER = "reminder"  # a planned reminder, so many days before the deadline
DEADLINE_MOVED = "deadline_moved"  # the notice that a coordinator moved the deadline
# Statuses a reminder can be given after an attempt; "sent" has its own function.
OUTCOMES = ("pending", "failed", "uncertain", "dropped")


@dataclass(frozen=True)
class DeadlineChange:
    id: int
    cycle_id: int
    old_deadline: date
    new_deadline: date
    changed_by: int | None  # the coordinator's Telegram user id; None from the command line
    changed_at: datetime


@dataclass(frozen=True)
class Reminder:
    id: int
    key: str  # names the message, e.g. "reminder:3:2027-03-31:7:12"
    cycle_id: int
    member_id: int
    kind: str  # REMINDER or DEADLINE_MOVED
    deadline: date  # the deadline the message is about
    days_before: int | None  # the planned offset of a reminder; None for a notice
    status: str  # pending, sending, sent, failed, uncertain or dropped
    attempts: int
    created_at: datetime
    updated_at: datetime
    message_id: int | None  # Telegram's id of the sent message
    error: str | None


def _change(row: sqlite3.Row) -> DeadlineChange:
    return DeadlineChange(
        id=row["id"],
        cycle_id=row["cycle_id"],
        old_deadline=date_from_text(row["old_deadline"]),
        new_deadline=date_from_text(row["new_deadline"]),
        changed_by=row["changed_by"],
        changed_at=from_text(row["changed_at"]),
    )


def _reminder(row: sqlite3.Row) -> Reminder:
    return Reminder(
        id=row["id"],
        key=row["key"],
        cycle_id=row["cycle_id"],
        member_id=row["member_id"],
        kind=row["kind"],
        deadline=date_from_text(row["deadline"]),
        days_before=row["days_before"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        message_id=row["message_id"],
        error=row["error"],
    )


async def set_deadline(
    db: Database,
    cycle_id: int,
    deadline: date,
    changed_by: int | None = None,
    now: datetime | None = None,
) -> DeadlineChange:
    """Move a cycle's deadline and record the change, or raise NotFoundError."""
    old = await fetch_value(db.writer, "SELECT deadline FROM cycles WHERE id = ?", (cycle_id,))
    if old is None:
        raise NotFoundError(f"there is no cycle with id {cycle_id}")
    new = date_to_text(deadline)
    await db.writer.execute("UPDATE cycles SET deadline = ? WHERE id = ?", (new, cycle_id))
    insert = """
        INSERT INTO deadline_changes (cycle_id, old_deadline, new_deadline, changed_by, changed_at)
        VALUES (?, ?, ?, ?, ?)
        RETURNING *
    """
    params = (cycle_id, old, new, changed_by, to_text(now or utc_now()))
    row = await fetch_one(db.writer, insert, params)
    assert row is not None  # RETURNING gives the inserted row
    return _change(row)


async def last_deadline_change(db: Database, cycle_id: int) -> DeadlineChange | None:
    """Return the latest change of the cycle's deadline, or None if it never moved."""
    sql = "SELECT * FROM deadline_changes WHERE cycle_id = ? ORDER BY id DESC LIMIT 1"
    row = await fetch_one(db.conn, sql, (cycle_id,))
    return None if row is None else _change(row)


async def checks_in_cycle(db: Database, cycle_id: int) -> list[Check]:
    """Return the checks of a cycle, one per institution that has one, by institution."""
    sql = "SELECT * FROM checks WHERE cycle_id = ? ORDER BY institution_id"
    return [_check(row) for row in await fetch_all(db.conn, sql, (cycle_id,))]


async def reminders_of_cycle(db: Database, cycle_id: int) -> list[Reminder]:
    """Return every reminder and notice of a cycle, oldest first."""
    sql = "SELECT * FROM reminders WHERE cycle_id = ? ORDER BY id"
    return [_reminder(row) for row in await fetch_all(db.conn, sql, (cycle_id,))]


async def claim_reminder(
    db: Database,
    key: str,
    cycle_id: int,
    member_id: int,
    deadline: date,
    days_before: int,
    now: datetime | None = None,
) -> Reminder | None:
    """Mark a planned reminder as being sent; None if it was handled before.

    A new key, or one left pending by a failure that surely sent nothing, is claimed; any
    other existing row is never claimed again. An older reminder of the member that is still
    pending is dropped: a member gets the latest reminder, not a backlog.
    """
    stamp = to_text(now or utc_now())
    supersede = """
        UPDATE reminders SET status = 'dropped', updated_at = ?, error = 'superseded'
        WHERE cycle_id = ? AND member_id = ? AND kind = 'reminder' AND status = 'pending'
            AND key <> ?
    """
    await db.writer.execute(supersede, (stamp, cycle_id, member_id, key))
    claim = """
        INSERT INTO reminders (key, cycle_id, member_id, kind, deadline, days_before, status,
                               attempts, created_at, updated_at)
        VALUES (?, ?, ?, 'reminder', ?, ?, 'sending', 1, ?, ?)
        ON CONFLICT (key) DO UPDATE SET
            status = 'sending', attempts = attempts + 1, updated_at = excluded.updated_at
            WHERE reminders.status = 'pending'
        RETURNING *
    """
    params = (key, cycle_id, member_id, date_to_text(deadline), days_before, stamp, stamp)
    row = await fetch_one(db.writer, claim, params)
    return None if row is None else _reminder(row)


async def queue_notice(
    db: Database,
    key: str,
    cycle_id: int,
    member_id: int,
    deadline: date,
    now: datetime | None = None,
) -> Reminder:
    """Queue the notice of a moved deadline for a member; a key queued before stays as it is."""
    stamp = to_text(now or utc_now())
    insert = """
        INSERT INTO reminders (key, cycle_id, member_id, kind, deadline, status, created_at,
                               updated_at)
        VALUES (?, ?, ?, 'deadline_moved', ?, 'pending', ?, ?)
        ON CONFLICT (key) DO NOTHING
    """
    params = (key, cycle_id, member_id, date_to_text(deadline), stamp, stamp)
    await db.writer.execute(insert, params)
    row = await fetch_one(db.writer, "SELECT * FROM reminders WHERE key = ?", (key,))
    assert row is not None  # inserted above if it was missing
    return _reminder(row)


async def pending_notices(db: Database) -> list[Reminder]:
    """Return the deadline notices waiting to be sent, oldest first."""
    sql = """
        SELECT * FROM reminders WHERE status = 'pending' AND kind = 'deadline_moved'
        ORDER BY id
    """
    return [_reminder(row) for row in await fetch_all(db.conn, sql)]


async def claim_pending(
    db: Database, reminder_id: int, now: datetime | None = None
) -> Reminder | None:
    """Mark a pending message as being sent; None if it is no longer pending."""
    sql = """
        UPDATE reminders SET status = 'sending', attempts = attempts + 1, updated_at = ?
        WHERE id = ? AND status = 'pending'
        RETURNING *
    """
    row = await fetch_one(db.writer, sql, (to_text(now or utc_now()), reminder_id))
    return None if row is None else _reminder(row)


async def mark_reminder_sent(
    db: Database, reminder_id: int, message_id: int, now: datetime | None = None
) -> Reminder:
    """Record that Telegram accepted the message under message_id."""
    sql = """
        UPDATE reminders SET status = 'sent', message_id = ?, error = NULL, updated_at = ?
        WHERE id = ?
        RETURNING *
    """
    return await _updated(db, reminder_id, sql, (message_id, to_text(now or utc_now())))


async def mark_reminder(
    db: Database, reminder_id: int, status: str, error: str | None, now: datetime | None = None
) -> Reminder:
    """Record the outcome of an attempt: pending (try again), failed, uncertain or dropped."""
    if status not in OUTCOMES:
        raise ValueError(f"status {status!r} is not one of {', '.join(OUTCOMES)}")
    sql = "UPDATE reminders SET status = ?, error = ?, updated_at = ? WHERE id = ? RETURNING *"
    return await _updated(db, reminder_id, sql, (status, error, to_text(now or utc_now())))


async def abandon_sending(db: Database, now: datetime | None = None) -> int:
    """Mark messages a crash left in "sending" as uncertain; return how many there were."""
    # Their fate is unknown: Telegram may have delivered them just before the crash.
    sql = """
        UPDATE reminders SET status = 'uncertain', updated_at = ?,
            error = 'interrupted while sending'
        WHERE status = 'sending'
    """
    cursor = await db.writer.execute(sql, (to_text(now or utc_now()),))
    return cursor.rowcount


async def _updated(
    db: Database, reminder_id: int, sql: str, params: tuple[object, ...]
) -> Reminder:
    """Run an update of one reminder and return it, or raise NotFoundError."""
    row = await fetch_one(db.writer, sql, (*params, reminder_id))
    if row is None:
        raise NotFoundError(f"there is no reminder with id {reminder_id}")
    return _reminder(row)


async def in_outbox(db: Database, key: str) -> bool:
    """Tell whether a message with this key was ever queued in the outbox."""
    return bool(await fetch_value(db.conn, "SELECT 1 FROM outbox WHERE key = ?", (key,)))
