"""Who may do what: coordinators are the user ids in config and those stored by the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

import storage
from bot.config import Config

if TYPE_CHECKING:  # services imports the digest, which needs this module
    from bot.services import Services


def is_coordinator(services: Services, user_id: int | None) -> bool:
    """Tell whether a Telegram user is a coordinator: named in config or added with the CLI."""
    # Sync on purpose: the stored ones are loaded before each update (load_coordinators).
    return user_id is not None and (user_id in services.config.telegram.coordinators
                                    or user_id in services.stored_coordinators)


async def load_coordinators(services: Services) -> None:
    """Read the coordinators added with `chancencheck coordinator add` into memory."""
    # One small query per update, so that the CLI (another process) takes effect at once.
    services.stored_coordinators = await storage.coordinator_ids(services.db)


async def may_stay_in_group(db: storage.Database, config: Config, chat_id: int) -> bool:
    """Tell whether the bot stays in a group it was added to: only in the coordination chat."""
    return chat_id == await coordination_chat(db, config)


async def coordination_chat(db: storage.Database, config: Config) -> int | None:
    """Return the coordination chat: the stored one (after a migration) or the configured one."""
    stored = await storage.get_setting(db, storage.COORDINATION_CHAT)
    return int(stored) if stored is not None else config.telegram.coordination_chat_id
