"""Checks: one institution's self-assessment in one cycle, open or submitted."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.errors import NotFoundError
from storage.sql import fetch_one
from storage.times import maybe_from_text, to_text, utc_now


@dataclass(frozen=True)
class Check:
    id: int
    institution_id: int
    cycle_id: int
    status: str  # "open" or "submitted"
    submitted_at: datetime | None  # the latest submission, kept when the check is reopened
    submitted_by: int | None
    reopened_at: datetime | None


def _check(row: sqlite3.Row) -> Check:
    return Check(
        id=row["id"],
        institution_id=row["institution_id"],
        cycle_id=row["cycle_id"],
        status=row["status"],
        submitted_at=maybe_from_text(row["submitted_at"]),
        submitted_by=row["submitted_by"],
        reopened_at=maybe_from_text(row["reopened_at"]),
    )


async def check_for(db: Database, institution_id: int, cycle_id: int) -> Check:
    """Return the institution's check in the cycle, creating an open one if there is none."""
    select = "SELECT * FROM checks WHERE institution_id = ? AND cycle_id = ?"
    # Looked up first: it is there on every turn of the dialogue but the first, and an insert
    # that does nothing still costs a round trip to the database thread.
    row = await fetch_one(db.writer, select, (institution_id, cycle_id))
    if row is None:
        insert = """
            INSERT INTO checks (institution_id, cycle_id) VALUES (?, ?)
            ON CONFLICT (institution_id, cycle_id) DO NOTHING
        """
        await db.writer.execute(insert, (institution_id, cycle_id))
        row = await fetch_one(db.writer, select, (institution_id, cycle_id))
    assert row is not None  # inserted above if it was missing
    return _check(row)


async def check_by_id(db: Database, check_id: int) -> Check | None:
    """Return the check with this id, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM checks WHERE id = ?", (check_id,))
    return None if row is None else _check(row)


async def submit_check(
    db: Database, check_id: int, member_id: int | None, now: datetime | None = None
) -> Check:
    """Mark an open check submitted by the member; a submitted check stays as it is."""
    # Only open checks change, so a double tap on "submit" keeps the first submission.
    sql = """
        UPDATE checks SET status = 'submitted', submitted_at = ?, submitted_by = ?
        WHERE id = ? AND status = 'open'
    """
    await db.writer.execute(sql, (to_text(now or utc_now()), member_id, check_id))
    return await _existing(db, check_id)


async def reopen_check(db: Database, check_id: int, now: datetime | None = None) -> Check:
    """Reopen a submitted check for changes; an open check stays as it is."""
    sql = "UPDATE checks SET status = 'open', reopened_at = ? WHERE id = ? AND status = 'submitted'"
    await db.writer.execute(sql, (to_text(now or utc_now()), check_id))
    return await _existing(db, check_id)


async def _existing(db: Database, check_id: int) -> Check:
    """Return the check with this id, or raise NotFoundError."""
    check = await check_by_id(db, check_id)
    if check is None:
        raise NotFoundError(f"there is no check with id {check_id}")
    return check
