"""Random and malformed updates: every message type, forged buttons, texts meant to break things.

Each generated update says what a correct bot must do about it: reply in a private chat, answer
a button press, or nothing (channel posts, other bots' business, what cannot be read at all).
"""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass
from typing import Any

from fakebot import FakeBotApi

NASTY_TEXTS = [
    "",
    " ",
    "\n\n\t",
    "\u200b",
    "\u202eevil\u202c",
    "\ufeffBOM",
    "\x00\x01\x02\x1b[31mred",
    "<b>bold",
    "</i>",
    '<a href="javascript:alert(1)">x</a>',
    "&amp; &lt; &gt; &quot; &#0;",
    "<script>alert('x')</script>",
    "<tg-spoiler>",
    '<pre><code class="x">',
    "'; DROP TABLE answers; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM members;--",
    "%s %n %x {0} {{}} ${x}",
    "{{ 7*7 }} {% raw %}",
    "../../etc/passwd",
    "c:Z1.0:full",
    "/start",
    "/start ' OR 1=1 --",
    "/weiter@other_bot",
    "/WEITER",
    "/",
    "//",
    "/x" * 40,
    "/zurueck extra args",
    "/absenden",
    "/wiedereroeffnen ABH",
    "/frist 2000-01-01",
    "/status",
    "/export",
    "/bericht VHS",
    "/runde",
    "/erinnerungen aus",
    "/sprache",
    "/hilfe",
    "ja",
    "Ja",
    "nein",
    "keine geplant",
    "vollständig erfüllt",
    "🟢",
    "👍🏽" * 50,
    "مرحبا بالعالم",
    "Привет мир",
    "你好世界",
    "שלום",
    "Ελληνικά",
    "e\u0301\u0302\u0303" * 30,
    "👨‍👩‍👧‍👦" * 100,
    "a" * 4096,
    "ü" * 5000,
    "x" * 20000,
    "\r\n" * 500,
]
COMMANDS = [
    "start",
    "weiter",
    "continue",
    "uebersicht",
    "overview",
    "pruefen",
    "review",
    "zurueck",
    "back",
    "ueberspringen",
    "skip",
    "erklaerung",
    "explain",
    "pause",
    "absenden",
    "submit",
    "hilfe",
    "help",
    "sprache",
    "language",
    "erinnerungen",
    "status",
    "bericht",
    "export",
    "heatmap",
    "wiedereroeffnen",
    "runde",
    "frist",
    "unbekannt",
    "start@chancencheck_test_bot",
    "weiter@someone_else_bot",
]
CALLBACKS = [
    "c:Z1.0:full",
    "c:Z1.1:yes",
    "c:Z1.2:none",
    "c:K9.0:full",
    "c:Z1.7:full",
    "c:Z1.0:" + "x" * 50,
    "j:Z1",
    "j:../../x",
    "j:",
    "r",
    "w",
    "p",
    "o",
    "v",
    "s",
    "y",
    "x",
    "k:Z1.0",
    "b:Z1.1",
    "n:Z9.9",
    "h:",
    "",
    ":",
    "::::",
    "c::",
    "💥",
    "'; DROP TABLE checks; --",
    "a" * 64,
    "r:extra",
    "s:Z1.0",
    "y" * 3,
]
# Confirmations of /loeschen and /austreten: forged by strangers they must do no harm. (From
# members they would act on the members themselves, as the real buttons do.)
PRIVACY = ["privacy:erase", "privacy:leave", "privacy:cancel", "privacy:", "privacy:erase:x"]


@dataclass
class Planned:
    """An update and what the bot owes the sender."""

    update: dict[str, Any]
    expects: str  # "reply" (a message to chat_id), "answer" (the callback query) or "nothing"
    chat_id: int | None = None
    query_id: str | None = None
    kind: str = ""


