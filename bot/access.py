"""Who may do what: coordinators are the user ids in config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

import storage
from bot.config import Config

if TYPE_CHECKING:  # services imports the digest, which needs this module
    from bot.services import Services


def is_coordinator(services: Services, user_id: int | None) -> bool:
    """Tell whether a Telegram user is a coordinator."""
    return user_id is not None and user_id in services.config.telegram.coordinators


def in_coordination_chat(services: Services, update: Update) -> bool:
    """Tell whether the update comes from the configured coordination group."""
    chat = update.effective_chat
    return chat is not None and chat.id == services.config.telegram.coordination_chat_id


async def coordination_chat(db: storage.Database, config: Config) -> int | None:
    """Return the coordination chat: the stored one (after a migration) or the configured one."""
    stored = await storage.get_setting(db, storage.COORDINATION_CHAT)
    return int(stored) if stored is not None else config.telegram.coordination_chat_id
