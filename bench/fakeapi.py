"""An in-process Bot API: a PTB request class that answers like Telegram, without a network.

Passed to the Application as its `request`, it receives each call exactly as PTB would post
it (form fields, JSON-encoded where not strings) and answers with the JSON Telegram sends:
Message objects with entities and the inline keyboard echoed. Only the bot's own cost is left to
measure; the time spent in here is counted apart (`busy`) so it can be taken out.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bench.common import BOT_USERNAME

BOT_USER = {"id": 42, "is_bot": True, "first_name": "ChancenCheck Bench", "username": BOT_USERNAME}
_TAG = re.compile(r"(<[^>]+>)")
_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "s": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the visible text and the entities Telegram makes of Telegram HTML."""
    visible, entities, open_tags, length = [], [], [], 0
    for token in _TAG.split(text):
        if not token:
            continue
        if token.startswith("<"):
            name = token.strip("</>").split()[0].lower() if token.strip("</>") else ""
            if token.startswith("</"):
                for index in range(len(open_tags) - 1, -1, -1):
                    if open_tags[index][0] == name:
                        tag, start = open_tags.pop(index)
                        if length > start:
                            entities.append(
                                {
                                    "type": _ENTITY.get(tag, "bold"),
                                    "offset": start,
                                    "length": length - start,
                                }
                            )
                        break
            else:
                open_tags.append((name, length))
            continue
        plain = html.unescape(token)
        visible.append(plain)
        length += len(plain.encode("utf-16-le")) // 2
    return "".join(visible), sorted(entities, key=lambda e: e["offset"])


@dataclass
class Chat:
    """What the fake remembers of one chat: the next message id and the message with buttons."""

    chat: dict[str, Any]
    next_id: int = 1
    active: dict[str, Any] | None = None  # the newest bot message that still has buttons
    messages: int = 0


@dataclass
class InProcessBotApi(BaseRequest):
    """Answer Bot API calls in-process; count them and the time spent answering."""

    calls: Counter[str] = field(default_factory=Counter)
    busy: float = 0.0  # seconds spent in here, not in the bot
    chats: dict[int, Chat] = field(default_factory=dict)
    latency: float = 0.0  # seconds each call waits, as for a round trip to Telegram

    # -- BaseRequest --------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """Answer one call as Telegram would."""
        started = time.perf_counter()
        name = url.rpartition("/")[2]
        self.calls[name] += 1
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        answer = getattr(self, f"_{name.lower()}", None)
        result = answer(params) if answer else True
        body = json.dumps({"ok": True, "result": result}).encode()
        self.busy += time.perf_counter() - started
        if self.latency:
            await asyncio.sleep(self.latency)
        return 200, body

    # -- chats -------------------------------------------------------------------------------

    def add_private_chat(self, user: dict[str, Any]) -> Chat:
        chat = Chat({"id": user["id"], "type": "private", "first_name": user["first_name"]})
        self.chats[user["id"]] = chat
        return chat

    def add_group(self, chat_id: int, title: str) -> Chat:
        chat = Chat({"id": chat_id, "type": "supergroup", "title": title})
        self.chats[chat_id] = chat
        return chat

    def next_message_id(self, chat_id: int) -> int:
        chat = self.chats[chat_id]
        chat.next_id += 1
        return chat.next_id - 1

    def _message(
        self, params: dict[str, Any], *, message_id: int | None = None, text_key: str = "text"
    ) -> dict[str, Any]:
        chat = self.chats[int(params["chat_id"])]
        text, entities = parse_html(params.get(text_key, ""))
        message: dict[str, Any] = {
            "message_id": message_id or self.next_message_id(int(params["chat_id"])),
            "from": BOT_USER,
            "chat": chat.chat,
            "date": int(time.time()),
        }
        if text:
            message["text" if text_key == "text" else "caption"] = text
        if entities:
            message["entities" if text_key == "text" else "caption_entities"] = entities
        markup = json.loads(params["reply_markup"]) if "reply_markup" in params else None
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        if message_id is None:
            chat.messages += 1
        if "reply_markup" in message:
            chat.active = message
        elif chat.active is not None and chat.active["message_id"] == message["message_id"]:
            chat.active = None
        return message

    # -- methods -----------------------------------------------------------------------------

    def _getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params)

    def _editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, message_id=int(params["message_id"]))

    def _editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chats[int(params["chat_id"])]
        if chat.active is not None and chat.active["message_id"] == int(params["message_id"]):
            chat.active = None
        return {
            "message_id": int(params["message_id"]),
            "from": BOT_USER,
            "chat": chat.chat,
            "date": int(time.time()),
            "text": "…",
        }

    def _sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params, text_key="caption")
        message["photo"] = [
            {
                "file_id": "AgAC",
                "file_unique_id": "AQAD",
                "width": 800,
                "height": 600,
                "file_size": 1000,
            }
        ]
        return message

    def _senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params, text_key="caption")
        message["document"] = {
            "file_id": "BQAC",
            "file_unique_id": "AgAD",
            "file_name": "file",
            "file_size": 1000,
        }
        return message
