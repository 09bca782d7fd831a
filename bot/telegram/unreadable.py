"""Skip an update this version cannot read, instead of asking Telegram for it forever.

PTB parses a getUpdates answer as a whole. One update it cannot read (a field that a newer Bot
API made required, as `persistent_id` of poll options in 9.6, or simply broken data) fails the
whole batch; the poller logs it at CRITICAL, with the raw data, and asks for the same batch
again, in a tight loop: the bot answers nobody until it is updated. The fuzzer found this.

`SkippingUpdatesRequest` reads each update on its own first and replaces one that fails with a
bare update of the same id: PTB then confirms it like any other and no handler sees it. The log
names the update's id and type, never its content, which may hold what a user typed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData

log = logging.getLogger(__name__)


class SkippingUpdatesRequest(HTTPXRequest):
    """The HTTP transport for getUpdates, leaving out the updates that cannot be read."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if code != 200 or not url.endswith("/getUpdates"):
            return code, payload
        return code, skip_unreadable(payload)


def skip_unreadable(payload: bytes) -> bytes:
    """Return the getUpdates answer with every unreadable update reduced to its id."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload  # PTB reports a broken answer itself, and retries
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        return payload
    readable = [_readable(update) for update in result]
    if readable == result:
        return payload
    kept = [update for update in readable if update is not None]
    return json.dumps({**data, "result": kept}, ensure_ascii=False).encode()


def _readable(update: Any) -> dict[str, Any] | None:
    """Return the update if PTB can read it, else a bare update with its id (None without one)."""
    try:
        Update.de_json(update, None)
        return update  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001 - whatever PTB fails on, the rest must go on
        update_id = update.get("update_id") if isinstance(update, dict) else None
        kinds = [key for key in update if key != "update_id"] if isinstance(update, dict) else []
        log.error(
            "update %s (%s) cannot be read by this version of the bot and is skipped "
            "(%s); if this repeats, update python-telegram-bot",
            update_id,
            ", ".join(kinds) or "no content",
            type(exc).__name__,
        )
        return {"update_id": update_id} if isinstance(update_id, int) else None
