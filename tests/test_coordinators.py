"""The coordinators the bot knows: re-read only when another process changed the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import storage
from bot.core.access import Coordinators, is_coordinator


async def test_a_coordinator_added_elsewhere_counts_from_the_next_look(tmp_path: Path) -> None:
    """Protects README's promise: `chancencheck coordinator add` needs no restart of the bot."""
    path = tmp_path / "bot.sqlite3"
    async with await storage.open_database(path) as bot_db:
        known = await Coordinators(frozenset({1})).reloaded(bot_db)
        assert is_coordinator(known, 1) and not is_coordinator(known, 2)
        assert await known.current(bot_db) is known  # nothing changed: nothing re-read

        cli_db = await storage.open_database(path)  # the CLI: another connection
        async with cli_db, cli_db.transaction():
            await storage.add_coordinator(cli_db, 2, datetime.now(UTC))

        now = await known.current(bot_db)
        assert is_coordinator(now, 2) and is_coordinator(now, 1)
        assert await now.current(bot_db) is now


async def test_own_additions_are_read_on_request(tmp_path: Path) -> None:
    """Protects coordinator links: the bot's own write does not change data_version, so the
    joining handler reloads explicitly, and the new coordinator counts at once."""
    async with await storage.open_database(tmp_path / "bot.sqlite3") as db:
        known = await Coordinators(frozenset()).reloaded(db)
        async with db.transaction():
            await storage.add_coordinator(db, 7, datetime.now(UTC))
        assert not is_coordinator(await known.current(db), 7)  # why the reload is needed
        assert is_coordinator(await known.reloaded(db), 7)
