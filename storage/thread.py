"""Run several storage calls as one job in the database thread: one round trip, not one each.

aiosqlite sends every statement to its thread and waits for the answer: some 75 µs a round
trip, with the event loop switching tasks in between. A dialogue turn made 16 of them (issue 18).
The storage functions are coroutines that await nothing but the connection; given a connection
whose calls return at once (`ThreadConnection`), such a coroutine finishes in one step, so it
can run to its end inside the database thread (`run_now`).
"""

import sqlite3
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


class ThreadCursor:
    """The parts of aiosqlite's Cursor the storage functions use, already finished."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor
        self.lastrowid = cursor.lastrowid
        self.rowcount = cursor.rowcount

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class ThreadConnection:
    """aiosqlite's calls, run at once on the sqlite3 connection (inside the database thread)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> ThreadCursor:
        return ThreadCursor(self._raw.execute(sql, tuple(parameters or ())))

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> list[Any]:
        return self._raw.execute(sql, tuple(parameters or ())).fetchall()


class InThread:
    """What storage functions need of a Database, inside a job of the database thread.

    The job runs inside the caller's transaction, so writes are allowed.
    """

    def __init__(self, raw: sqlite3.Connection, path: str) -> None:
        self.conn = ThreadConnection(raw)
        self.path = path

    @property
    def writer(self) -> ThreadConnection:
        return self.conn

    def in_transaction(self) -> bool:
        return True


def run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that awaits nothing but a ThreadConnection to its end, synchronously."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a database job awaited something else than the database")
