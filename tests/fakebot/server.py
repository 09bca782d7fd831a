"""A fake api.telegram.org: a real PTB Application runs against it unchanged.

Point PTB at it with ``.base_url(server.base_url).base_file_url(server.base_file_url)``.
PTB posts every call as form fields (``application/x-www-form-urlencoded``, or
``multipart/form-data`` when a file is uploaded) where strings are sent raw and everything else
JSON-encoded; the server decodes them by the field types of api.json, as Telegram does.

"Answered" rule used by ``send_and_wait``/``press_and_wait``/``wait_answered``: after injecting
update N the bot has answered when (1) it called getUpdates with offset > N, i.e. it took the
update off the queue, (2) at least one reply reached the user's chat after the injection (any
send*/edit*/delete*/copy*/forward* call except sendChatAction with that chat_id, or for a
button press also answerCallbackQuery for that query id; skipped with ``expect_reply=False``),
and (3) no other request is in flight and none arrived for ``settle`` seconds (0.05 by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Self

from aiohttp import web

from .apispec import ParsedText, decode_form, parse_text, utf16_len

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
ANSWER_SETTLE = 0.05
# Telegram only delivers these when allowed_updates names them explicitly.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Telegram error answer: HTTP status, description and optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


@dataclass
class Request:
    """One recorded Bot API call with its parameters decoded to plain Python."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    at: float  # time.monotonic() on arrival
    status: int | None = None  # HTTP status answered; None while in flight, 0 if dropped
    result: Any = None  # the "result" on success, the description on error
    finished: float | None = None

    def __repr__(self) -> str:
        shown = {
            k: (v if len(repr(v)) < 80 else f"{repr(v)[:77]}...") for k, v in self.params.items()
        }
        return f"<{self.method} {shown} files={list(self.files)} -> {self.status}>"


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent, as the chat shows it at one point in time."""

    chat_id: int
    message_id: int
    kind: str  # "text", "document" or "photo"
    text: str | None  # text or caption exactly as sent, markup included
    parse_mode: str | None
    visible_text: str | None  # what the user reads: markup parsed, whitespace trimmed
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    date: int
    media: Any = field(default=None, repr=False)  # Document dict or list of PhotoSize dicts
    file: tuple[str, bytes] | None = field(default=None, repr=False)  # (filename, content)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Return the inline keyboard rows (empty without one)."""
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    @property
    def button_labels(self) -> list[str]:
        """Return every inline button's text, row by row."""
        return [button["text"] for row in self.buttons for button in row]

    @property
    def callback_data(self) -> list[str]:
        """Return every inline button's callback_data, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]


@dataclass
class StoredFile:
    """A file known to the server, downloadable via getFile and the file URL."""

    file_id: str
    file_unique_id: str
    filename: str
    content: bytes
    mime_type: str
    path: str


@dataclass
class _Fault:
    kind: str  # "fail" or "drop"
    status: int = 500
    description: str = ""
    retry_after: int | None = None
    after_processing: bool = False
    migrate_to: int | None = None
    chat_id: int | None = None  # only calls to this chat fail; None: any call


class FakeUser:
    """A Telegram user writing to the bot, in a private chat or a group."""

    def __init__(self, server: FakeBotApi, user: dict[str, Any], chat: dict[str, Any]) -> None:
        self.server = server
        self.user = user
        self.chat = chat

    @property
    def id(self) -> int:
        """Return the user id."""
        return int(self.user["id"])

    @property
    def chat_id(self) -> int:
        """Return the id of the chat this user writes in."""
        return int(self.chat["id"])

    def in_group(self, chat_id: int, title: str = "Testgruppe", type: str = "group") -> FakeUser:
        """Return this user writing in a group or supergroup chat."""
        chat = self.server.add_chat({"id": chat_id, "type": type, "title": title})
        return FakeUser(self.server, self.user, chat)

    def block(self) -> None:
        """Block the bot: further sends to this chat fail with 403."""
        self.server.blocked.add(self.chat_id)

    def unblock(self) -> None:
        """Unblock the bot."""
        self.server.blocked.discard(self.chat_id)

    def messages(self) -> list[BotMessage]:
        """Return the bot's messages in this chat as shown now."""
        return self.server.chat_messages(self.chat_id)

    def last_message(self) -> BotMessage:
        """Return the bot's newest message in this chat as shown now."""
        shown = self.messages()
        if not shown:
            raise LookupError(f"the bot has no message in chat {self.chat_id}")
        return shown[-1]

    # ------------------------------------------------------------------ injecting updates

    def message(self, **content: Any) -> dict[str, Any]:
        """Inject a message from this user with arbitrary content fields; return the update."""
        message = {
            "message_id": self.server.next_message_id(self.chat_id),
            "from": self.user,
            "chat": self.chat,
            "date": int(time.time()),
            **content,
        }
        self.server.user_messages[(self.chat_id, message["message_id"])] = message
        return self.server.inject({"message": message})

    def send(self, text: str) -> dict[str, Any]:
        """Send a text message; commands get bot_command entities as Telegram adds them."""
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
            for match in _COMMAND.finditer(text)
        ]
        return self.message(text=text, **({"entities": entities} if entities else {}))

    def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        """Send a sticker."""
        stored = self.server.store_file("sticker.webp", b"RIFF-sticker", "image/webp")
        sticker = {
            **_file_fields(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.message(sticker=sticker)

    def send_photo(
        self, caption: str | None = None, content: bytes = b"\xff\xd8fake-jpeg"
    ) -> dict[str, Any]:
        """Send a photo, optionally with a caption."""
        stored = self.server.store_file("photo.jpg", content, "image/jpeg")
        sizes = [{**_file_fields(stored), "width": 800, "height": 600}]
        return self.message(photo=sizes, **({"caption": caption} if caption else {}))

    def send_voice(self, duration: int = 3) -> dict[str, Any]:
        """Send a voice message."""
        stored = self.server.store_file("voice.ogg", b"OggS-voice", "audio/ogg")
        voice = {**_file_fields(stored), "duration": duration, "mime_type": "audio/ogg"}
        return self.message(voice=voice)

    def send_document(
        self,
        filename: str = "dokument.pdf",
        content: bytes = b"%PDF-1.4 fake",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a document."""
        stored = self.server.store_file(filename, content)
        document = {**_file_fields(stored), "file_name": filename, "mime_type": stored.mime_type}
        return self.message(document=document, **({"caption": caption} if caption else {}))

    def press(self, message_id: int, callback_data: str, *, check: bool = True) -> dict[str, Any]:
        """Press an inline button of a bot message; check that such a button is shown."""
        shown = self.server.current_message(self.chat_id, message_id)
        if shown is None:
            raise LookupError(f"no bot message {message_id} in chat {self.chat_id}")
        if check and callback_data not in shown.callback_data:
            raise ValueError(
                f"message {message_id} shows no button with callback_data {callback_data!r}; "
                f"it shows {shown.callback_data}"
            )
        query_id = str(next(self.server.query_ids))
        self.server.callback_queries[query_id] = None
        query = {
            "id": query_id,
            "from": self.user,
            "message": self.server.message_dict(shown),
            "chat_instance": str(abs(self.chat_id) * 7919),
            "data": callback_data,
        }
        return self.server.inject({"callback_query": query})

    def press_button(self, label: str) -> dict[str, Any]:
        """Press the button labelled label on the newest bot message showing it."""
        for shown in reversed(self.messages()):
            for button in (b for row in shown.buttons for b in row):
                if button["text"] == label and "callback_data" in button:
                    return self.press(shown.message_id, button["callback_data"])
        raise LookupError(f"no bot message in chat {self.chat_id} shows a button {label!r}")

    # ------------------------------------------------------------------ inject and wait

    async def wait_answered(self, update: dict[str, Any], **options: Any) -> list[Request]:
        """Wait until the bot has answered an update injected just now (see module doc)."""
        return await self.server.wait_answered(update, **options)

    async def send_and_wait(self, text: str, **options: Any) -> list[Request]:
        """Send a text message and wait until the bot has answered it."""
        since = len(self.server.requests)
        return await self.server.wait_answered(self.send(text), since=since, **options)

    async def press_and_wait(
        self, message_id: int, callback_data: str, **options: Any
    ) -> list[Request]:
        """Press an inline button and wait until the bot has answered it."""
        since = len(self.server.requests)
        update = self.press(message_id, callback_data)
        return await self.server.wait_answered(update, since=since, **options)

    async def press_button_and_wait(self, label: str, **options: Any) -> list[Request]:
        """Press the newest button labelled label and wait until the bot has answered it."""
        since = len(self.server.requests)
        return await self.server.wait_answered(self.press_button(label), since=since, **options)


class FakeBotApi:
    """An aiohttp server on 127.0.0.1 that answers like api.telegram.org."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "chancencheck_test_bot",
        bot_id: int = 42,
        bot_first_name: str = "ChancenCheck Test",
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.requests: list[Request] = []
        self.updates: list[dict[str, Any]] = []  # pending: injected, not yet confirmed
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.left: set[int] = set()
        self.user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.callback_queries: dict[str, dict[str, Any] | None] = {}  # id -> answer params
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.files: dict[str, StoredFile] = {}
        self.internal_errors: list[Exception] = []  # crashes of the fake, not of the bot
        self.query_ids = itertools.count(4_000_000_001)
        self.confirmed_offset = 0  # highest getUpdates offset seen
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._current: dict[tuple[int, int], BotMessage] = {}
        self._sent: list[BotMessage] = []  # snapshots at send time
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Return the value for ApplicationBuilder.base_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the value for ApplicationBuilder.base_file_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> Self:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # Cancel handlers whose client went away, e.g. a long poll PTB abandons on stop.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def application_builder(self) -> Any:
        """Return a PTB ApplicationBuilder wired to this server."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    def bot(self) -> Any:
        """Return a plain telegram.Bot wired to this server."""
        from telegram import Bot

        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url)

    # ------------------------------------------------------------------ test-facing state

    def calls(self, method: str) -> list[Request]:
        """Return the recorded requests of one method, in order."""
        return [r for r in self.requests if r.method == method]

    def sent_to(self, chat_id: int) -> list[BotMessage]:
        """Return the messages sent to a chat, as they were when sent, in order."""
        return [m for m in self._sent if m.chat_id == chat_id]

    def chat_messages(self, chat_id: int) -> list[BotMessage]:
        """Return the bot's messages in a chat as shown now (after edits, without deleted)."""
        return [
            m for (chat, _), m in sorted(self._current.items()) if chat == chat_id and not m.deleted
        ]

    def current_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        """Return a bot message as shown now, or None if unknown or deleted."""
        shown = self._current.get((chat_id, message_id))
        return None if shown is None or shown.deleted else shown

    def user(
        self,
        user_id: int,
        first_name: str = "Anna",
        language_code: str = "de",
        username: str | None = None,
    ) -> FakeUser:
        """Return a user with a private chat to the bot."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        user["language_code"] = language_code
        if username:
            user["username"] = username
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        return FakeUser(self, user, self.add_chat(chat))

    def add_chat(self, chat: dict[str, Any]) -> dict[str, Any]:
        """Make a chat known, so the bot may write to it."""
        self.chats[int(chat["id"])] = chat
        self.left.discard(int(chat["id"]))
        return chat

    def next_message_id(self, chat_id: int) -> int:
        """Return the next message id of a chat; users and the bot share the sequence."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def store_file(self, filename: str, content: bytes, mime_type: str | None = None) -> StoredFile:
        """Keep a file so the bot can fetch it via getFile."""
        number = next(self._file_ids)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = StoredFile(
            file_id=f"BQACAgIAAxkB{number:08d}",
            file_unique_id=f"AgAD{number:06d}",
            filename=filename,
            content=content,
            mime_type=mime,
            path=f"documents/file_{number}{_suffix(filename)}",
        )
        self.files[stored.file_id] = stored
        return stored

    def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update for getUpdates; give it the next update_id unless it has one."""
        update = dict(update)
        if "update_id" in update:
            self._update_ids = itertools.count(max(next(self._update_ids), update["update_id"] + 1))
        else:
            update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        self._notify()
        return update

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
        migrate_to: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next count calls of method with an error (429 carries retry_after).

        With migrate_to, answer as Telegram does for a group that became a supergroup.
        """
        if migrate_to is not None:
            status, description = 400, "Bad Request: group chat was upgraded to a supergroup chat"
        if description is None:
            description = HTTPStatus(status).phrase
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after or 0}"
        fault = _Fault(
            "fail", status, description, retry_after, migrate_to=migrate_to, chat_id=chat_id
        )
        self._faults[method.lower()].extend(replace(fault) for _ in range(count))

    def drop_next(self, method: str, *, count: int = 1, after_processing: bool = False) -> None:
        """Close the connection of the next count calls without an answer.

        With after_processing the call takes effect first (a message is sent, say) and only the
        answer is lost, as when a connection breaks after Telegram has acted.
        """
        fault = _Fault("drop", after_processing=after_processing)
        self._faults[method.lower()].extend(replace(fault) for _ in range(count))

    # ------------------------------------------------------------------ waiting

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> _Fault | None:
        """Remove and return the first fault planned for this call, if any."""
        faults = self._faults[method.lower()]
        for fault in faults:
            if fault.chat_id is None or fault.chat_id == params.get("chat_id"):
                faults.remove(fault)
                return fault
        return None

    def _notify(self) -> None:
        """Wake everything waiting for a change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, changed: asyncio.Event, timeout: float) -> None:
        """Wait until changed is set or timeout passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), max(timeout, 0))

    async def _wait_until(
        self, condition: Callable[[], Any], deadline: float, describe: str
    ) -> Any:
        """Return condition()'s first truthy value, re-checking on every change."""
        while True:
            changed = self._changed
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n  ".join(map(repr, self.requests[-8:])) or "(none)"
                raise TimeoutError(f"timed out waiting for {describe}; last requests:\n  {recent}")
            await self._wait_change(changed, remaining)

    async def wait_for(
        self, predicate: Callable[[Request], bool], timeout: float = 5.0, *, start: int = 0
    ) -> Request:
        """Return the first recorded request (from index start) matching predicate."""

        def find() -> Request | None:
            return next((r for r in self.requests[start:] if predicate(r)), None)

        found: Request = await self._wait_until(
            find, time.monotonic() + timeout, "a matching request"
        )
        return found

    async def wait_answered(
        self,
        update: dict[str, Any],
        *,
        since: int | None = None,
        timeout: float = 5.0,
        expect_reply: bool = True,
        settle: float = ANSWER_SETTLE,
    ) -> list[Request]:
        """Wait until the bot has answered update (rule in the module doc); return its calls.

        since is the index in requests at injection time; default: the current length, so
        call this right after injecting.
        """
        since = len(self.requests) if since is None else since
        deadline = time.monotonic() + timeout
        update_id = update["update_id"]
        await self._wait_until(
            lambda: self.confirmed_offset > update_id,
            deadline,
            f"the bot to confirm update {update_id} via getUpdates offset",
        )
        if expect_reply:
            is_reply = _reply_matcher(update)
            await self._wait_until(
                lambda: any(is_reply(r) for r in self.requests[since:]),
                deadline,
                f"a reply to update {update_id}",
            )
        await self._settle(since, settle, deadline)
        return [r for r in self.requests[since:] if r.method != "getUpdates"]

    async def _settle(self, since: int, settle: float, deadline: float) -> None:
        """Wait until no call is in flight and none arrived for settle seconds."""
        while True:
            changed = self._changed
            tail = [r for r in self.requests[since:] if r.method != "getUpdates"]
            busy = any(r.finished is None for r in tail)
            last = max((r.finished or r.at for r in tail), default=0.0)
            quiet_left = settle - (time.monotonic() - last)
            if not busy and quiet_left <= 0:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot kept calling the API: {tail[-5:]}")
            wait = deadline - time.monotonic() if busy else quiet_left
            await self._wait_change(changed, min(wait, deadline - time.monotonic()))

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one Bot API call."""
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        method = request.match_info["method"]
        try:
            params, files = await _read_params(request, method)
        except ValueError as exc:
            return web.json_response(ApiError(400, f"Bad Request: {exc}").body(), status=400)
        record = Request(method, params, files, time.monotonic())
        self.requests.append(record)
        self._notify()
        fault = self._take_fault(method, params)
        try:
            if fault and fault.kind == "drop" and not fault.after_processing:
                return _drop(request, record)
            if fault and fault.kind == "fail":
                raise ApiError(fault.status, fault.description, _parameters(fault))
            result = await self._dispatch(method, params, files)
            if fault:
                return _drop(request, record)
            record.status, record.result = 200, result
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            record.status, record.result = exc.status, exc.description
            return web.json_response(exc.body(), status=exc.status)
        except Exception as exc:  # noqa: BLE001 - a bug of the fake: answer, keep it for the test
            self.internal_errors.append(exc)
            error = ApiError(500, f"Internal Server Error: fake Bot API failed: {exc!r}")
            record.status, record.result = 500, error.description
            return web.json_response(error.body(), status=500)
        finally:
            record.finished = time.monotonic()
            if record.status is None:
                record.status = 499  # the client went away, e.g. an abandoned long poll
            self._notify()

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """Serve a file's bytes at its file_path, like api.telegram.org/file/bot<token>/."""
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.path == path:
                return web.Response(body=stored.content, content_type=stored.mime_type)
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _dispatch(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> Any:
        """Run the handler of a method; Telegram matches method names case-insensitively."""
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return await handler(params, files)

    # ------------------------------------------------------------------ chats and messages

    def _chat(self, params: Mapping[str, Any], *, sending: bool = False) -> dict[str, Any]:
        """Resolve chat_id to a known chat, failing like Telegram."""
        wanted = params.get("chat_id")
        chat = None
        if isinstance(wanted, str) and wanted.startswith("@"):
            chat = next((c for c in self.chats.values() if f"@{c.get('username')}" == wanted), None)
        elif wanted is not None and re.fullmatch(r"-?\d+", str(wanted)):
            chat = self.chats.get(int(wanted))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        chat_id = int(chat["id"])
        if sending and chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and chat_id in self.left:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        return chat

    def message_dict(self, shown: BotMessage) -> dict[str, Any]:
        """Render a bot message as a Telegram Message object."""
        data: dict[str, Any] = {
            "message_id": shown.message_id,
            "from": self.bot_user,
            "chat": self.chats[shown.chat_id],
            "date": shown.date,
        }
        if shown.edit_date:
            data["edit_date"] = shown.edit_date
        text_key, entities_key = ("text", "entities")
        if shown.kind != "text":
            data[shown.kind] = shown.media
            text_key, entities_key = ("caption", "caption_entities")
        if shown.visible_text:
            data[text_key] = shown.visible_text
        if shown.entities:
            data[entities_key] = list(shown.entities)
        # Telegram only echoes inline keyboards in Message objects.
        if shown.reply_markup and "inline_keyboard" in shown.reply_markup:
            data["reply_markup"] = shown.reply_markup
        return data

    def _keep(self, shown: BotMessage, *, sent: bool) -> dict[str, Any]:
        """Store a message state; return it as a Message object."""
        self._current[(shown.chat_id, shown.message_id)] = shown
        if sent:
            self._sent.append(shown)
        return self.message_dict(shown)

    def _parse(self, text: str | None, parse_mode: Any, limit: int, what: str) -> ParsedText:
        """Parse text like Telegram and reject what Telegram rejects."""
        parsed = parse_text(text or "", parse_mode if isinstance(parse_mode, str) else None)
        if parsed.errors:
            raise ApiError(400, f"Bad Request: can't parse entities: {parsed.errors[0]}")
        if utf16_len(parsed.text) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return parsed

    def _check_reply_to(self, chat_id: int, params: Mapping[str, Any]) -> None:
        """Reject replies to unknown messages unless allow_sending_without_reply is set."""
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) or reply.get("allow_sending_without_reply"):
            return
        target = reply.get("chat_id", chat_id)
        key = (
            int(target) if re.fullmatch(r"-?\d+", str(target)) else chat_id,
            _int(reply.get("message_id")),
        )
        if key not in self.user_messages and self.current_message(*key) is None:
            raise ApiError(400, "Bad Request: message to be replied not found")

    def _markup(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return reply_markup, rejecting callback data Telegram refuses."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    def _editable(self, params: Mapping[str, Any]) -> BotMessage:
        """Find the bot message an edit refers to."""
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # inline mode: not faked
        chat = self._chat(params)
        key = (int(chat["id"]), _int(params.get("message_id")))
        shown = self.current_message(*key)
        if shown is None:
            if key in self.user_messages:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return shown

    def _send_media(
        self, kind: str, params: Mapping[str, Any], files: Mapping[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        """Send a document or photo, from an upload or an existing file_id."""
        chat = self._chat(params, sending=True)
        parsed = self._parse(
            params.get("caption"), params.get("parse_mode"), 1024, "message caption"
        )
        markup = self._markup(params)
        upload = files.get(kind)
        source = params.get(kind)
        if upload is None and isinstance(source, str) and source.startswith("attach://"):
            upload = files.get(source.removeprefix("attach://"))
        if upload is not None:
            stored = self.store_file(upload[0], upload[1])
        elif isinstance(source, str) and source in self.files:
            stored = self.files[source]
        elif isinstance(source, str) and source.startswith(("http://", "https://")):
            stored = self.store_file(source.rsplit("/", 1)[-1] or "file", b"")
        else:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if kind == "photo":
            media: Any = [{**_file_fields(stored), "width": 800, "height": 600}]
        else:
            media = {**_file_fields(stored), "file_name": stored.filename}
            media["mime_type"] = stored.mime_type
        chat_id = int(chat["id"])
        self._check_reply_to(chat_id, params)
        shown = BotMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            kind=kind,
            text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            visible_text=parsed.text or None,
            entities=tuple(parsed.entities),
            reply_markup=markup,
            date=int(time.time()),
            media=media,
            file=(stored.filename, stored.content),
        )
        return self._keep(shown, sent=True)

    # ------------------------------------------------------------------ Bot API methods

    async def _api_getme(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getupdates(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        """Long-poll like Telegram: confirm by offset, wait up to timeout, honour limit."""
        offset = _int(params.get("offset", 0))
        limit = min(max(_int(params.get("limit", 100)), 1), 100)
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll, if any, ends with a conflict
        deadline = time.monotonic() + max(float(params.get("timeout", 0) or 0), 0)
        while True:
            changed = self._changed
            batch = self._deliverable()[:limit]
            if batch or self._closing:
                return batch
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            if time.monotonic() >= deadline:
                return []
            await self._wait_change(changed, deadline - time.monotonic())

    def _confirm(self, offset: int) -> None:
        """Forget updates below offset; a negative offset keeps only the last -offset ones."""
        if offset < 0:
            self.updates = self.updates[offset:]
            return
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        self.confirmed_offset = max(self.confirmed_offset, offset)

    def _deliverable(self) -> list[dict[str, Any]]:
        """Drop queued updates of types the bot did not ask for; return the rest."""
        allowed = self._allowed_updates

        def wanted(update: dict[str, Any]) -> bool:
            kind = next((k for k in update if k != "update_id"), "")
            return kind in allowed if allowed else kind not in _OPT_IN_UPDATES

        self.updates = [u for u in self.updates if wanted(u)]
        return copy.deepcopy(self.updates)

    async def _api_deletewebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _api_setmycommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.commands[_commands_key(params)] = list(params.get("commands") or [])
        return True

    async def _api_getmycommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return self.commands.get(_commands_key(params), [])

    async def _api_deletemycommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.commands.pop(_commands_key(params), None)
        return True

    async def _api_sendmessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat(params, sending=True)
        parsed = self._parse(params.get("text"), params.get("parse_mode"), 4096, "message")
        if not parsed.text:
            raise ApiError(400, "Bad Request: message text is empty")
        chat_id = int(chat["id"])
        self._check_reply_to(chat_id, params)
        shown = BotMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            kind="text",
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            visible_text=parsed.text,
            entities=tuple(parsed.entities),
            reply_markup=self._markup(params),
            date=int(time.time()),
        )
        return self._keep(shown, sent=True)

    async def _api_editmessagetext(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        shown = self._editable(params)
        if shown.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        parsed = self._parse(params.get("text"), params.get("parse_mode"), 4096, "message")
        if not parsed.text:
            raise ApiError(400, "Bad Request: message text is empty")
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = self._markup(params)
        if (parsed.text, tuple(parsed.entities), markup) == (
            shown.visible_text,
            shown.entities,
            shown.reply_markup,
        ):
            raise ApiError(400, _NOT_MODIFIED)
        edited = replace(
            shown,
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            visible_text=parsed.text,
            entities=tuple(parsed.entities),
            reply_markup=markup,
            edit_date=int(time.time()),
        )
        return self._keep(edited, sent=False)

    async def _api_editmessagereplymarkup(
        self, params: dict[str, Any], files: dict[str, Any]
    ) -> Any:
        shown = self._editable(params)
        markup = self._markup(params)
        if markup == shown.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        edited = replace(shown, reply_markup=markup, edit_date=int(time.time()))
        return self._keep(edited, sent=False)

    async def _api_deletemessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat = self._chat(params)
        key = (int(chat["id"]), _int(params.get("message_id")))
        if self.current_message(*key) is not None:
            self._current[key] = replace(self._current[key], deleted=True)
        elif self.user_messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self.callback_queries or self.callback_queries[query_id] is not None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_queries[query_id] = dict(params)
        return True

    async def _api_senddocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return self._send_media("document", params, files)

    async def _api_sendphoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return self._send_media("photo", params, files)

    async def _api_sendchataction(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self._chat(params, sending=True)
        return True

    async def _api_leavechat(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.left.add(int(self._chat(params)["id"]))
        return True

    async def _api_getchat(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return {
            **self._chat(params),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _api_getfile(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {**_file_fields(stored), "file_path": stored.path}

    async def _api_close(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return True

    async def _api_logout(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return True


@contextlib.asynccontextmanager
async def polling(
    application: Any, *, timeout: int = 1, allowed_updates: list[str] | None = None
) -> AsyncIterator[Any]:
    """Run a PTB Application with polling for the block, in run_polling's order of steps."""
    async with application:  # initialize ... shutdown
        if application.post_init:
            await application.post_init(application)
        await application.updater.start_polling(
            poll_interval=0, timeout=timeout, allowed_updates=allowed_updates
        )
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    if application.post_shutdown:
        await application.post_shutdown(application)


# ---------------------------------------------------------------------- helpers


def _parameters(fault: _Fault) -> dict[str, int] | None:
    """Return the ResponseParameters Telegram sends with an error, if any."""
    if fault.retry_after is not None:
        return {"retry_after": fault.retry_after}
    if fault.migrate_to is not None:
        return {"migrate_to_chat_id": fault.migrate_to}
    return None


async def _read_params(
    request: web.Request, method: str
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Read query, form, multipart or JSON parameters; separate uploaded files."""
    if request.content_type == "application/json":
        body = await request.read()
        try:
            params = json.loads(body) if body else {}
        except ValueError as exc:
            raise ValueError("can't parse JSON object") from exc
        if not isinstance(params, dict):
            raise ValueError("JSON body must be an object")
        return params, {}
    fields: dict[str, str] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.method == "POST":
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read())
            else:
                fields[name] = str(value)
    return decode_form(method, fields), files


def _drop(request: web.Request, record: Request) -> web.StreamResponse:
    """Close the connection without answering."""
    record.status = 0
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError  # aiohttp closes quietly; nothing is written


def _reply_matcher(update: dict[str, Any]) -> Callable[[Request], bool]:
    """Return a predicate for requests that answer update in its chat."""
    query = update.get("callback_query") or {}
    body = next((v for k, v in update.items() if k != "update_id" and isinstance(v, dict)), {})
    chat = (query.get("message") or body).get("chat", {})
    chat_id = str(chat.get("id"))

    def is_reply(request: Request) -> bool:
        if request.method == "answerCallbackQuery":
            return str(request.params.get("callback_query_id")) == query.get("id")
        replies = request.method.startswith(("send", "edit", "delete", "copy", "forward"))
        return (
            replies
            and request.method != "sendChatAction"
            and str(request.params.get("chat_id")) == chat_id
        )

    return is_reply


def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
    """Key commands by scope and language, as Telegram stores them."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _file_fields(stored: StoredFile) -> dict[str, Any]:
    """Return the file_id fields shared by all file objects."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }


def _suffix(filename: str) -> str:
    """Return a filename's extension, dot included."""
    return filename[filename.rfind(".") :] if "." in filename else ""


def _int(value: Any) -> int:
    """Read an integer parameter, failing like Telegram on junk."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid integer value {value!r}") from None
