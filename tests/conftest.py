"""Shared pytest fixtures."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from fakebot import FakeBotApi, assert_requests_valid, require_api_spec
from reliability.fakes import OpsBotApi

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


@pytest.fixture
async def server() -> AsyncIterator[OpsBotApi]:
    """Yield a started OpsBotApi (getChatMember, webhooks, chaos) for tests that run the bot
    as an operator would; fail the test if the fake failed or a request broke the spec."""
    require_api_spec()
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)  # httpx logs request URLs, which contain the token
    try:
        async with OpsBotApi() as fake:
            yield fake
    finally:
        httpx_logger.setLevel(level)
    assert not fake.internal_errors, fake.internal_errors
    assert_requests_valid(fake.requests)
