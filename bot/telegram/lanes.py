"""Two lanes to Telegram: replies within a member's own turn, and messages the bot starts.

Telegram documents its limits loosely (RELIABILITY.md, "Telegram's limits"): about 30 messages a
second for bulk notifications to many chats, 20 a minute to one group, about one a second to one
chat with short bursts allowed, and a 429 with `retry_after` when a bot is too fast. A single
overall bucket for every request made the bot, not Telegram, the bottleneck: 30 members tapping
at once queued behind each other, and behind a reminder fan-out (issue 18, BENCHMARKS.md).

- The bulk lane: what the bot starts on its own (reminders, notes, digests, summaries) shares
  `BULK_RATE` messages in any sliding second, and every group chat its 20 a minute.
- The reply lane: requests to the chat whose update is being handled (and requests without a
  chat, such as answering a callback query) go at once; only the group limit still applies.
- A 429 delays what it was about: that chat, when it named one; the bulk lane, when a bulk
  message was refused; everything only when the refused request had no chat. It is retried
  after `retry_after` (a 429 means nothing was sent, so a retry never doubles), up to
  `max_retries` times; then the RetryAfter goes to the caller, whose own rules keep the message
  (the outbox and the reminder sweep send it again later), so nothing is dropped either.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
# Messages a second to all chats: one under Telegram's 30. At exactly 30, a message that reaches
# Telegram a little sooner than the one before it is refused with 429 (BENCHMARKS.md).
BULK_RATE = 29
GROUP_RATE = 20  # messages a minute to one group chat
MAX_RETRIES = 2
FLIGHT_POLL = 0.01  # seconds between looks for a returned request while the window is full
# The chat whose update the current task handles; requests to it are replies (reply lane).
REPLYING_TO: contextvars.ContextVar[int | None]
REPLYING_TO = contextvars.ContextVar("replying_to", default=None)

Request = Callable[..., Coroutine[Any, Any, Any]]


class SlidingWindow:
    """At most `rate` messages in any `period` seconds as Telegram sees them, first come first
    served.

    A message takes its place in the window when its request *returns*, and a request still
    on its way holds one: then a request admitted a period after another's answer reaches
    Telegram at least a period after it, however the two were delayed on the way. Counted at
    the start instead, a loaded event loop or network bunched requests up and Telegram refused
    some (BENCHMARKS.md, "Members first"). Stricter than a token bucket, which lets up to twice
    the rate through within one second; Telegram's counting is not documented, so we assume
    the stricter one.
    """

    def __init__(self, rate: int, period: float = 1.0) -> None:
        self.rate, self.period = rate, period
        self._done: deque[float] = deque()  # when the requests of the last period returned
        self._in_flight = 0
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a place in the window and hold it while the request is on its way."""
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._done and self._done[0] <= now - self.period:
                    self._done.popleft()
                if len(self._done) + self._in_flight < self.rate:
                    break
                # The oldest answer leaves the window then; or a request in flight returns.
                wait = self._done[0] + self.period - now if self._done else FLIGHT_POLL
                await asyncio.sleep(min(wait, FLIGHT_POLL) if self._in_flight else wait)
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._done.append(time.monotonic())


class Lanes(BaseRateLimiter[int]):
    """PTB's rate limiter for the bot: a reply lane and a bulk lane (see the module's doc)."""

    def __init__(
        self,
        bulk_rate: int = BULK_RATE,
        group_rate: int = GROUP_RATE,
        max_retries: int = MAX_RETRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_retries = max_retries
        self._clock = clock
        self._bulk = SlidingWindow(bulk_rate) if bulk_rate else None
        self._group_rate = group_rate
        self._groups: dict[int | str, SlidingWindow] = {}
        # Monotonic times until which a 429 holds back a chat, the bulk lane, or everything.
        self._paused: dict[int | str | None, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Request,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Send in the request's lane; wait out a 429 for what it was about, then retry."""
        chat = _chat_id(data.get("chat_id"))
        bulk = chat is not None and chat != REPLYING_TO.get()
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        for attempt in range(retries + 1):
            await self._wait_for_pauses(chat, bulk)
            try:
                async with self._admitted(chat, bulk):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                scope: int | str | None = ("bulk" if bulk else chat) if chat is not None else None
                wait = exc.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.info("429 on %s for %s: waiting %.1f s", endpoint, scope or "all", seconds)
                until = self._clock() + seconds + 0.1
                self._paused[scope] = max(self._paused.get(scope, 0.0), until)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _wait_for_pauses(self, chat: int | str | None, bulk: bool) -> None:
        """Sleep while a 429 holds back this chat, its lane, or everything."""
        while True:
            scopes: list[int | str | None] = [None, chat] + (["bulk"] if bulk else [])
            until = max((self._paused.get(s, 0.0) for s in scopes), default=0.0)
            left = until - self._clock()
            if left <= 0:
                return
            await asyncio.sleep(left)

    @contextlib.asynccontextmanager
    async def _admitted(self, chat: int | str | None, bulk: bool) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as places:
            if chat is not None and _is_group(chat) and self._group_rate:
                window = self._groups.setdefault(chat, SlidingWindow(self._group_rate, 60.0))
                await places.enter_async_context(window.slot())
            if bulk and self._bulk is not None:
                await places.enter_async_context(self._bulk.slot())
            yield


def _chat_id(value: object) -> int | str | None:
    if value is None:
        return None
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return str(value)  # a @channel username


def _is_group(chat: int | str) -> bool:
    return isinstance(chat, str) or chat < 0
