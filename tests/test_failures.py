"""One judgement of Telegram's errors, shared by the outbox courier and the reminder delivery."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.telegram.failures import Verdict, classify


def _caused(error: NetworkError, cause: BaseException) -> NetworkError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (RetryAfter(3), Verdict.FLOODED),
        (ChatMigrated(-100123), Verdict.MIGRATED),
        (Forbidden("Forbidden: bot was blocked by the user"), Verdict.BLOCKED),
        (BadRequest("Bad Request: chat not found"), Verdict.BLOCKED),
        (BadRequest("Bad Request: message is too long"), Verdict.REFUSED),
        (_caused(NetworkError("connect"), httpx.ConnectError("refused")), Verdict.NOT_SENT),
        (NetworkError("Bad Gateway"), Verdict.NOT_SENT),  # Telegram answered 502: nothing sent
        (_caused(TimedOut(), httpx.ReadTimeout("read")), Verdict.UNCERTAIN),
        (Conflict("terminated by other getUpdates request"), Verdict.OTHER),
    ],
)
def test_each_error_gets_its_verdict(error: TelegramError, verdict: Verdict) -> None:
    """Protects 'nothing sent twice' and 'nothing lost': a timeout may have delivered (never
    again), a refused connection did not (again later), a block ends the member's reminders."""
    assert classify(error).verdict is verdict


def test_the_wait_and_the_new_chat_are_kept() -> None:
    """Protects the retry time of a 429 and the new id of a migrated group."""
    assert classify(RetryAfter(timedelta(seconds=7))).retry_after == timedelta(seconds=7)
    assert classify(RetryAfter(2)).retry_after == timedelta(seconds=2)
    assert classify(ChatMigrated(-100555)).new_chat_id == -100555