class Fuzzer:
    """Make updates from a few known and many unknown users, in private chats and groups."""

    def __init__(
        self, server: FakeBotApi, rng: random.Random, members: list[int], groups: list[int]
    ) -> None:
        self.server, self.rng, self.members, self.groups = server, rng, members, groups
        self.unknown = [7_000_000 + n for n in range(60)]
        self.queries = 0

    def user(self, user_id: int) -> dict[str, Any]:
        names = ["Anna", "<b>Ben</b>", "Zoë 🚀", "", "\u202eRTL", "x" * 64, "O'Brien"]
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": self.rng.choice(names) or "_",
        }
        if self.rng.random() < 0.7:
            user["language_code"] = self.rng.choice(["de", "en", "tr", "ar", "", "xx-YY"])
        return user

    def text(self) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.rng.choice(NASTY_TEXTS)
        if roll < 0.6:
            return f"/{self.rng.choice(COMMANDS)}" + self.rng.choice(
                ["", " ", " ABH", " 💥", f" {self.junk(20)}"]
            )
        return self.junk(self.rng.choice([1, 5, 40, 300, 3000]))

    def junk(self, length: int) -> str:
        alphabet = string.printable + "äöüß€😀👍🏽\u0301\u200d\u202e\x00\x7fمرحبا你好"
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def entities(self, text: str) -> list[dict[str, Any]]:
        if text.startswith("/") and self.rng.random() < 0.8:
            return [{"type": "bot_command", "offset": 0, "length": len(text.split()[0] or "/")}]
        if self.rng.random() < 0.2:  # entities pointing anywhere, even past the end
            return [
                {
                    "type": self.rng.choice(["bold", "bot_command", "url", "mention"]),
                    "offset": self.rng.randrange(0, len(text) + 10),
                    "length": self.rng.randrange(0, 50),
                }
            ]
        return []

    def message(self, chat: dict[str, Any], sender: dict[str, Any] | None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.server.next_message_id(int(chat["id"])),
            "date": int(time.time()),
            "chat": chat,
        }
        if sender is not None:
            message["from"] = sender
        roll = self.rng.random()
        if roll < 0.6:
            text = self.text()
            message["text"] = text
            if entities := self.entities(text):
                message["entities"] = entities
        else:
            message.update(self.media())
        if self.rng.random() < 0.1:
            message["reply_to_message"] = {
                "message_id": 999_999,
                "date": 0,
                "chat": chat,
                "text": "old",
            }
        if self.rng.random() < 0.05:
            message["forward_origin"] = {"type": "hidden_user", "date": 0, "sender_user_name": "X"}
        return message

    def media(self) -> dict[str, Any]:
        file = {"file_id": f"F{self.rng.randrange(10**6)}", "file_unique_id": "U1"}
        choices: list[dict[str, Any]] = [
            {"photo": [{**file, "width": 1, "height": 1}]},
            {
                "sticker": {
                    **file,
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "😀",
                }
            },
            {"voice": {**file, "duration": 1}},
            {"document": {**file, "file_name": "a.pdf"}},
            {"video": {**file, "width": 1, "height": 1, "duration": 1}},
            {"audio": {**file, "duration": 1}},
            {"video_note": {**file, "length": 1, "duration": 1}},
            {"animation": {**file, "width": 1, "height": 1, "duration": 1}},
            {"location": {"latitude": 49.48, "longitude": 8.44}},
            {
                "venue": {
                    "location": {"latitude": 0, "longitude": 0},
                    "title": "<b>",
                    "address": "x",
                }
            },
            {"contact": {"phone_number": "+49 621 0", "first_name": "Eve"}},
            {"dice": {"emoji": "🎲", "value": 6}},
            {
                "poll": {
                    "id": "1",
                    "question": "?",
                    "options": [{"text": "a", "voter_count": 0, "persistent_id": "0"}],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                }
            },
            {},  # a message with no content at all
        ]
        content = self.rng.choice(choices)
        if content and self.rng.random() < 0.3:
            content["caption"] = self.text()[:1024]
        return content

    def private(self, user_id: int) -> Planned:
        sender = self.user(user_id)
        chat = {"id": user_id, "type": "private", "first_name": sender["first_name"]}
        self.server.add_chat(chat)
        message = self.message(chat, sender)
        key = "edited_message" if self.rng.random() < 0.08 else "message"
        if key == "edited_message":
            message["edit_date"] = int(time.time())
        update = self.server.inject({key: message})
        return Planned(update, "reply", user_id, kind=f"private {key}")

    def button(self, user_id: int) -> Planned:
        sender = self.user(user_id)
        chat = {"id": user_id, "type": "private", "first_name": sender["first_name"]}
        self.server.add_chat(chat)
        query_id = f"fuzz{self.queries}"
        self.queries += 1
        self.server.callback_queries[query_id] = None
        query: dict[str, Any] = {
            "id": query_id,
            "from": sender,
            "chat_instance": "1",
            "data": self.rng.choice(CALLBACKS if user_id in self.members else CALLBACKS + PRIVACY),
        }
        shown = self.server.chat_messages(user_id)
        roll = self.rng.random()
        if shown and roll < 0.5:
            query["message"] = self.server.message_dict(self.rng.choice(shown))
        elif roll < 0.85:
            query["message"] = {
                "message_id": self.rng.randrange(1, 10**6),
                "date": 0,
                "chat": chat,
            }  # inaccessible, or never sent by the bot
        else:
            query["inline_message_id"] = "AAAA"  # as from an inline message: no message
        if self.rng.random() < 0.1:
            query.pop("data")
            query["game_short_name"] = "nope"
        update = self.server.inject({"callback_query": query})
        return Planned(update, "answer", user_id, query_id, kind="button")

    def member_turn(self, user_id: int) -> Planned:
        """A member's plausible move with hostile content: a real button, text, or /weiter."""
        shown = [m for m in self.server.chat_messages(user_id) if m.callback_data]
        roll = self.rng.random()
        if shown and roll < 0.4:
            message = shown[-1]
            query_id = f"fuzz{self.queries}"
            self.queries += 1
            self.server.callback_queries[query_id] = None
            query = {
                "id": query_id,
                "from": self.user(user_id),
                "chat_instance": "1",
                "message": self.server.message_dict(message),
                "data": self.rng.choice(message.callback_data),
            }
            update = self.server.inject({"callback_query": query})
            return Planned(update, "answer", user_id, query_id, kind="member button")
        chat = self.server.add_chat({"id": user_id, "type": "private", "first_name": "M"})
        text = "/weiter" if roll > 0.85 else self.rng.choice(NASTY_TEXTS[:40])
        message = {
            "message_id": self.server.next_message_id(user_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        update = self.server.inject({"message": message})
        return Planned(update, "reply", user_id, kind="member text")

    def group(self, chat_id: int) -> Planned:
        chat = {"id": chat_id, "type": self.rng.choice(["group", "supergroup"]), "title": "T"}
        self.server.add_chat(chat)
        sender = self.user(self.rng.choice(self.unknown + self.members))
        message = self.message(chat, sender)
        if self.rng.random() < 0.1:
            message.pop("text", None)
            message["new_chat_members"] = [self.server.bot_user, sender]
        return Planned(self.server.inject({"message": message}), "nothing", kind="group")

    def channel(self) -> Planned:
        chat = {"id": -100_777_000 - self.rng.randrange(3), "type": "channel", "title": "C"}
        self.server.add_chat(chat)
        key = self.rng.choice(["channel_post", "edited_channel_post"])
        message = self.message(chat, None)
        message["sender_chat"] = chat
        return Planned(self.server.inject({key: message}), "nothing", kind=key)

    def other(self, user_id: int) -> Planned:
        sender = self.user(user_id)
        chat = {"id": user_id, "type": "private", "first_name": "x"}
        member = {"status": "kicked", "user": self.server.bot_user, "until_date": 0}
        choices = [
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": sender,
                    "date": 0,
                    "old_chat_member": {"status": "member", "user": self.server.bot_user},
                    "new_chat_member": member,
                }
            },
            {"inline_query": {"id": "1", "from": sender, "query": self.text()[:256], "offset": ""}},
            {
                "poll_answer": {
                    "poll_id": "1",
                    "user": sender,
                    "option_ids": [0],
                    "option_persistent_ids": ["0"],
                }
            },
            {
                "message_reaction": {
                    "chat": chat,
                    "message_id": 1,
                    "date": 0,
                    "user": sender,
                    "old_reaction": [],
                    "new_reaction": [],
                }
            },
            {
                "chat_join_request": {
                    "chat": {"id": -5, "type": "supergroup", "title": "x"},
                    "from": sender,
                    "user_chat_id": user_id,
                    "date": 0,
                }
            },
            {"some_future_update": {"x": 1}},
        ]
        return Planned(self.server.inject(self.rng.choice(choices)), "nothing", kind="other")

    def malformed(self, user_id: int) -> Planned:
        """An update the Bot API would never send: required fields missing or of the wrong type."""
        chat = {"id": user_id, "type": "private"}
        broken = self.rng.choice(
            [
                {"message": {"message_id": 1, "date": 0, "chat": chat, "sticker": {}}},
                {"message": {"message_id": "x", "date": "y", "chat": chat, "text": "hi"}},
                {"message": []},
                {"callback_query": {"id": "q"}},
                {"message": {"message_id": 1, "date": 0, "chat": chat, "photo": [{}]}},
                {"edited_message": {"chat": None}},
                # As Telegram sends polls since Bot API 9.6, if PTB were older: no persistent_id.
                {
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "chat": chat,
                        "poll": {
                            "id": "1",
                            "question": "?",
                            "options": [{"text": "a", "voter_count": 0}],
                            "total_voter_count": 0,
                            "is_closed": False,
                            "is_anonymous": True,
                            "type": "regular",
                            "allows_multiple_answers": False,
                        },
                    }
                },
            ]
        )
        return Planned(self.server.inject(broken), "nothing", kind="malformed")
