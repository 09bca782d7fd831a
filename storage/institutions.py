"""Institutions: the departments and partners that each answer one check per cycle."""

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.checks import check_for
from storage.cycles import current_cycle
from storage.db import Database
from storage.errors import DuplicateError
from storage.sql import fetch_all, fetch_one
from storage.times import from_text, to_text, utc_now

SHORT = re.compile(r"[A-Za-z0-9]{1,12}")


@dataclass(frozen=True)
class Institution:
    id: int
    short: str
    name: str
    invite_code: str
    created_at: datetime


def _institution(row: sqlite3.Row) -> Institution:
    return Institution(
        id=row["id"],
        short=row["short"],
        name=row["name"],
        invite_code=row["invite_code"],
        created_at=from_text(row["created_at"]),
    )


async def add_institution(
    db: Database, short: str, name: str, invite_code: str, now: datetime | None = None
) -> Institution:
    """Add an institution and give it a check in the current cycle, if one is open."""
    if not SHORT.fullmatch(short):
        raise ValueError(f"short name {short!r} must be 1 to 12 letters or digits, e.g. ABH")
    sql = """
        INSERT INTO institutions (short, name, invite_code, created_at)
        VALUES (?, ?, ?, ?)
        RETURNING *
    """
    try:
        row = await fetch_one(db.writer, sql, (short, name, invite_code, to_text(now or utc_now())))
    except sqlite3.IntegrityError as exc:
        raise _duplicate(exc, short) from None
    assert row is not None  # RETURNING gives the inserted row
    institution = _institution(row)
    cycle = await current_cycle(db)
    if cycle is not None:
        await check_for(db, institution.id, cycle.id)
    return institution


def _duplicate(exc: sqlite3.IntegrityError, short: str) -> Exception:
    """Name the unique value that is taken, or return the original error."""
    if "institutions.short" in str(exc):
        return DuplicateError(f"an institution with the short name {short!r} already exists")
    if "institutions.invite_code" in str(exc):
        return DuplicateError("this invite code is already used by another institution")
    return exc


async def institution_by_id(db: Database, institution_id: int) -> Institution | None:
    """Return the institution with this id, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM institutions WHERE id = ?", (institution_id,))
    return None if row is None else _institution(row)


async def institution_by_short(db: Database, short: str) -> Institution | None:
    """Return the institution with this short name, ignoring case, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM institutions WHERE short = ?", (short,))
    return None if row is None else _institution(row)


async def institution_by_code(db: Database, code: str) -> Institution | None:
    """Return the institution whose invite code this is, or None."""
    row = await fetch_one(db.conn, "SELECT * FROM institutions WHERE invite_code = ?", (code,))
    return None if row is None else _institution(row)


async def list_institutions(db: Database) -> list[Institution]:
    """Return all institutions, ordered by short name."""
    rows = await fetch_all(db.conn, "SELECT * FROM institutions ORDER BY short")
    return [_institution(row) for row in rows]
