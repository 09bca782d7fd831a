"""Cycles: assessment rounds with a deadline, in which every institution answers one check."""

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Database
from storage.errors import DuplicateError, NotFoundError
from storage.sql import fetch_all, fetch_one
from storage.times import date_from_text, date_to_text, from_text, maybe_from_text, to_text, utc_now


@dataclass(frozen=True)
class Cycle:
    id: int
    name: str
    catalogue_id: str
    catalogue_version: str
    opened_at: datetime
    deadline: date
    closed_at: datetime | None
    previous_id: int | None = None  # the round before this one; None if first or deleted
    catalogue: str | None = None  # the catalogue's content as JSON; None before issue 15
    previous_name: str | None = None  # kept when the previous round is deleted

    @property
    def previous_deleted(self) -> bool:
        """Tell whether the round before this one was deleted (retention)."""
        return self.previous_id is None and self.previous_name is not None


def _cycle(row: sqlite3.Row) -> Cycle:
    return Cycle(
        id=row["id"],
        name=row["name"],
        catalogue_id=row["catalogue_id"],
        catalogue_version=row["catalogue_version"],
        opened_at=from_text(row["opened_at"]),
        deadline=date_from_text(row["deadline"]),
        closed_at=maybe_from_text(row["closed_at"]),
        previous_id=row["previous_id"],
        catalogue=row["catalogue"],
        previous_name=row["previous_name"],
    )


async def open_cycle(
    db: Database,
    name: str,
    catalogue_id: str,
    catalogue_version: str,
    deadline: date,
    now: datetime | None = None,
    catalogue: str | None = None,
) -> Cycle:
    """Open a cycle after the latest one and create an open check in it for every institution."""
    insert = """
        INSERT INTO cycles (name, catalogue_id, catalogue_version, opened_at, deadline,
            catalogue, previous_id, previous_name)
        SELECT ?, ?, ?, ?, ?, ?, latest.id, latest.name
        FROM (SELECT 1) LEFT JOIN (
            SELECT id, name FROM cycles ORDER BY opened_at DESC, id DESC LIMIT 1) AS latest
        RETURNING *
    """
    params = (name, catalogue_id, catalogue_version, to_text(now or utc_now()))
    try:
        row = await fetch_one(db.writer, insert, (*params, date_to_text(deadline), catalogue))
    except sqlite3.IntegrityError as exc:
        if "cycles.name" not in str(exc):
            raise
        raise DuplicateError(f"a cycle named {name!r} already exists") from None
    assert row is not None  # RETURNING gives the inserted row
    checks = "INSERT INTO checks (institution_id, cycle_id) SELECT id, ? FROM institutions"
    await db.writer.execute(checks, (row["id"],))
    return _cycle(row)


async def current_cycle(db: Database) -> Cycle | None:
    """Return the most recently opened cycle that is not closed, or None."""
    sql = """
        SELECT * FROM cycles WHERE closed_at IS NULL
        ORDER BY opened_at DESC, id DESC
        LIMIT 1
    """
    row = await fetch_one(db.conn, sql)
    return None if row is None else _cycle(row)


async def cycle_by_id(db: Database, cycle_id: int) -> Cycle | None:
    """Return the cycle with this id, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM cycles WHERE id = ?", (cycle_id,))
    return None if row is None else _cycle(row)


async def cycle_by_name(db: Database, name: str) -> Cycle | None:
    """Return the cycle with this name, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM cycles WHERE name = ?", (name,))
    return None if row is None else _cycle(row)


async def list_cycles(db: Database) -> list[Cycle]:
    """Return all cycles, oldest first."""
    rows = await fetch_all(db.conn, "SELECT * FROM cycles ORDER BY opened_at, id")
    return [_cycle(row) for row in rows]


async def close_cycle(db: Database, cycle_id: int, now: datetime | None = None) -> Cycle:
    """Close a cycle; closing it again keeps the first closing time."""
    sql = "UPDATE cycles SET closed_at = coalesce(closed_at, ?) WHERE id = ? RETURNING *"
    row = await fetch_one(db.writer, sql, (to_text(now or utc_now()), cycle_id))
    if row is None:
        raise NotFoundError(f"there is no cycle with id {cycle_id}")
    return _cycle(row)
