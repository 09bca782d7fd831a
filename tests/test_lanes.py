"""The two lanes to Telegram (bot/telegram/lanes.py): replies never wait for the bulk budget,
and a 429 delays only what it was about, is retried after retry_after, and never doubles."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.lanes import REPLYING_TO, Lanes, SlidingWindow


class Calls:
    """A Bot API stand-in: records each call's chat and when it ran; refuses some with 429."""

    def __init__(self) -> None:
        self.sent: list[tuple[int | None, float]] = []
        self.refuse: dict[int | None, int] = {}  # chat → 429s still to answer

    def request(self, lanes: Lanes, chat: int | None, endpoint: str = "sendMessage") -> Any:
        data = {"chat_id": chat} if chat is not None else {}

        async def call() -> dict[str, Any]:
            if self.refuse.get(chat):
                self.refuse[chat] -= 1
                raise RetryAfter(1)
            self.sent.append((chat, time.monotonic()))
            return {"ok": True}

        return lanes.process_request(call, (), {}, endpoint, data, None)


async def test_replies_in_a_members_turn_do_not_wait_for_the_bulk_budget() -> None:
    """Ten replies to the chat being handled go at once while bulk sends are held at the rate."""
    lanes, calls = Lanes(bulk_rate=2), Calls()
    started = time.monotonic()

    async def turn() -> None:
        REPLYING_TO.set(7)
        await asyncio.gather(*(calls.request(lanes, 7) for _ in range(10)))

    await asyncio.gather(turn(), *(calls.request(lanes, 100 + n) for n in range(4)))
    replies = [at - started for chat, at in calls.sent if chat == 7]
    bulk = sorted(at - started for chat, at in calls.sent if chat != 7)
    assert len(replies) == 10 and max(replies) < 0.5
    assert len(bulk) == 4 and bulk[2] >= 0.9, "2 a second: the third bulk send waits a second"


async def test_the_sliding_window_never_lets_more_than_the_rate_through_in_any_second() -> None:
    """Stricter than a token bucket: 3 a period means 3 in every sliding period, counted from
    when a request returned, so that delays on the way cannot bunch requests up at Telegram."""
    window, spans = SlidingWindow(3, 0.5), []

    async def send() -> None:
        async with window.slot():
            started = time.monotonic()
            await asyncio.sleep(0.05)  # a round trip
            spans.append((started, time.monotonic()))

    await asyncio.gather(*(send() for _ in range(9)))
    for _, returned in spans:  # within a period after an answer, at most 3 requests started
        assert sum(1 for s, _ in spans if returned < s < returned + 0.5 - 0.01) <= 2
    assert len(spans) == 9


async def test_a_429_delays_that_chat_only_and_the_request_is_sent_once() -> None:
    """A reply to chat 1 was refused: it is retried after retry_after; chat 2 is not held back."""
    lanes, calls = Lanes(), Calls()
    calls.refuse[1] = 1
    started = time.monotonic()

    async def reply() -> None:
        REPLYING_TO.set(1)
        await calls.request(lanes, 1)

    await asyncio.gather(reply(), calls.request(lanes, 2))
    at = {chat: when - started for chat, when in calls.sent}
    assert [chat for chat, _ in calls.sent].count(1) == 1, "sent once after the retry"
    assert at[1] >= 1.0 and at[2] < 0.5


async def test_a_429_on_a_bulk_message_pauses_the_bulk_lane_but_not_replies() -> None:
    """A refused reminder holds back the fan-out, while a member's reply still goes at once."""
    lanes, calls = Lanes(), Calls()
    calls.refuse[50] = 1
    started = time.monotonic()
    first = asyncio.create_task(calls.request(lanes, 50))
    await asyncio.sleep(0.05)

    async def reply() -> None:
        REPLYING_TO.set(9)
        await calls.request(lanes, 9)

    await asyncio.gather(first, calls.request(lanes, 51), reply())
    at = {chat: when - started for chat, when in calls.sent}
    assert at[9] < 0.5 and at[51] >= 1.0 and at[50] >= 1.0


async def test_after_the_retries_the_429_reaches_the_caller_which_keeps_the_message() -> None:
    """Nothing is dropped silently: the outbox and the sweep see RetryAfter and send later."""
    lanes, calls = Lanes(bulk_rate=0, max_retries=0), Calls()
    calls.refuse[3] = 1
    with pytest.raises(RetryAfter):
        await calls.request(lanes, 3)
    assert calls.sent == []
