"""Institutions: the departments and partners that each answer one check per cycle."""

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.checks import check_for
from storage.cycles import current_cycle
from storage.db import Database
from storage.errors import DuplicateError, NotFoundError
from storage.handovers import revoke_handovers_of_institution
from storage.invitations import invite_hash
from storage.sql import fetch_all, fetch_one, fetch_value
from storage.times import from_text, to_text, utc_now

SHORT = re.compile(r"[A-Za-z0-9]{1,12}")


@dataclass(frozen=True)
class Institution:
    id: int
    short: str
    name: str
    invite_hash: str  # SHA-256 of the invite code; the code itself is never stored
    created_at: datetime


def _institution(row: sqlite3.Row) -> Institution:
    return Institution(
        id=row["id"],
        short=row["short"],
        name=row["name"],
        invite_hash=row["invite_hash"],
        created_at=from_text(row["created_at"]),
    )


async def add_institution(
    db: Database, short: str, name: str, invite_code: str, now: datetime | None = None
) -> Institution:
    """Add an institution with the invite code's hash and a check in the open cycle, if any."""
    if not SHORT.fullmatch(short):
        raise ValueError(f"short name {short!r} must be 1 to 12 letters or digits, e.g. ABH")
    sql = """
        INSERT INTO institutions (short, name, invite_hash, created_at)
        VALUES (?, ?, ?, ?)
        RETURNING *
    """
    try:
        params = (short, name, invite_hash(invite_code), to_text(now or utc_now()))
        row = await fetch_one(db.writer, sql, params)
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
    if "institutions.invite_hash" in str(exc):
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
    sql = "SELECT * FROM institutions WHERE invite_hash = ?"
    row = await fetch_one(db.conn, sql, (invite_hash(code),))
    return None if row is None else _institution(row)


async def list_institutions(db: Database) -> list[Institution]:
    """Return all institutions, ordered by short name."""
    rows = await fetch_all(db.conn, "SELECT * FROM institutions ORDER BY short")
    return [_institution(row) for row in rows]


async def rename_institution(db: Database, institution_id: int, name: str) -> Institution:
    """Give the institution a new full name; its short name stays."""
    sql = "UPDATE institutions SET name = ? WHERE id = ? RETURNING *"
    return await _one(db, sql, (name, institution_id), institution_id)


async def replace_invite_code(db: Database, institution_id: int, invite_code: str) -> Institution:
    """Store a new invite code's hash; the old code stops working at once."""
    sql = "UPDATE institutions SET invite_hash = ? WHERE id = ? RETURNING *"
    institution = await _one(db, sql, (invite_hash(invite_code), institution_id), institution_id)
    # A handover link is as strong as the invite, so a rotated invite takes them all along.
    await revoke_handovers_of_institution(db, institution_id, utc_now())
    return institution


async def answers_of_institution(db: Database, institution_id: int) -> int:
    """Return how many answer revisions the institution's checks hold, in all cycles."""
    sql = """
        SELECT count(*) FROM answers
        WHERE check_id IN (SELECT id FROM checks WHERE institution_id = ?)
    """
    return int(await fetch_value(db.conn, sql, (institution_id,)))


async def _one(
    db: Database, sql: str, params: tuple[object, ...], institution_id: int
) -> Institution:
    row = await fetch_one(db.writer, sql, params)
    if row is None:
        raise NotFoundError(f"there is no institution with id {institution_id}")
    return _institution(row)
