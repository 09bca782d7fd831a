"""Handle the updates of different chats at once, and those of one chat strictly in order.

PTB handles one update after another by default. Each update of the check waits for two or
three Bot API round trips, so against the real Telegram (some 50 ms a round trip) the whole bot
answered fewer than ten updates a second, however many members were waiting: the bot, not
Telegram, held things back (see BENCHMARKS.md). Updates of one chat still go one at a time and
in order, since a member's next tap depends on what the previous one stored and showed; writes
stay serialised by the database's transaction lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.telegram.lanes import REPLYING_TO

# Updates in progress at once. Against a 50 ms round trip, 8 answer some 55 updates a second,
# more than Telegram's 30 messages a second let through (about 13 updates); in-process, 8 kept
# the CPU busiest, while 32 only made each update wait longer for its turn (BENCHMARKS.md).
CONCURRENT_UPDATES = 8


class PerChatUpdates(BaseUpdateProcessor):
    """Run updates concurrently, serialised per chat (per user where there is no chat)."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # A lock per chat with updates in progress or waiting, and how many there are.
        self._chats: dict[int | None, tuple[asyncio.Lock, list[int]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the update's handling once the chat's earlier updates are done."""
        key = _chat_of(update)
        lock, waiting = self._chats.setdefault(key, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            # PTB starts the updates' tasks in arrival order and asyncio's locks and
            # semaphores are first come, first served: so a chat's updates run in order.
            async with lock:
                # What the handlers send to this chat is a reply: it skips the bulk budget.
                REPLYING_TO.set(key)
                await coroutine
        finally:
            waiting[0] -= 1
            if not waiting[0]:
                del self._chats[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_of(update: object) -> int | None:
    """Return the id that orders an update: its chat, else its user; None for anything else."""
    if not isinstance(update, Update):
        return None
    where = update.effective_chat or update.effective_user
    return where.id if where is not None else None
