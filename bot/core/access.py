"""Who may do what: coordinators are the user ids in config and those stored by the CLI."""

from __future__ import annotations

from dataclasses import dataclass, replace

import storage
from bot.config import Config


@dataclass(frozen=True)
class Coordinators:
    """The coordinators: named in config, or stored (by the CLI or a coordinator link)."""

    configured: frozenset[int]
    stored: frozenset[int] = frozenset()
    version: int | None = None  # the database's data_version when `stored` was read

    def __contains__(self, user_id: object) -> bool:
        return user_id in self.configured or user_id in self.stored

    async def current(self, db: storage.Database) -> Coordinators:
        """Return these, or the stored ones read again if another process wrote since."""
        # The CLI is another process: its `coordinator add` applies from the next update,
        # without a restart, and without reading the table for every update.
        version = await storage.data_version(db)
        return self if version == self.version else await self.reloaded(db, version)

    async def reloaded(self, db: storage.Database, version: int | None = None) -> Coordinators:
        """Return the coordinators with the stored ones read again, e.g. after adding one."""
        if version is None:
            version = await storage.data_version(db)
        return replace(self, stored=await storage.coordinator_ids(db), version=version)


async def load_coordinators(db: storage.Database, config: Config) -> Coordinators:
    """Read the configured and the stored coordinators."""
    return await Coordinators(frozenset(config.telegram.coordinators)).reloaded(db)


def is_coordinator(coordinators: Coordinators, user_id: int | None) -> bool:
    """Tell whether a Telegram user is a coordinator: named in config or added with the CLI."""
    return user_id is not None and user_id in coordinators


async def may_stay_in_group(db: storage.Database, config: Config, chat_id: int) -> bool:
    """Tell whether the bot stays in a group it was added to: only in the coordination chat."""
    return chat_id == await coordination_chat(db, config)


async def coordination_chat(db: storage.Database, config: Config) -> int | None:
    """Return the coordination chat: the stored one (after a migration) or the configured one."""
    stored = await storage.get_setting(db, storage.COORDINATION_CHAT)
    return int(stored) if stored is not None else config.telegram.coordination_chat_id
