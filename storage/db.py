"""The one SQLite connection of the process: its settings, its transactions, its errors."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import aiosqlite

from storage.errors import StorageError
from storage.migrations import migrate
from storage.sql import Params, fetch_value
from storage.thread import InThread, run_now

T = TypeVar("T")

MEMORY = ":memory:"
# STRICT tables need 3.37; RETURNING needs 3.35.
MINIMUM_SQLITE = (3, 37, 0)

# Seconds to wait for another process's write lock (a backup, the CLI) instead of failing at once.
BUSY_TIMEOUT = 5.0
PRAGMAS = (
    # Readers (reports, the CLI) and the bot's writer do not block each other.
    "PRAGMA journal_mode = WAL",
    # An answer the bot has acknowledged must survive a power cut.
    "PRAGMA synchronous = FULL",
    # SQLite enforces foreign keys only when asked, per connection.
    "PRAGMA foreign_keys = ON",
    # Deleted personal data (/loeschen, retention) is overwritten, not left in free pages.
    "PRAGMA secure_delete = ON",
)


class Database:
    """The process's connection: read through `conn`, write inside `transaction()`."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0
        self._begin_pending = False  # a lazy transaction's BEGIN rides with its first job
        self._committed = False  # a job committed the transaction already

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

    async def wait_for_locks(self, seconds: float) -> None:
        """Set how long a statement waits for another process's lock before it fails."""
        await self.conn.execute(_busy_timeout(seconds))

    def in_transaction(self) -> bool:
        """Return whether the current task holds this database's transaction."""
        return self._owner is not None and self._owner is asyncio.current_task()

    @property
    def writer(self) -> aiosqlite.Connection:
        """Return the connection for a write, or fail if the current task holds no transaction."""
        if not self.in_transaction() or self._begin_pending or self._committed:
            raise RuntimeError("storage writes must run inside `async with db.transaction():`")
        return self.conn

    @asynccontextmanager
    async def transaction(self, lazy: bool = False) -> AsyncIterator[None]:
        """Run the block as one transaction: commit at its end, roll back on any exception.

        `lazy`: BEGIN is sent with the block's first `job`, and a job may COMMIT at its end, so
        that a dialogue turn is two round trips to the database thread (see `job`).
        """
        if self.in_transaction():
            async with self._savepoint():
                yield
            return
        # Tasks share the connection, so a second task must wait, not join this transaction.
        async with self._lock:
            if not lazy:
                await self._execute("BEGIN IMMEDIATE")
            self._begin_pending, self._committed = lazy, False
            self._owner = asyncio.current_task()
            try:
                yield
                if not self._begin_pending and not self._committed:
                    await self._execute("COMMIT")
            except BaseException:
                # A failed COMMIT may already have ended the transaction.
                if not self._begin_pending and not self._committed:
                    with suppress(sqlite3.OperationalError):
                        await self.conn.execute("ROLLBACK")
                raise
            finally:
                self._owner = None
                self._begin_pending = self._committed = False

    async def job(
        self,
        work: Callable[["Database"], Coroutine[Any, Any, T]],
        *,
        commit: bool | Callable[[T], bool] = False,
    ) -> T:
        """Run storage calls as one job in the database thread, inside this task's transaction.

        `work` gets a stand-in Database on which storage functions run synchronously. With
        `commit` (or when `commit(result)` is true), the transaction is committed at the end of
        the same job; a failing job rolls it back (the block's exit then has nothing left to do).
        """
        if not self.in_transaction() or self._committed:
            raise RuntimeError("a database job runs inside `async with db.transaction():`")
        begin = self._begin_pending
        raw: sqlite3.Connection = self.conn._conn  # aiosqlite's own, used in its own thread only

        def run() -> tuple[T, bool]:
            if begin:
                raw.execute("BEGIN IMMEDIATE")
            try:
                result = run_now(work(cast(Database, InThread(raw, self.path))))
                done = commit(result) if callable(commit) else commit
                if done:
                    raw.execute("COMMIT")
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise
            return result, done

        try:
            result, committed = await self.conn._execute(run)  # type: ignore[no-untyped-call]
        except sqlite3.OperationalError as exc:
            self._begin_pending, self._committed = False, True  # rolled back: nothing to end
            raise explain(self.path, exc) from exc
        except BaseException:
            self._begin_pending, self._committed = False, True
            raise
        self._begin_pending, self._committed = False, committed
        return result  # type: ignore[no-any-return]

    async def write_alone(self, sql: str, params: Params = ()) -> None:
        """Run one write statement as its own transaction, which SQLite commits at its end.

        One round trip to the database thread instead of three (BEGIN, the write, COMMIT), for
        the small write after every turn; the lock keeps it out of another task's transaction.
        Inside the current task's transaction it is part of that one.
        """
        if self.in_transaction():
            await self.conn.execute(sql, params)
            return
        async with self._lock:
            try:
                await self.conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                raise explain(self.path, exc) from exc

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        """Run a nested block so that its failure undoes only its own writes."""
        self._depth += 1
        name = f"nested_{self._depth}"
        await self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.conn.execute(f"ROLLBACK TO {name}")
            await self.conn.execute(f"RELEASE {name}")
            raise
        else:
            await self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    async def _execute(self, sql: str) -> None:
        """Run a transaction statement, explaining operational failures to the operator."""
        try:
            await self.conn.execute(sql)
        except sqlite3.OperationalError as exc:
            raise explain(self.path, exc) from exc


