"""Queue a chart with its content in words, for readers who cannot see it (issue 21).

BITV 2.0 / WCAG 1.1.1 ask for a text alternative. The words are rendered when the image is
queued, in the same transaction as what it shows, and go as its caption where they fit
Telegram's caption limit; longer ones follow the image as their own outbox messages, so that
each part is delivered once and in order like every other queued message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import storage
from bot.render.views import split_blocks, utf16_len
from bot.reports.alt_text import CAPTION_LIMIT


async def enqueue_image(
    db: storage.Database,
    key: str,
    chat_id: int,
    kind: str,
    payload: Mapping[str, object],
    words: str,
    now: datetime,
) -> None:
    """Queue the image `kind` with `words` as its caption, or followed by them if too long."""
    if utf16_len(words) <= CAPTION_LIMIT:
        await storage.enqueue(db, key, chat_id, kind, {**payload, "caption": words}, now)
        return
    await storage.enqueue(db, key, chat_id, kind, payload, now)
    for number, text in enumerate(split_blocks("", words.split("\n"), separator="\n")):
        await storage.enqueue(db, f"{key}:words{number}", chat_id, "message", {"text": text}, now)
