"""Answers: every revision of every answer to a check, and the current one per question."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from dialogues.model import Key
from storage.db import Database
from storage.sql import fetch_all, fetch_one, fetch_value
from storage.times import from_text, maybe_from_text, to_text, utc_now


@dataclass(frozen=True)
class StoredAnswer:
    requirement_id: str
    question_key: str
    value: str
    text: str | None
    author_id: int | None
    author_name: str | None  # None for a former member or an answer without author
    answered_at: datetime
    revision: int  # 1 for the first answer to this question in this check
    id: int = 0  # the revision's row
    reason: str | None = None  # why the author changed a colleague's answer, if they said


def _answer(row: sqlite3.Row) -> StoredAnswer:
    return StoredAnswer(
        requirement_id=row["requirement_id"],
        question_key=row["question_key"],
        value=row["value"],
        text=row["text"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        answered_at=from_text(row["answered_at"]),
        revision=row["revision"],
        id=row["id"],
        reason=row["reason"],
    )


# Revisions are numbered by insertion order (id), not by answered_at, which the caller supplies.
REVISIONS = """
    SELECT a.*, m.first_name AS author_name,
        row_number() OVER question AS revision,
        count(*) OVER (PARTITION BY a.requirement_id, a.question_key) AS revisions
    FROM answers AS a LEFT JOIN members AS m ON m.id = a.author_id
    WHERE a.check_id = ?
    WINDOW question AS (PARTITION BY a.requirement_id, a.question_key ORDER BY a.id)
"""


@dataclass(frozen=True)
class NewAnswer:
    """An answer to store: to which question, what, by whom, under which catalogue."""

    requirement_id: str
    question_key: str
    value: str
    text: str | None
    author_id: int | None  # the member; None for an answer without author (imports, tests)
    catalogue_id: str
    catalogue_version: str


async def record_answer(
    db: Database, check_id: int, answer: NewAnswer, now: datetime | None = None
) -> StoredAnswer:
    """Store a new revision of the answer to one question and return it."""
    sql = """
        INSERT INTO answers (check_id, requirement_id, question_key, value, text, author_id,
            catalogue_id, catalogue_version, answered_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    """
    a = answer
    params = (check_id, a.requirement_id, a.question_key, a.value, a.text, a.author_id)
    stamp = to_text(now or utc_now())
    cursor = await db.writer.execute(sql, (*params, a.catalogue_id, a.catalogue_version, stamp))
    # Only this row and its number: the window query over every revision (`revisions`) cost
    # more than the insert, on every turn (issue 18).
    stored = """
        SELECT a.*, m.first_name AS author_name,
            (SELECT count(*) FROM answers WHERE check_id = a.check_id
                AND requirement_id = a.requirement_id AND question_key = a.question_key
                AND id <= a.id) AS revision
        FROM answers AS a LEFT JOIN members AS m ON m.id = a.author_id
        WHERE a.id = ?
    """
    row = await fetch_one(db.writer, stored, (cursor.lastrowid,))
    assert row is not None  # inserted just above, in this transaction
    return _answer(row)


async def current_answers(db: Database, check_id: int) -> dict[Key, StoredAnswer]:
    """Return the latest answer to each answered question of the check."""
    # Read on every turn of the dialogue. One pass over the index answers_by_question finds
    # each question's latest revision and their count; the window functions of REVISIONS
    # give the same rows but take five times as long.
    sql = """
        SELECT a.*, m.first_name AS author_name, g.revisions AS revision, g.revisions
        FROM (SELECT max(id) AS id, count(*) AS revisions FROM answers WHERE check_id = ?
              GROUP BY requirement_id, question_key) AS g
        JOIN answers AS a ON a.id = g.id
        LEFT JOIN members AS m ON m.id = a.author_id
        ORDER BY a.id
    """
    rows = await fetch_all(db.conn, sql, (check_id,))
    return {(row["requirement_id"], row["question_key"]): _answer(row) for row in rows}


async def revisions(
    db: Database, check_id: int, requirement_id: str, question_key: str
) -> list[StoredAnswer]:
    """Return every answer given to one question of the check, oldest first."""
    sql = f"""
        SELECT * FROM ({REVISIONS})
        WHERE requirement_id = ? AND question_key = ?
        ORDER BY id
    """
    rows = await fetch_all(db.conn, sql, (check_id, requirement_id, question_key))
    return [_answer(row) for row in rows]


async def last_activity(db: Database, check_id: int) -> datetime | None:
    """Return when the check was last answered, or None if it never was."""
    sql = "SELECT max(answered_at) FROM answers WHERE check_id = ?"
    return maybe_from_text(await fetch_value(db.conn, sql, (check_id,)))
