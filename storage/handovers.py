"""Requirements a member handed to a colleague by link: stored by the link code's hash."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.sql import fetch_all, fetch_one
from storage.times import from_text, to_text

ACTIVE = "h.ended_at IS NULL AND h.expires_at > ?"


@dataclass(frozen=True)
class Handover:
    id: int
    check_id: int
    institution_id: int
    requirement_id: str
    delegator_id: int
    delegator_name: str | None
    delegate_id: int | None  # None until a colleague opened the link
    delegate_name: str | None
    created_at: datetime
    expires_at: datetime


SELECT = """
    SELECT h.*, c.institution_id, d.first_name AS delegator_name, t.first_name AS delegate_name
    FROM handovers AS h JOIN checks AS c ON c.id = h.check_id
    JOIN members AS d ON d.id = h.delegator_id
    LEFT JOIN members AS t ON t.id = h.delegate_id
"""


def _handover(row: sqlite3.Row) -> Handover:
    return Handover(
        id=row["id"],
        check_id=row["check_id"],
        institution_id=row["institution_id"],
        requirement_id=row["requirement_id"],
        delegator_id=row["delegator_id"],
        delegator_name=row["delegator_name"],
        delegate_id=row["delegate_id"],
        delegate_name=row["delegate_name"],
        created_at=from_text(row["created_at"]),
        expires_at=from_text(row["expires_at"]),
    )


async def create_handover(
    db: Database,
    code_hash: str,
    check_id: int,
    requirement_id: str,
    delegator_id: int,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a new link for the requirement; the member's earlier link for it stops working."""
    await end_handovers(
        db,
        "check_id = ? AND delegator_id = ? AND requirement_id = ?",
        (check_id, delegator_id, requirement_id),
        "revoked",
        now,
    )
    sql = """
        INSERT INTO handovers (code_hash, check_id, requirement_id, delegator_id, created_at,
            expires_at)
        VALUES (?, ?, ?, ?, ?, ?)
    """
    params = (code_hash, check_id, requirement_id, delegator_id, to_text(now), to_text(expires_at))
    await db.writer.execute(sql, params)


async def handover_by_hash(db: Database, code_hash: str, now: datetime) -> Handover | None:
    """Return the open, unexpired handover whose link code has this hash."""
    sql = f"{SELECT} WHERE h.code_hash = ? AND {ACTIVE}"
    row = await fetch_one(db.conn, sql, (code_hash, to_text(now)))
    return _handover(row) if row else None


async def open_handovers(db: Database, check_id: int, now: datetime) -> list[Handover]:
    """Return the check's handovers not yet answered, taken back, revoked or expired."""
    sql = f"{SELECT} WHERE h.check_id = ? AND {ACTIVE} ORDER BY h.id"
    rows = await fetch_all(db.conn, sql, (check_id, to_text(now)))
    return [_handover(row) for row in rows]


async def handovers_to(db: Database, member_id: int, now: datetime) -> list[Handover]:
    """Return the open handovers a member took on by opening a colleague's link."""
    sql = f"{SELECT} WHERE h.delegate_id = ? AND {ACTIVE} ORDER BY h.id"
    rows = await fetch_all(db.conn, sql, (member_id, to_text(now)))
    return [_handover(row) for row in rows]


async def accept_handover(db: Database, handover_id: int, member_id: int) -> None:
    """Record who took the requirement on: the first colleague who opened the link."""
    sql = "UPDATE handovers SET delegate_id = ? WHERE id = ? AND delegate_id IS NULL"
    await db.writer.execute(sql, (member_id, handover_id))


async def end_handover(db: Database, handover_id: int, reason: str, now: datetime) -> None:
    """End one handover: answered, taken back or revoked."""
    await end_handovers(db, "id = ?", (handover_id,), reason, now)


async def end_handovers(
    db: Database, where: str, params: tuple[object, ...], reason: str, now: datetime
) -> None:
    """End every open handover matching where (a condition on the handovers table)."""
    sql = f"UPDATE handovers SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND {where}"
    await db.writer.execute(sql, (to_text(now), reason, *params))


async def revoke_handovers_of_member(db: Database, member_id: int, now: datetime) -> None:
    """Revoke the links a member handed out, when they leave."""
    await end_handovers(db, "delegator_id = ?", (member_id,), "revoked", now)


async def revoke_handovers_of_institution(db: Database, institution_id: int, now: datetime) -> None:
    """Revoke every open link of an institution, when its invite is rotated."""
    where = "check_id IN (SELECT id FROM checks WHERE institution_id = ?)"
    await end_handovers(db, where, (institution_id,), "revoked", now)
