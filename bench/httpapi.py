"""The tests' fake Bot API server (tests/fakebot), fitted for long benchmark runs.

- It remembers each chat's message with buttons, so members find it without a scan.
- It forgets old requests and messages, so that its memory stays flat over a long run.
- Optionally it enforces Telegram's limits (`Limits`): about 30 messages a second overall and
  one a second per chat, answering 429 with `retry_after` when a call would exceed them; and it
  can take a round trip's time to answer (`latency`), as the real Telegram does.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakebot import FakeBotApi
from fakebot.server import ApiError, BotMessage

from bench.common import BOT_USERNAME, TOKEN

HISTORY = 200  # requests and sent messages kept for inspection
MESSAGES_PER_CHAT = 4  # messages kept per chat: the active one and a few before it


@dataclass
class Bucket:
    """A token bucket: `rate` calls per `period` seconds, bursts up to `rate`."""

    rate: float
    period: float = 1.0
    tokens: float = field(init=False)
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.rate

    def take(self, now: float) -> float:
        """Take a token and return 0, or return the seconds until one is free."""
        self.tokens = _level(self, now)
        self.at = max(self.at, now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) * self.period / self.rate


@dataclass
class Limits:
    """Telegram's limits for sending: overall per second and per chat per second."""

    overall: float = 30.0
    per_chat: float = 1.0
    _overall: Bucket = field(init=False)
    _chats: dict[int, Bucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._overall = Bucket(self.overall)

    def admit(self, chat_id: int) -> float:
        """Return 0 if a message to chat_id may go now, else the seconds to wait."""
        now = time.monotonic()
        chat = self._chats.setdefault(chat_id, Bucket(self.per_chat))
        # Look before taking, so a refused call takes no token from either bucket.
        wait = max(_peek(chat, now), _peek(self._overall, now))
        if wait:
            return wait
        chat.take(now)
        self._overall.take(now)
        return 0.0


def _level(bucket: Bucket, now: float) -> float:
    """Return the tokens in the bucket at now."""
    refill = max(0.0, now - bucket.at) * bucket.rate / bucket.period
    return min(bucket.rate, bucket.tokens + refill)


def _peek(bucket: Bucket, now: float) -> float:
    tokens = _level(bucket, now)
    return 0.0 if tokens >= 1 else (1 - tokens) * bucket.period / bucket.rate


def _limited(method: str) -> bool:
    """Tell whether a call sends or changes a message, which Telegram's limits count."""
    return method.lower().startswith(("send", "edit", "copy", "forward")) and (
        method.lower() != "sendchataction"
    )


class BenchBotApi(FakeBotApi):
    """FakeBotApi with a memory that stays flat, optional limits and optional latency."""

    def __init__(self, *, limits: Limits | None = None, latency: float = 0.0) -> None:
        super().__init__(TOKEN, bot_username=BOT_USERNAME)
        self.limits = limits
        self.latency = latency
        self.active_messages: dict[int, dict[str, Any]] = {}
        self.accepted: list[tuple[float, str, int]] = []  # (monotonic, method, chat) per success
        self.refused = Counter[str]()  # 429s answered, by method
        self._kept: dict[int, list[int]] = {}

    async def _dispatch(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> Any:
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.limits is not None and _limited(method) and "chat_id" in params:
            wait = self.limits.admit(int(params["chat_id"]))
            if wait:
                self.refused[method] += 1
                retry_after = max(1, math.ceil(wait))
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        result = await super()._dispatch(method, params, files)
        if _limited(method) and "chat_id" in params:
            self.accepted.append((time.monotonic(), method, int(params["chat_id"])))
        if len(self.requests) > 2 * HISTORY:
            del self.requests[:-HISTORY]
        return result

    def _keep(self, shown: BotMessage, *, sent: bool) -> dict[str, Any]:
        message = super()._keep(shown, sent=sent)
        if shown.reply_markup and shown.reply_markup.get("inline_keyboard"):
            self.active_messages[shown.chat_id] = message
        elif self.active_messages.get(shown.chat_id, {}).get("message_id") == shown.message_id:
            del self.active_messages[shown.chat_id]
        if sent:
            kept = self._kept.setdefault(shown.chat_id, [])
            kept.append(shown.message_id)
            for old in kept[:-MESSAGES_PER_CHAT]:
                self._current.pop((shown.chat_id, old), None)
            del kept[:-MESSAGES_PER_CHAT]
            if len(self._sent) > 2 * HISTORY:
                del self._sent[:-HISTORY]
        return message
