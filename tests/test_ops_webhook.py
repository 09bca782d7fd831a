"""Webhook mode: Telegram posts updates to the bot's own server, which refuses posts without the
secret token, and keeps the webhook registered across a stop."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp
import pytest
from botharness import make_config
from reliability.fakes import OpsBotApi

from bot.config import Config, ConfigError, load_config
from bot.telegram.app import build_application, serve
from bot.telegram.webhook import receive_webhook

SECRET = "s3cret-Token_0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path, server: OpsBotApi) -> Config:
    port = free_port()
    extra = (
        f'\n[webhook]\nurl = "https://bot.example.org/telegram"\nport = {port}\n'
        f'secret_token = "{SECRET}"\n'
    )
    return make_config(tmp_path, server, extra)


def hilfe(update_id: int, user_id: int = 1001) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": "/hilfe",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "from": {"id": user_id, "is_bot": False, "first_name": "Anna"},
            "chat": {"id": user_id, "type": "private", "first_name": "Anna"},
        },
    }


async def test_the_webhook_answers_only_posts_with_the_secret_token(
    config: Config, server: OpsBotApi
) -> None:
    server.user(1001, "Anna")
    app = build_application(config)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop, receive=receive_webhook(config.webhook)))
    registered = await server.wait_for(lambda r: r.method == "setWebhook", timeout=20)
    assert registered.params["url"] == "https://bot.example.org/telegram"
    assert registered.params["secret_token"] == SECRET
    url = f"http://127.0.0.1:{config.webhook.port}/telegram"
    await _until_listening(url)
    try:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for update_id, headers in ((1, {}), (2, {HEADER: "wrong"}), (3, {HEADER: SECRET})):
                async with http.post(url, json=hilfe(update_id), headers=headers) as response:
                    statuses.append(response.status)
        await server.wait_for(lambda r: r.method == "sendMessage", timeout=10)
    finally:
        stop.set()
        # Stopping handles every update already received first: what follows sees all replies.
        await asyncio.wait_for(task, timeout=15)

    assert statuses == [403, 403, 200]
    replies = server.calls("sendMessage")
    assert len(replies) == 1 and replies[0].params["chat_id"] == 1001
    assert not server.calls("getUpdates"), "webhook mode does not poll"
    assert not server.calls("deleteWebhook"), "a stop keeps the webhook, so nothing is lost"
    assert server.webhook["url"] == "https://bot.example.org/telegram"


async def _until_listening(url: str) -> None:
    deadline = time.monotonic() + 10
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    assert response.status in (403, 405)
                    return
            except aiohttp.ClientConnectionError:
                assert time.monotonic() < deadline, "the webhook server did not start"
                await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("webhook", "problem"),
    [
        ('url = "https://bot.example.org/t"', "webhook.secret_token is missing, but url is set"),
        ('url = "http://bot.example.org/t"\nsecret_token = "abc"', "is not an https:// URL"),
        ('url = "https://bot.example.org/t"\nsecret_token = "a b"', "has characters Telegram"),
        ('url = "https://bot.example.org/t"\nsecret_token = "abc"\nport = 70000', "is too large"),
    ],
)
def test_a_webhook_without_https_or_secret_is_refused_at_start(
    tmp_path: Path, webhook: str, problem: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[webhook]\n{webhook}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert problem in str(error.value)
    assert '"a b"' not in str(error.value), "the secret is never shown"


def test_the_secret_may_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[webhook]\nurl = "https://bot.example.org/hook"\n', encoding="utf-8")
    config = load_config(path, env={"CHANCENCHECK_WEBHOOK_SECRET": SECRET})
    assert config.webhook.secret_token is not None
    assert config.webhook.secret_token.get_secret_value() == SECRET
    assert config.webhook.url_path == "/hook"
    assert load_config(None, env={}).webhook.url is None, "polling stays the default"
