"""Staff members who answer the whole check as fast as the bot replies, through any transport.

A member joins with the invite link, starts, answers all 45 questions (ratings, yes with a
description or no, measures typed or "keine geplant"), submits and confirms. What to do next is
read from the one message that shows buttons, as a person would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from dialogues.catalogue import Catalogue

MAX_STEPS = 200  # updates per member before the benchmark gives up on them (45 questions ≈ 70)


class BenchError(Exception):
    """The bot did not answer as the benchmark expects."""


@dataclass
class Tracker:
    """Time every update from its first handler starting to its last handler returning.

    Two TypeHandlers in groups of their own, before and after all of the bot's handlers.
    """

    started: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, one per update
    waiters: dict[int, asyncio.Future[float]] = field(default_factory=dict)
    updates: int = 0
    first: float | None = None
    last: float | None = None

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        app.add_handler(TypeHandler(Update, self._start), group=-1000)
        app.add_handler(TypeHandler(Update, self._end), group=1000)

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        now = time.perf_counter()
        self.started[update.update_id] = now
        if self.first is None:
            self.first = now

    async def _end(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        now = time.perf_counter()
        self.latencies.append(now - self.started.pop(update.update_id))
        self.updates += 1
        self.last = now
        waiter = self.waiters.pop(update.update_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)

    def expect(self, update_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[update_id] = future
        return future

    def reset(self) -> None:
        self.latencies.clear()
        self.updates = 0
        self.first = self.last = None


class Transport(Protocol):
    """How a member reaches the bot and sees its messages."""

    def active(self, chat_id: int) -> dict[str, Any] | None:
        """Return the bot's message with buttons in the chat (a Message dict), if any."""

    async def text(self, member: Member, text: str) -> float:
        """Send a text message; return when the bot has handled it (perf_counter seconds)."""

    async def press(self, member: Member, message: dict[str, Any], data: str) -> float:
        """Press a button; return when the bot has handled it."""


@dataclass
class Member:
    user: dict[str, Any]
    code: str
    response_times: list[float] = field(default_factory=list)  # sent → handled, queue included
    updates: int = 0

    @property
    def chat_id(self) -> int:
        return int(self.user["id"])


def make_member(user_id: int, code: str) -> Member:
    return Member(
        {
            "id": user_id,
            "is_bot": False,
            "first_name": f"Person{user_id % 100000}",
            "language_code": "de",
        },
        code,
    )


Choice = Callable[[], Any]


async def complete_check(member: Member, transport: Transport, catalogue: Catalogue) -> None:
    """Join, answer all questions, submit and confirm; as fast as the bot replies."""
    order = [r.id for r in catalogue.requirements]
    await _timed(member, transport.text(member, f"/start {member.code}"))
    for _ in range(MAX_STEPS):
        active = transport.active(member.chat_id)
        if active is None:
            raise BenchError(f"member {member.chat_id}: no message with buttons to go on with")
        data = [
            b["callback_data"]
            for row in active["reply_markup"]["inline_keyboard"]
            for b in row
            if "callback_data" in b
        ]
        if "y" in data:  # "Ja, absenden": the last step
            await _timed(member, transport.press(member, active, "y"))
            return
        action = _next(data, order)
        if action[0] == "press":
            await _timed(member, transport.press(member, active, action[1]))
        else:
            await _timed(member, transport.text(member, action[1]))
    raise BenchError(f"member {member.chat_id} did not finish in {MAX_STEPS} updates")


async def _timed(member: Member, handled: Any) -> None:
    sent = time.perf_counter()
    done = await handled
    member.response_times.append(done - sent)
    member.updates += 1


def _next(data: list[str], order: list[str]) -> tuple[str, str]:
    """Decide what to do with the buttons shown: which to press, or what to type."""
    if "s" in data:
        return "press", "s"
    skip_plan = next((d for d in data if d.startswith("mp:s:")), None)
    if skip_plan is not None:  # the measures' "Bis wann?" (issue 16): skipped, as many will
        return "press", skip_plan
    choices = [d for d in data if d.startswith("c:")]
    if choices:
        requirement, _, question = choices[0].split(":")[1].partition(".")
        number = 3 * order.index(requirement) + int(question)
        if question == "0":  # the rating: vary it over the scale
            return "press", choices[number % len(choices)]
        if question == "1" and not any(c.endswith(":yes") for c in choices):
            # The description after "yes": its screen offers only "no" to change the answer.
            return "text", "Potenzial: Formulare in einfacher Sprache & mehr Termine am Abend 📄"
        if question == "1":  # room for improvement: yes (then describe it) or no
            return "press", next(c for c in choices if c.endswith(":yes" if number % 2 else ":no"))
        if number % 3:  # measures: typed, or "keine geplant"
            return (
                "text",
                f"Maßnahme {number}: Schulung für Team B, Formulare <kürzer>, bis 06/2027",
            )
        return "press", choices[0]
    if any(d.startswith("b:") for d in data):  # a follow-up asks for text
        return "text", "Potenzial: Formulare in einfacher Sprache & mehr Termine am Abend 📄"
    if "r" in data:
        return "press", "r"
    raise BenchError(f"no known way on from buttons {data}")
