"""A clock for in-process runs of the bot (botharness.running_bot) at a reminder's time."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.checks import utc_now


class ShiftedClock:
    """The real clock, moved by an offset: the bot lives at a reminder's time."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - utc_now()

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
