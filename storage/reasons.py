"""Reasons members give for changing a colleague's answer, and the question for one pending."""

from datetime import datetime

from storage.answers import REVISIONS, StoredAnswer, _answer
from storage.db import Database
from storage.sql import fetch_all, fetch_value
from storage.times import to_text


async def ask_reason(db: Database, member_id: int, answer_id: int, now: datetime) -> None:
    """Remember that the member was asked why they changed the answer `answer_id`."""
    sql = "INSERT OR REPLACE INTO reason_requests (member_id, answer_id, asked_at) VALUES (?, ?, ?)"
    await db.writer.execute(sql, (member_id, answer_id, to_text(now)))


async def pending_reason(db: Database, member_id: int) -> int | None:
    """Return the answer the member was asked a reason for and has not yet given or skipped."""
    sql = "SELECT answer_id FROM reason_requests WHERE member_id = ?"
    value = await fetch_value(db.conn, sql, (member_id,))
    return int(value) if value is not None else None


async def give_reason(db: Database, member_id: int, reason: str | None) -> int | None:
    """Store the reason with the pending revision (None skips it); return that answer's id."""
    answer_id = await pending_reason(db, member_id)
    if answer_id is None:
        return None
    await db.writer.execute("DELETE FROM reason_requests WHERE member_id = ?", (member_id,))
    if reason is not None:
        sql = "UPDATE answers SET reason = ? WHERE id = ?"
        await db.writer.execute(sql, (reason, answer_id))
    return answer_id


async def check_revisions(
    db: Database, check_id: int, question_keys: tuple[str, ...]
) -> list[StoredAnswer]:
    """Return every revision of the given questions of a check, oldest first."""
    marks = ", ".join("?" for _ in question_keys)
    sql = f"SELECT * FROM ({REVISIONS}) WHERE question_key IN ({marks}) ORDER BY id"
    rows = await fetch_all(db.conn, sql, (check_id, *question_keys))
    return [_answer(row) for row in rows]
