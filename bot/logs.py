"""Logging set-up that never lets the bot token through."""

from __future__ import annotations

import logging

from bot.logcontext import OneLineFormatter


class RedactToken(logging.Filter):
    """Replace the bot token in every log record, wherever a library put it."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token and self.token in record.getMessage():
            record.msg = record.getMessage().replace(self.token, "<token>")
            record.args = ()
        return True


def setup_logging(level: str, token: str | None = None, *secrets: str | None) -> None:
    """Log one line per event with its context; keep httpx quiet, its URLs carry the token."""
    logging.basicConfig(level=level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The job queue would log two lines for every outbox sweep, every ten seconds.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
        # Also hides the token in tracebacks, and other secrets (the webhook's) everywhere.
        handler.setFormatter(OneLineFormatter((token, *secrets)))
