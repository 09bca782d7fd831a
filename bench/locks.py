"""How long members' turns wait for the database's write transaction, and how long they hold it.

All writes go through the process's one connection, one transaction at a time
(`storage.Database.transaction`, and `write_alone` for single statements), so the share of the
run during which it is held says how close the bot is to being limited by its writes rather than
by its CPU.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bench.common import percentiles
from storage.db import Database


class LockTimes:
    """Wrap Database.transaction and write_alone to time this process's outermost writes."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.holds: list[float] = []

    def install(self) -> LockTimes:
        original, alone = Database.transaction, Database.write_alone
        times = self

        @asynccontextmanager
        async def timed(db: Database, lazy: bool = False) -> AsyncIterator[None]:
            if db.in_transaction():  # a savepoint inside a transaction already timed
                async with original(db):
                    yield
                return
            asked = time.perf_counter()
            async with original(db, lazy):
                began = time.perf_counter()
                yield
            times.waits.append(began - asked)
            times.holds.append(time.perf_counter() - began)

        async def timed_alone(db: Database, sql: str, params: Any = ()) -> None:
            if db.in_transaction():
                await alone(db, sql, params)
                return
            asked = time.perf_counter()
            async with db._lock:  # as write_alone waits, to tell waiting from holding
                began = time.perf_counter()
                await db.conn.execute(sql, params)
            times.waits.append(began - asked)
            times.holds.append(time.perf_counter() - began)

        Database.transaction = timed  # type: ignore[assignment,method-assign]
        Database.write_alone = timed_alone  # type: ignore[method-assign]
        return self

    def figures(self, wall: float, updates: int) -> dict[str, Any]:
        hold = percentiles(self.holds)
        wait = percentiles(self.waits)
        return {
            "transactions_per_update": round(len(self.holds) / updates, 2),
            "transaction_held_share": round(sum(self.holds) / wall, 2),
            "transaction_hold_ms_p50": round(hold["p50"] * 1000, 2),
            "transaction_hold_ms_p95": round(hold["p95"] * 1000, 2),
            "transaction_wait_ms_p50": round(wait["p50"] * 1000, 2),
            "transaction_wait_ms_p95": round(wait["p95"] * 1000, 2),
        }
