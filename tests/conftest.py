"""Shared pytest fixtures."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from fakebot import FakeBotApi, assert_requests_valid, require_api_spec

# ---------------------------------------------------------------------------------------------
# Fake Telegram Bot API (tests/fakebot): a server a real PTB Application runs against, plus a
# check of every request against the official Bot API spec (../shared/telegram-bot-api).
# ---------------------------------------------------------------------------------------------

FAKE_BOT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """Yield a started FakeBotApi; fail the test if any request it received breaks the spec."""
    # Checked up front: without the spec the test's requests could not be validated at the end.
    require_api_spec()
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)  # httpx logs request URLs, which contain the token
    try:
        async with FakeBotApi(FAKE_BOT_TOKEN) as server:
            yield server
    finally:
        httpx_logger.setLevel(level)
    assert not server.internal_errors, f"the fake Bot API itself failed: {server.internal_errors}"
    assert_requests_valid(server.requests)
