"""Read-only checks of a database for `chancencheck doctor`: integrity, migrations, outbox."""

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.db import Database
from storage.migrations import MIGRATIONS
from storage.sql import fetch_all, fetch_one, fetch_value


async def open_read_only(path: Path) -> Database:
    """Open an existing database without changing it: no migrations, no PRAGMAs that write."""
    conn = await aiosqlite.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute("PRAGMA busy_timeout = 5000")
        await fetch_value(conn, "SELECT count(*) FROM sqlite_schema")  # fails if not a database
    except BaseException:
        await conn.close()
        raise
    return Database(conn, str(path))


async def integrity_problems(db: Database, limit: int = 10) -> list[str]:
    """Return what SQLite's integrity check found wrong; an empty list means the file is sound."""
    rows = await fetch_all(db.conn, f"PRAGMA integrity_check({int(limit)})")
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


@dataclass(frozen=True)
class MigrationState:
    applied: tuple[str, ...]
    pending: tuple[str, ...]  # known to this version, not yet applied
    unknown: tuple[str, ...]  # applied by a newer version of the bot


async def migration_state(db: Database) -> MigrationState:
    """Compare the migrations recorded in the database with those this version knows."""
    known = [migration.__name__ for migration in MIGRATIONS]
    exists = await fetch_value(
        db.conn, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_migrations'"
    )
    rows = await fetch_all(db.conn, "SELECT name FROM _migrations ORDER BY name") if exists else []
    applied = [str(row[0]) for row in rows]
    return MigrationState(
        applied=tuple(applied),
        pending=tuple(name for name in known if name not in applied),
        unknown=tuple(name for name in applied if name not in known),
    )


@dataclass(frozen=True)
class OutboxState:
    waiting: int  # failed at least once, to be tried again
    given_up: int  # refused by Telegram for good
    last_error: str | None


async def outbox_state(db: Database) -> OutboxState:
    """Count the outbox messages that did not go through at the first attempt."""
    sql = """
        SELECT
            count(*) FILTER (WHERE next_attempt_at IS NOT NULL AND attempts > 0) AS waiting,
            count(*) FILTER (WHERE next_attempt_at IS NULL) AS given_up
        FROM outbox WHERE delivered_at IS NULL
    """
    row = await fetch_one(db.conn, sql)
    error = await fetch_value(
        db.conn,
        "SELECT last_error FROM outbox WHERE delivered_at IS NULL AND last_error "
        "IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    assert row is not None  # an aggregate always returns a row
    return OutboxState(int(row["waiting"]), int(row["given_up"]), error)
