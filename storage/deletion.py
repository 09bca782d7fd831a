"""Deleting whole things: an institution, and rounds past the retention period.

Rows are deleted together with every row that refers to them, found through the schema's
foreign keys, so a table added later is covered without changing this module.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.errors import StorageError
from storage.sql import fetch_all, fetch_value
from storage.times import to_text

Counts = dict[str, int]  # table -> rows deleted (or that would be)


@dataclass(frozen=True)
class _Reference:
    child: str  # the table holding the foreign key
    column: str  # its column
    parent_column: str  # the column of the referenced table
    on_delete: str  # "NO ACTION", "CASCADE", "SET NULL", …


@dataclass(frozen=True)
class Purge:
    """What a retention run deleted, or would delete on a dry run."""

    cycles: list[str]  # names of the rounds
    counts: Counts = field(default_factory=dict)


async def remove_institution(db: Database, institution_id: int) -> Counts:
    """Delete an institution with its members, checks, answers and everything about them."""
    conn = db.writer
    members = "SELECT id FROM members WHERE institution_id = ?"
    checks = "SELECT id FROM checks WHERE institution_id = ?"
    # A member who moved here keeps authorship of answers elsewhere: those answers stay,
    # without author, like those of anyone who has gone.
    await conn.execute(
        f"UPDATE answers SET author_id = NULL WHERE author_id IN ({members}) "
        f"AND check_id NOT IN ({checks})",
        (institution_id, institution_id),
    )
    await conn.execute(
        f"UPDATE checks SET submitted_by = NULL WHERE submitted_by IN ({members}) "
        "AND institution_id <> ?",
        (institution_id, institution_id),
    )
    # Messages not sent yet would go to people who are no longer members, or name the check.
    await conn.execute(
        "DELETE FROM outbox WHERE delivered_at IS NULL AND (json_extract(payload, "
        "'$.institution_id') = ? OR chat_id IN (SELECT telegram_user_id FROM members "
        "WHERE institution_id = ? AND telegram_user_id IS NOT NULL))",
        (institution_id, institution_id),
    )
    counts: Counts = {}
    await delete_with_dependents(conn, "institutions", "id = ?", (institution_id,), counts)
    return counts


async def purge_cycles(db: Database, closed_before: datetime, dry_run: bool = False) -> Purge:
    """Delete rounds closed before the moment, with all they hold, and old log entries."""
    conn = db.conn if dry_run else db.writer
    cutoff = to_text(closed_before)
    where = "closed_at IS NOT NULL AND closed_at < ?"
    rows = await fetch_all(
        conn, f"SELECT id, name FROM cycles WHERE {where} ORDER BY id", (cutoff,)
    )
    purge = Purge([row["name"] for row in rows])
    await delete_with_dependents(conn, "cycles", where, (cutoff,), purge.counts, dry_run)
    ids = json.dumps([row["id"] for row in rows])
    # Delivered or given-up messages are only a record of sending; pending ones stay, unless
    # they are about a deleted round (a digest's files would no longer be there to render).
    await _delete(
        conn,
        "outbox",
        "(next_attempt_at IS NULL AND created_at < ?) OR "
        "json_extract(payload, '$.cycle_id') IN (SELECT value FROM json_each(?))",
        (cutoff, ids),
        purge.counts,
        dry_run,
    )
    await _delete(
        conn,
        "audit",
        "at < ? OR cycle_id IN (SELECT value FROM json_each(?))",
        (cutoff, ids),
        purge.counts,
        dry_run,
    )
    return purge


async def delete_with_dependents(
    conn: aiosqlite.Connection,
    table: str,
    where: str,
    params: tuple[object, ...],
    counts: Counts,
    dry_run: bool = False,
    path: tuple[str, ...] = (),
) -> None:
    """Delete the rows of table matching where, after every row that refers to them."""
    if table in path:
        raise StorageError(
            f"foreign keys form a cycle through {' -> '.join(path)}: delete these rows by hand"
        )
    for ref in (await _references(conn))[table]:
        if ref.on_delete in ("SET NULL", "SET DEFAULT"):
            continue  # the row stays; SQLite clears its reference
        inner = f'"{ref.column}" IN (SELECT "{ref.parent_column}" FROM "{table}" WHERE {where})'
        await delete_with_dependents(
            conn, ref.child, inner, params, counts, dry_run, (*path, table)
        )
    await _delete(conn, table, where, params, counts, dry_run)


async def _delete(
    conn: aiosqlite.Connection,
    table: str,
    where: str,
    params: tuple[object, ...],
    counts: Counts,
    dry_run: bool,
) -> None:
    found = int(await fetch_value(conn, f'SELECT count(*) FROM "{table}" WHERE {where}', params))
    counts[table] = counts.get(table, 0) + found
    if found and not dry_run:
        await conn.execute(f'DELETE FROM "{table}" WHERE {where}', params)


async def _references(conn: aiosqlite.Connection) -> dict[str, list[_Reference]]:
    """Return, per table, the foreign keys of other tables that refer to it."""
    tables = await fetch_all(
        conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    found: dict[str, list[_Reference]] = defaultdict(list)
    for (name,) in tables:
        sql = 'SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)'
        for row in await fetch_all(conn, sql, (name,)):
            found[row[0]].append(_Reference(name, row[1], row[2] or "rowid", row[3]))
    return found
