"""The audit log: who did what when, by reference to the rows concerned, without names."""

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.sql import fetch_all
from storage.times import from_text, to_text, utc_now


@dataclass(frozen=True)
class Actor:
    """Who acted: a member (by members.id), a coordinator (by Telegram user id), the CLI."""

    kind: str  # "member", "coordinator", "cli" or "system"
    id: int | None = None

    @classmethod
    def member(cls, member_id: int) -> "Actor":
        return cls("member", member_id)

    @classmethod
    def coordinator(cls, telegram_user_id: int) -> "Actor":
        return cls("coordinator", telegram_user_id)


CLI = Actor("cli")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None  # None from the command line and once the person was erased
    actor_name: str | None  # a member actor's first name while they are a member
    action: str
    institution: str | None  # short name, while the institution exists
    cycle: str | None  # round name, while the round exists
    question: str | None  # "K1.fulfilment" for an answer, while it exists
    answer_id: int | None
    member_id: int | None
    subject_user_id: int | None
    detail: dict[str, Any]


async def record_audit(
    db: Database,
    actor: Actor,
    action: str,
    now: datetime | None = None,
    *,
    institution_id: int | None = None,
    cycle_id: int | None = None,
    check_id: int | None = None,
    member_id: int | None = None,
    subject_user_id: int | None = None,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Record one action; detail holds short facts (names of institutions, counts), no texts."""
    sql = """
        INSERT INTO audit (at, actor_kind, actor_id, action, institution_id, cycle_id, check_id,
                           member_id, subject_user_id, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
    params = (
        to_text(now or utc_now()),
        actor.kind,
        actor.id,
        action,
        institution_id,
        cycle_id,
        check_id,
        member_id,
        subject_user_id,
        text,
    )
    await db.writer.execute(sql, params)


RECENT = """
    SELECT a.*, m.first_name AS actor_name, i.short AS institution_short, c.name AS cycle_name,
        q.requirement_id || '.' || q.question_key AS question
    FROM audit AS a
    LEFT JOIN members AS m ON a.actor_kind = 'member' AND m.id = a.actor_id
    LEFT JOIN institutions AS i ON i.id = a.institution_id
    LEFT JOIN cycles AS c ON c.id = a.cycle_id
    LEFT JOIN answers AS q ON q.id = a.answer_id
    ORDER BY a.id DESC
    LIMIT ?
"""


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=from_text(row["at"]),
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        action=row["action"],
        institution=row["institution_short"],
        cycle=row["cycle_name"],
        question=row["question"],
        answer_id=row["answer_id"],
        member_id=row["member_id"],
        subject_user_id=row["subject_user_id"],
        detail=json.loads(row["detail"]) if row["detail"] else {},
    )


async def recent_audit(db: Database, limit: int = 50) -> list[AuditEntry]:
    """Return the latest entries, oldest of them first."""
    rows = await fetch_all(db.conn, RECENT, (limit,))
    return [_entry(row) for row in reversed(rows)]
