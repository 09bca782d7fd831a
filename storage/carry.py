"""Carry-forward between rounds: last round's answers as proposals, and which were confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dialogues.model import Key
from storage.db import Database
from storage.sql import fetch_all
from storage.times import from_text


@dataclass(frozen=True)
class Proposal:
    """A current answer of the institution's check in the round before, offered again."""

    answer_id: int
    value: str
    text: str | None
    author_name: str | None
    answered_at: datetime


@dataclass(frozen=True)
class Carried:
    """An answer of this round confirmed from the round before."""

    from_round: str | None  # the round's name; None once that round was deleted


async def proposals_for(
    db: Database, previous_cycle_id: int | None, institution_id: int
) -> dict[Key, Proposal]:
    """Return the latest answer to each question of the institution's check in that round."""
    if previous_cycle_id is None:
        return {}
    sql = """
        SELECT a.*, m.first_name AS author_name
        FROM answers AS a LEFT JOIN members AS m ON m.id = a.author_id
        WHERE a.id IN (
            SELECT max(id) FROM answers
            WHERE check_id = (SELECT id FROM checks WHERE cycle_id = ? AND institution_id = ?)
            GROUP BY requirement_id, question_key)
    """
    rows = await fetch_all(db.conn, sql, (previous_cycle_id, institution_id))
    return {
        (row["requirement_id"], row["question_key"]): Proposal(
            row["id"], row["value"], row["text"], row["author_name"], from_text(row["answered_at"])
        )
        for row in rows
    }


async def mark_carried(db: Database, check_id: int, key: Key, from_answer_id: int | None) -> None:
    """Mark the question's latest answer as confirmed from an answer of the round before."""
    sql = """
        UPDATE answers SET carried = 1, carried_from = ?
        WHERE id = (SELECT max(id) FROM answers
                    WHERE check_id = ? AND requirement_id = ? AND question_key = ?)
    """
    await db.writer.execute(sql, (from_answer_id, check_id, *key))


async def carried_answers(db: Database, check_id: int) -> dict[Key, Carried]:
    """Return the questions whose current answer was confirmed from the round before."""
    sql = """
        SELECT a.requirement_id, a.question_key, y.name AS from_round
        FROM answers AS a
        LEFT JOIN answers AS f ON f.id = a.carried_from
        LEFT JOIN checks AS c ON c.id = f.check_id
        LEFT JOIN cycles AS y ON y.id = c.cycle_id
        WHERE a.id IN (SELECT max(id) FROM answers WHERE check_id = ?
                       GROUP BY requirement_id, question_key)
            AND a.carried = 1
    """
    rows = await fetch_all(db.conn, sql, (check_id,))
    return {(row[0], row[1]): Carried(row[2]) for row in rows}


@dataclass(frozen=True)
class RoundCount:
    cycle_id: int
    checks: int
    submitted: int


async def round_counts(db: Database) -> dict[int, RoundCount]:
    """Return per round how many checks it has and how many were submitted."""
    sql = """
        SELECT cycle_id, count(*), sum(status = 'submitted')
        FROM checks GROUP BY cycle_id
    """
    rows = await fetch_all(db.conn, sql)
    return {row[0]: RoundCount(row[0], row[1], row[2] or 0) for row in rows}
