"""Submissions: a snapshot of a check's answers each time it is submitted."""

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.sql import fetch_one
from storage.times import from_text, to_text, utc_now

Snapshot = dict[str, list[str | None]]  # "K1.fulfilment" -> [value, text]


@dataclass(frozen=True)
class Submission:
    id: int
    check_id: int
    member_id: int | None
    submitted_at: datetime
    answers: Snapshot


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(
        id=row["id"],
        check_id=row["check_id"],
        member_id=row["member_id"],
        submitted_at=from_text(row["submitted_at"]),
        answers=json.loads(row["answers"]),
    )


async def record_submission(
    db: Database,
    check_id: int,
    member_id: int | None,
    answers: Snapshot,
    now: datetime | None = None,
) -> Submission:
    """Store the answers as they were submitted."""
    sql = """
        INSERT INTO submissions (check_id, member_id, submitted_at, answers)
        VALUES (?, ?, ?, ?) RETURNING *
    """
    text = json.dumps(answers, ensure_ascii=False, sort_keys=True)
    row = await fetch_one(db.writer, sql, (check_id, member_id, to_text(now or utc_now()), text))
    assert row is not None  # RETURNING gives the inserted row
    return _submission(row)


async def last_submission(db: Database, check_id: int) -> Submission | None:
    """Return the latest submission of a check, or None."""
    sql = "SELECT * FROM submissions WHERE check_id = ? ORDER BY id DESC LIMIT 1"
    row = await fetch_one(db.conn, sql, (check_id,))
    return None if row is None else _submission(row)
