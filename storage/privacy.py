"""A person's data: everything stored about a Telegram user, to export it or to erase it."""

import json
from typing import Any

from storage.audit import Actor, record_audit
from storage.db import Database
from storage.members import Member, forget_member, member_by_user
from storage.sql import fetch_all, fetch_one

Counts = dict[str, int]  # what was erased: table -> rows changed or deleted

ANSWERS = """
    SELECT r.*, y.name AS cycle_name, i.short AS institution_short
    FROM (
        SELECT a.*, row_number() OVER (
            PARTITION BY a.check_id, a.requirement_id, a.question_key ORDER BY a.id) AS revision
        FROM answers AS a
        WHERE a.check_id IN (SELECT check_id FROM answers WHERE author_id = ?)
    ) AS r
    JOIN checks AS c ON c.id = r.check_id
    JOIN cycles AS y ON y.id = c.cycle_id
    JOIN institutions AS i ON i.id = c.institution_id
    WHERE r.author_id = ?
    ORDER BY r.id
"""

SUBMISSIONS = """
    SELECT s.submitted_at, y.name AS cycle_name, i.short AS institution_short
    FROM submissions AS s
    JOIN checks AS c ON c.id = s.check_id
    JOIN cycles AS y ON y.id = c.cycle_id
    JOIN institutions AS i ON i.id = c.institution_id
    WHERE s.member_id = ?
    ORDER BY s.id
"""

REMINDERS = """
    SELECT r.kind, r.deadline, r.days_before, r.status, r.created_at, y.name AS cycle_name
    FROM reminders AS r JOIN cycles AS y ON y.id = r.cycle_id
    WHERE r.member_id = ?
    ORDER BY r.id
"""

HANDOVERS = """
    SELECT y.name AS cycle_name, h.requirement_id,
        iif(h.delegator_id = ?, 'handed_over', 'asked') AS role,
        h.created_at, h.expires_at, h.ended_at, h.end_reason
    FROM handovers AS h
    JOIN checks AS c ON c.id = h.check_id
    JOIN cycles AS y ON y.id = c.cycle_id
    WHERE h.delegator_id = ? OR h.delegate_id = ?
    ORDER BY h.id
"""

AUDIT = """
    SELECT at, action, institution_id, cycle_id FROM audit
    WHERE (actor_kind = 'member' AND actor_id = ?) OR member_id = ?
        OR (actor_kind = 'coordinator' AND actor_id = ?) OR subject_user_id = ?
    ORDER BY id
"""


async def export_person(db: Database, telegram_user_id: int) -> dict[str, Any]:
    """Return everything stored about the Telegram user, as JSON-ready data."""
    member = await member_by_user(db, telegram_user_id)
    member_id = member.id if member else -1  # matches no row
    by_user = (telegram_user_id,)
    coordinator = await fetch_one(
        db.conn, "SELECT added_at FROM coordinators WHERE telegram_user_id = ?", by_user
    )
    failures = await fetch_all(
        db.conn,
        "SELECT failed_at FROM invite_failures WHERE telegram_user_id = ? ORDER BY id",
        by_user,
    )
    return {
        "telegram_user_id": telegram_user_id,
        "membership": await _membership(db, member) if member else None,
        "reminders": {
            "enabled": member.reminders_enabled if member else None,
            "messages": [dict(row) for row in await fetch_all(db.conn, REMINDERS, (member_id,))],
        },
        "answers": [
            _answer(row) for row in await fetch_all(db.conn, ANSWERS, (member_id, member_id))
        ],
        "submissions": [dict(row) for row in await fetch_all(db.conn, SUBMISSIONS, (member_id,))],
        "handovers": [dict(row) for row in await fetch_all(db.conn, HANDOVERS, (member_id,) * 3)],
        "coordinator_since": coordinator["added_at"] if coordinator else None,
        "wrong_invite_codes_at": [row[0] for row in failures],
        "audit_log": [
            dict(row)
            for row in await fetch_all(
                db.conn, AUDIT, (member_id, member_id, telegram_user_id, telegram_user_id)
            )
        ],
    }


async def _membership(db: Database, member: Member) -> dict[str, Any]:
    institution = await fetch_one(
        db.conn, "SELECT short, name FROM institutions WHERE id = ?", (member.institution_id,)
    )
    assert institution is not None  # a member's institution exists (foreign key)
    return {
        "member_number": member.id,
        "institution": {"short": institution["short"], "name": institution["name"]},
        "first_name": member.first_name,
        "language": member.language,
        "plain_mode": member.plain_mode,
        "joined_at": member.joined_at.isoformat(),
        "last_seen_at": member.last_seen_at.isoformat(),
        "unreachable": member.unreachable,
    }


