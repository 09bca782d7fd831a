"""Logging set-up that never lets the bot token through."""

from __future__ import annotations

import logging


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


def setup_logging(level: str, token: str | None = None) -> None:
    """Log one line per event; keep httpx quiet, since its request URLs carry the token."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
