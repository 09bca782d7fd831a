"""The fake Bot API with what the operations and reliability suites need on top.

- getChatMember, setWebhook and a getWebhookInfo that reports them, for `doctor` and webhooks;
- Chaos: a share of calls answered with 5xx, 429 with retry_after, a dropped connection (before
  or after the call took effect) or no answer until the client times out (before or after).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from fakebot import FakeBotApi
from fakebot.server import ApiError, _Fault, _int

_TIMEOUT: ContextVar[str | None] = ContextVar("fake_timeout", default=None)
HANG = 30.0  # seconds a "timeout" holds the answer; the client gives up long before

# kind -> weight; "timeout" and "drop" come in a before/after variant each.
FAULT_MIX = {
    "500": 2,
    "502": 1,
    "503": 1,
    "429": 3,
    "drop-before": 2,
    "drop-after": 2,
    "timeout-before": 1,
    "timeout-after": 1,
}


@dataclass
class Chaos:
    """Faults at random for a share of the calls to some methods."""

    rate: float
    seed: int = 0
    methods: frozenset[str] | None = None  # lower-case method names; None: every method
    retry_after: int = 1
    chat_rates: dict[int, float] = field(default_factory=dict)  # a higher share for some chats
    injected: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, kind, chat_id)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self, method: str, params: dict[str, Any]) -> str | None:
        """Return the kind of fault for this call, or None to answer it normally."""
        if self.methods is not None and method.lower() not in self.methods:
            return None
        rate = self.chat_rates.get(_int_or_none(params.get("chat_id")), self.rate)
        if self.rng.random() >= rate:
            return None
        kinds, weights = zip(*FAULT_MIX.items(), strict=True)
        kind = self.rng.choices(kinds, weights)[0]
        self.injected[kind] += 1
        self.log.append((method, kind, params.get("chat_id")))
        return kind


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class OpsBotApi(FakeBotApi):
    """FakeBotApi with getChatMember, a webhook registry and chaos."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bot_member: dict[int, dict[str, Any]] = {}  # chat id -> the bot's ChatMember
        self.webhook: dict[str, Any] = {}
        self.chaos: Chaos | None = None
        # Called after a call took effect, before its answer is written (e.g. to kill the bot).
        self.after_effect: Callable[[str, dict[str, Any]], None] | None = None
        self.slow: dict[str, float] = {}  # method -> seconds Telegram takes to act on it

    def _take_fault(self, method: str, params: Any) -> _Fault | None:
        _TIMEOUT.set(None)
        planned = super()._take_fault(method, params)
        if planned is not None or self.chaos is None:
            return planned
        kind = self.chaos.pick(method, params)
        if kind is None:
            return None
        if kind.startswith("timeout"):
            _TIMEOUT.set(kind)
            return None
        if kind.startswith("drop"):
            return _Fault("drop", after_processing=kind == "drop-after")
        status = int(kind)
        retry = self.chaos.retry_after if status == 429 else None
        text = f"Too Many Requests: retry after {retry}" if retry else "Bad Gateway"
        return _Fault("fail", status, text, retry)

    async def _dispatch(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> Any:
        timeout = _TIMEOUT.get()
        if method in self.slow:
            await asyncio.sleep(self.slow[method])
        if timeout == "timeout-before":
            await asyncio.sleep(HANG)  # cancelled when the client gives up: nothing happens
        result = await super()._dispatch(method, params, files)
        if self.after_effect is not None:
            self.after_effect(method, params)
        if timeout == "timeout-after":
            await asyncio.sleep(HANG)  # it took effect, but the answer never comes
        return result

    # ------------------------------------------------------------------ more Bot API methods

    async def _api_getchatmember(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat(params)
        user_id = _int(params.get("user_id"))
        if user_id != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: member not found")
        if int(chat["id"]) in self.left:
            return {"status": "left", "user": self.bot_user}
        return self.bot_member.get(int(chat["id"]), {"status": "member", "user": self.bot_user})

    async def _api_setwebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def _api_deletewebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook = {}
        return await super()._api_deletewebhook(params, files)

    async def _api_getwebhookinfo(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        info = await super()._api_getwebhookinfo(params, files)
        return {**info, "url": self.webhook.get("url", "")}


def restricted(bot_user: dict[str, Any], **allowed: bool) -> dict[str, Any]:
    """Return a ChatMemberRestricted for the bot: everything allowed but what is named False."""
    rights = (
        "can_send_messages",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_manage_topics",
        "can_edit_tag",
        "can_react_to_messages",
    )
    return {
        "status": "restricted",
        "user": bot_user,
        "is_member": True,
        "until_date": 0,
        **{right: allowed.get(right, True) for right in rights},
    }
