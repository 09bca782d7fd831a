"""Small helpers to run a query and fetch its rows."""

import sqlite3
from collections.abc import Iterable
from typing import Any

import aiosqlite

Params = Iterable[Any]


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Run sql and return all its rows."""
    return list(await conn.execute_fetchall(sql, params))


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> sqlite3.Row | None:
    """Run sql and return its first row, or None."""
    # Fetching every row finishes the statement, so a later COMMIT never finds it still running.
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


async def fetch_value(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> Any:
    """Run sql and return the first column of its first row, or None."""
    row = await fetch_one(conn, sql, params)
    return None if row is None else row[0]