async def open_database(path: str | Path) -> Database:
    """Open the database at path, creating and migrating it as needed."""
    where = str(path)
    _require_sqlite()
    if where != MEMORY:
        _make_folder(Path(path))
    try:
        conn = await aiosqlite.connect(where, isolation_level=None)
    except sqlite3.Error as exc:
        raise explain(where, exc) from None
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute(_busy_timeout(BUSY_TIMEOUT))
        await _configure(conn, where)
        await migrate(conn)
    except BaseException as exc:
        await conn.close()
        if isinstance(exc, sqlite3.Error):
            raise explain(where, exc) from None
        raise
    return Database(conn, where)


async def _configure(conn: aiosqlite.Connection, path: str) -> None:
    """Set the connection's PRAGMAs and make sure the journal really is a write-ahead log."""
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    mode = await fetch_value(conn, "PRAGMA journal_mode")
    if mode != "wal" and path != MEMORY:
        raise StorageError(
            f"the database {path} cannot use a write-ahead log (journal mode {mode!r}): "
            "put it on a local disk, not a network share"
        )


def _busy_timeout(seconds: float) -> str:
    return f"PRAGMA busy_timeout = {round(seconds * 1000)}"


def _require_sqlite() -> None:
    """Fail if the SQLite library is too old for the schema."""
    if sqlite3.sqlite_version_info < MINIMUM_SQLITE:
        needed = ".".join(map(str, MINIMUM_SQLITE))
        raise StorageError(
            f"SQLite {sqlite3.sqlite_version} is too old, {needed} or newer is needed: "
            "use a newer Python build or operating system"
        )


def _make_folder(path: Path) -> None:
    """Create the folder of the database file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the folder {path.parent} for the database {path}: {exc.strerror}; "
            "create it yourself or choose another database path"
        ) from None


FIXES = (
    ("unable to open", "cannot open it: check that the bot's user may read and write it"),
    ("readonly", "it is read-only: give the bot's user write permission on it and its folder"),
    ("locked", "another process holds its write lock: stop the other bot or tool using it"),
    ("full", "the disk is full: free some space and restart the bot"),
    ("not a database", "it is not an SQLite database or is damaged: restore a backup"),
    ("disk i/o", "the disk reported an error: check the disk, then restore a backup if needed"),
)


def explain(path: str, exc: sqlite3.Error) -> StorageError:
    """Turn an SQLite failure into a StorageError naming the path and the fix."""
    message = str(exc).lower()
    fix = next((fix for clue, fix in FIXES if clue in message), None)
    return StorageError(f"database {path}: {fix or exc}")
