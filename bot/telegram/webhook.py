"""Webhook mode: Telegram posts each update to a local web server instead of being polled.

The server is PTB's own (tornado), started by `Updater.start_webhook` inside our `serve`: it
answers 403 to every request without the configured secret token in the header
`X-Telegram-Bot-Api-Secret-Token`, and 200 once the update is queued. A reverse proxy in front
terminates HTTPS. Stopping keeps the webhook registered, so Telegram holds the updates that
arrive during a restart and delivers them afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Updater

from bot.config import WebhookSection

log = logging.getLogger(__name__)


def receive_webhook(webhook: WebhookSection) -> Callable[[Updater], Awaitable[object]]:
    """Return how `serve` starts the webhook server and registers it with Telegram."""
    assert webhook.url is not None and webhook.secret_token is not None

    async def start(updater: Updater) -> object:
        queue = await updater.start_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.url_path,
            webhook_url=webhook.url,
            secret_token=webhook.secret_token.get_secret_value(),  # type: ignore[union-attr]
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,  # what arrived while the bot was down is answered
        )
        log.info(
            "receiving updates at %s (listening on %s:%s%s)",
            webhook.url,
            webhook.listen,
            webhook.port,
            webhook.url_path,
        )
        return queue

    return start
