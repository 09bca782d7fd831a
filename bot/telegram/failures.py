"""What a Telegram error says about a message: one judgement for the outbox and the reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

# Errors that prove the request never reached Telegram, so sending again cannot double it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Verdict(Enum):
    FLOODED = "flooded"  # RetryAfter: nothing was sent; wait as asked, then send it again
    MIGRATED = "migrated"  # the group became a supergroup with a new id
    BLOCKED = "blocked"  # the member blocked the bot or deleted the chat
    REFUSED = "refused"  # a bad request: sending it again would fail again
    NOT_SENT = "not sent"  # a network error that proves nothing reached Telegram
    UNCERTAIN = "uncertain"  # a network error after which Telegram may have delivered it
    OTHER = "other"  # the bot's own trouble (token, webhook conflict), not the message's


@dataclass(frozen=True)
class Failure:
    verdict: Verdict
    message: str
    retry_after: timedelta = timedelta(0)  # FLOODED: how long Telegram asks to wait
    new_chat_id: int | None = None  # MIGRATED: the chat's new id


def classify(exc: TelegramError) -> Failure:
    """Judge a Telegram error; the order matters, BadRequest is a NetworkError."""
    if isinstance(exc, RetryAfter):
        return Failure(Verdict.FLOODED, exc.message, retry_after=_wait(exc.retry_after))
    if isinstance(exc, ChatMigrated):
        return Failure(Verdict.MIGRATED, exc.message, new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return Failure(Verdict.BLOCKED, exc.message)
    if isinstance(exc, BadRequest):
        gone = "chat not found" in exc.message.lower()
        return Failure(Verdict.BLOCKED if gone else Verdict.REFUSED, exc.message)
    if isinstance(exc, NetworkError):  # timeouts too
        return Failure(Verdict.NOT_SENT if surely_not_sent(exc) else Verdict.UNCERTAIN, exc.message)
    return Failure(Verdict.OTHER, exc.message)


def surely_not_sent(exc: NetworkError) -> bool:
    """Tell whether a network error proves the message never reached Telegram."""
    cause = exc.__cause__
    # No transport error behind it: Telegram answered, with an error status (5xx).
    return cause is None or isinstance(cause, (TelegramError, *NOT_SENT))


def _wait(retry_after: int | timedelta) -> timedelta:
    return retry_after if isinstance(retry_after, timedelta) else timedelta(seconds=retry_after)