def _answer(row: Any) -> dict[str, Any]:
    return {
        "round": row["cycle_name"],
        "institution": row["institution_short"],
        "requirement": row["requirement_id"],
        "question": row["question_key"],
        "revision": row["revision"],
        "value": row["value"],
        "text": row["text"],
        "reason": row["reason"],
        "answered_at": row["answered_at"],
        "catalogue": f"{row['catalogue_id']} {row['catalogue_version']}",
    }


async def end_membership(db: Database, member: Member) -> Member:
    """Make the member a former member: id, name, position and their pending messages go."""
    # Answers stay with the institution, attributed to the (now nameless) member row.
    if member.telegram_user_id is not None:
        await db.writer.execute(
            "DELETE FROM outbox WHERE chat_id = ? AND delivered_at IS NULL",
            (member.telegram_user_id,),
        )
    await db.writer.execute("DELETE FROM active_messages WHERE member_id = ?", (member.id,))
    return await forget_member(db, member.id)


async def erase_person(db: Database, telegram_user_id: int, former: str) -> Counts:
    """Erase the user's id and name from every table; messages naming them say `former`."""
    counts: Counts = {}
    member = await member_by_user(db, telegram_user_id)
    if member is not None:
        await end_membership(db, member)
        counts["members"] = 1
        if member.first_name:
            counts["outbox"] = await _scrub_outbox(db, member.first_name, former)
    for table, sql in ERASE_ID:
        cursor = await db.writer.execute(sql, (telegram_user_id,))
        counts[table] = counts.get(table, 0) + cursor.rowcount
    # Recorded without the id, of course: by the nameless member row, if there was one.
    actor = Actor.member(member.id) if member else Actor("system")
    await record_audit(
        db,
        actor,
        "erase",
        member_id=member.id if member else None,
        institution_id=member.institution_id if member else None,
    )
    return counts


# Every place besides members where a Telegram user id can be stored.
ERASE_ID = (
    ("outbox", "DELETE FROM outbox WHERE chat_id = ?"),
    ("deadline_changes", "UPDATE deadline_changes SET changed_by = NULL WHERE changed_by = ?"),
    ("audit", "UPDATE audit SET actor_id = NULL WHERE actor_kind = 'coordinator' AND actor_id = ?"),
    ("audit", "UPDATE audit SET subject_user_id = NULL WHERE subject_user_id = ?"),
    ("coordinators", "DELETE FROM coordinators WHERE telegram_user_id = ?"),
    ("invite_failures", "DELETE FROM invite_failures WHERE telegram_user_id = ?"),
    # A used link goes with its user: a code without its row cannot be claimed either.
    ("coordinator_invites", "DELETE FROM coordinator_invites WHERE used_by = ?"),
)


async def _scrub_outbox(db: Database, name: str, former: str) -> int:
    """Take the name out of stored messages: sent ones are emptied, unsent ones say `former`."""
    rows = await fetch_all(db.writer, "SELECT id, payload, next_attempt_at FROM outbox")
    changed = 0
    for row in rows:
        payload = str(row["payload"])
        scrubbed = payload
        for spelling in _spellings(name):
            needle = json.dumps(spelling, ensure_ascii=False)[1:-1]
            scrubbed = scrubbed.replace(needle, json.dumps(former, ensure_ascii=False)[1:-1])
        if scrubbed == payload:
            continue
        if row["next_attempt_at"] is None:  # delivered or given up: only a record, now empty
            scrubbed = "{}"
        await db.writer.execute("UPDATE outbox SET payload = ? WHERE id = ?", (scrubbed, row["id"]))
        changed += 1
    return changed


def _spellings(name: str) -> set[str]:
    """Return the name as written in messages: plain and HTML-escaped (as templates do)."""
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {
        name,
        escaped,
        escaped.replace('"', "&#34;").replace("'", "&#39;"),
        escaped.replace('"', "&quot;").replace("'", "&#x27;"),
    }


async def checkpoint(db: Database, truncate: bool = True) -> None:
    """Copy the write-ahead log into the database file; with `truncate`, also empty it."""
    # After an erasure the log still holds the pages as they were; emptying it leaves the
    # erased data nowhere (secure_delete has zeroed it in the database file itself).
    # Under Litestream (truncate=False) the log is Litestream's: it holds a read transaction so
    # that nobody checkpoints past what it has replicated, and a TRUNCATE would wait the whole
    # busy_timeout for it (stalling the bot's one connection) and then give up. A PASSIVE
    # checkpoint copies what it may at once; Litestream's own checkpoints restart the log.
    mode = "TRUNCATE" if truncate else "PASSIVE"
    await db.conn.execute(f"PRAGMA wal_checkpoint({mode})")
