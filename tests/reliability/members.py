"""Staff answering the whole check through the fake Bot API, and the books to judge the bot by.

A member acts like a patient person: answers the question on screen (buttons or typed text),
and when the bot does not answer, or answers with an error, writes /weiter and goes on from
what the bot shows then. Every input is recorded with the index of the first request after it,
so that afterwards the server's log tells which inputs the bot acknowledged.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fakebot import FakeBotApi, FakeUser, Request, parse_html

from bot.render.presenter import Context, Presenter
from bot.render.templates import Templates
from dialogues.catalogue import QUESTION_KEYS, Catalogue
from dialogues.engine import Dialogue, is_complete
from dialogues.model import Answer, Position

TEMPLATES = Templates(ZoneInfo("Europe/Berlin"))
CALLBACK = re.compile(
    r"^(?P<code>[a-z])(?::(?P<req>[A-Za-z0-9_]+)\.(?P<q>\d))?(?::(?P<value>\w+))?$"
)
Key = tuple[str, str]


class Life:
    """The bot as the members see it: counts its deaths and says when it answers again."""

    def __init__(self) -> None:
        self.generation = 0
        self.up = asyncio.Event()
        self.up.set()

    def died(self) -> None:
        self.generation += 1
        self.up.clear()

    def started(self) -> None:
        self.up.set()


@dataclass
class Input:
    """One thing a member sent; `since` is the request index at that moment."""

    member: int
    key: Key | None  # the question an answer is for; None for commands and navigation
    value: str | None
    text: str | None
    since: int
    label: str


@dataclass
class Screen:
    kind: str  # ask, follow_up, end, confirm, resume
    message_id: int
    key: Key | None = None
    options: list[str] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)  # code -> callback data


class Member:
    """One member of one institution, alone on their institution's check."""

    def __init__(
        self,
        server: FakeBotApi,
        user: FakeUser,
        catalogue: Catalogue,
        db_path: Path,
        life: Life,
        seed: int,
        reply_timeout: float = 4.0,
    ) -> None:
        self.server, self.user, self.catalogue = server, user, catalogue
        self.db_path, self.life, self.reply_timeout = db_path, life, reply_timeout
        self.rng = random.Random(seed)
        self.keys = [q.key for q in catalogue.questions]
        self.positions = [(r.id, k) for r in catalogue.requirements for k in self.keys]
        self.inputs: list[Input] = []
        self.resumes = 0
        self.wrong_resumes: list[tuple[Key | None, Key | None]] = []
        self.steps = 0
        self.prefilled = 0  # revisions stored before the member started, not theirs to judge
        self.think = (0.0, 0.0)  # seconds a member reads before acting, at random in this range

    # ---------------------------------------------------------------- acting

    async def answer_everything(self, max_steps: int = 800) -> bool:
        """Answer until the check is submitted; return whether it was."""
        resync = True
        screen: Screen | None = None
        while self.steps < max_steps:
            self.steps += 1
            if self.submitted():
                return True
            if resync:
                screen = await self._resume()
                if screen is None:
                    continue
            assert screen is not None
            screen = await self._act(screen)
            resync = screen is None
        return self.submitted()

    async def _resume(self) -> Screen | None:
        """Write /weiter; check that the bot shows the first open question."""
        since = await self._send_command("/weiter")
        if not await self._wait(since):
            return None
        screen = self._screen_after(since)
        if screen is not None and screen.kind in ("ask", "follow_up", "end"):
            self.resumes += 1
            expected = self.first_open()
            if screen.key != expected:
                self.wrong_resumes.append((expected, screen.key))
        return screen

    async def _act(self, screen: Screen) -> Screen | None:
        """Do what the screen asks; return the next screen, or None to write /weiter."""
        if screen.kind == "ask" and screen.key is not None:
            since = await self._answer(screen)
        elif screen.kind == "follow_up" and screen.key is not None:
            text = self._text("Potenzial", screen.key)
            since = await self._type(screen.key, "yes", text)
        elif screen.kind in ("end", "confirm", "resume"):
            code = {"end": "s", "confirm": "y", "resume": "r"}[screen.kind]
            since = await self._press(screen, screen.data[code], None, None)
        else:
            return None
        return self._screen_after(since) if await self._wait(since) else None

    async def _answer(self, screen: Screen) -> int:
        key = screen.key
        assert key is not None
        if key[1] == "measures" and self.rng.random() < 0.5:
            return await self._type(key, "planned", self._text("Maßnahme", key))
        value = self.rng.choice(screen.options)
        return await self._press(screen, screen.data[f"c:{value}"], key, value)

    def _text(self, what: str, key: Key) -> str:
        return f"{what} {self.user.id}/{key[0]}.{key[1]}/{len(self.inputs)}: Team <B> & „Ü“"

    async def _press(self, screen: Screen, data: str, key: Key | None, value: str | None) -> int:
        await self._alive()
        since = len(self.server.requests)
        self.user.press(screen.message_id, data, check=False)
        self.inputs.append(Input(self.user.id, key, value, None, since, data))
        return since

    async def _type(self, key: Key, value: str, text: str) -> int:
        await self._alive()
        since = len(self.server.requests)
        self.user.send(text)
        self.inputs.append(Input(self.user.id, key, value, text, since, "text"))
        return since

    async def _send_command(self, command: str) -> int:
        await self._alive()
        since = len(self.server.requests)
        self.user.send(command)
        self.inputs.append(Input(self.user.id, None, None, None, since, command))
        return since

    async def _alive(self) -> None:
        if self.think[1]:
            await asyncio.sleep(self.rng.uniform(*self.think))
        await self.life.up.wait()

    async def _wait(self, since: int) -> bool:
        """Wait until the bot replied and went quiet in this chat; False if it died or not."""
        generation = self.life.generation
        deadline = time.monotonic() + self.reply_timeout
        while time.monotonic() < deadline and self.life.generation == generation:
            mine = [r for r in self.server.requests[since:] if self._in_chat(r)]
            busy = any(r.finished is None for r in mine)
            done = [r for r in mine if r.status == 200 and r.method != "answerCallbackQuery"]
            if done and not busy and time.monotonic() - max(r.finished or 0 for r in mine) > 0.08:
                return True
            await asyncio.sleep(0.02)
        return False

    def _in_chat(self, request: Request) -> bool:
        return str(request.params.get("chat_id")) == str(self.user.chat_id)

    # ---------------------------------------------------------------- reading

    def _screen_after(self, since: int) -> Screen | None:
        """Return the newest message with buttons the bot sent to this chat after `since`."""
        for request in reversed(self.server.requests[since:]):
            if (
                request.method == "sendMessage"
                and self._in_chat(request)
                and request.status == 200
                and request.params.get("reply_markup")
            ):
                shown = self.server.current_message(self.user.chat_id, request.result["message_id"])
                return _screen(shown.message_id, shown.callback_data) if shown else None
        return None

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db_path, timeout=10)) as conn:
            return list(conn.execute(sql, params))

    def check_id(self) -> int | None:
        rows = self.rows(
            "SELECT c.id FROM checks c JOIN members m ON m.institution_id = "
            "c.institution_id WHERE m.telegram_user_id = ?",
            (self.user.id,),
        )
        return rows[0][0] if rows else None

    def submitted(self) -> bool:
        return self.rows("SELECT status FROM checks WHERE id = ?", (self.check_id(),)) == [
            ("submitted",)
        ]

    def current(self) -> dict[Key, Answer]:
        rows = self.rows(
            """
            SELECT requirement_id, question_key, value, text FROM answers a
            WHERE check_id = ? AND id = (SELECT max(id) FROM answers b WHERE b.check_id =
                a.check_id AND b.requirement_id = a.requirement_id
                AND b.question_key = a.question_key)""",
            (self.check_id(),),
        )
        return {(r[0], r[1]): Answer(r[2], r[3]) for r in rows}

    def revisions(self) -> list[tuple[Key, str, str | None]]:
        rows = self.rows(
            "SELECT requirement_id, question_key, value, text FROM answers "
            "WHERE check_id = ? ORDER BY id",
            (self.check_id(),),
        )
        return [((r[0], r[1]), r[2], r[3]) for r in rows][self.prefilled :]

    def first_open(self) -> Key | None:
        stored = self.current()
        for key in self.positions:
            if not is_complete(self.catalogue.question(*key), stored.get(key)):
                return key
        return None


def _screen(message_id: int, callback_data: list[str]) -> Screen | None:
    """Tell what a message with these buttons asks for."""
    data: dict[str, str] = {}
    key: Key | None = None
    options = []
    for item in callback_data:
        match = CALLBACK.match(item)
        if not match:
            continue
        code, value = match["code"], match["value"]
        if match["req"] is not None:
            key = (match["req"], QUESTION_KEYS[int(match["q"])])
        if code == "c" and value:
            options.append(value)
            data[f"c:{value}"] = item
        else:
            data.setdefault(code, item)
    if options and "h" in data:  # a question has "Erklärung"; a follow-up only "Nein" & co.
        return Screen("ask", message_id, key, options, data)
    if key is not None and ("b" in data or "n" in data):
        return Screen("follow_up", message_id, key, [], data)
    for code, kind in (("y", "confirm"), ("s", "end"), ("r", "resume")):
        if code in data:
            return Screen(kind, message_id, None, [], data)
    return None


# -------------------------------------------------------------------- judging afterwards


@dataclass
class Verdict:
    """What the server's log and the database say about the members' answers."""

    answers: int = 0  # answer inputs sent
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)  # acknowledged but not stored
    phantom: list[str] = field(default_factory=list)  # stored but never sent
    resumes: int = 0
    wrong_resumes: list[str] = field(default_factory=list)


def judge(server: FakeBotApi, members: list[Member]) -> Verdict:
    """Compare every member's inputs with the bot's acknowledgements and the stored revisions.

    The bot acknowledges an answer with its transcript: the question's message edited to show
    the answer given ("… ➜ 🟢 vollständig erfüllt"), sent only after the answer is committed.
    Other replies cannot be told apart reliably under faults: a refused press is followed by
    the current question, and a reply delayed by a rate limit arrives after the next input.
    """
    verdict = Verdict()
    for member in members:
        stored = member.revisions()
        sent = {(i.key, i.value, i.text) for i in member.inputs if i.key is not None}
        for index, item in enumerate(member.inputs):
            if item.key is None or item.value is None:
                continue
            verdict.answers += 1
            expected = transcript(member.catalogue, item.key, item.value, item.text)
            if not any(
                r.method == "editMessageText"
                and r.status == 200
                and member._in_chat(r)
                and parse_html(r.params.get("text", "")).text == expected
                for r in server.requests[item.since :]
            ):
                continue
            verdict.acknowledged += 1
            if (item.key, item.value, item.text) not in stored:
                verdict.lost.append(
                    f"{member.user.id} {item}, acknowledged:\n"
                    f"{_story(server, member, index, stored)}"
                )
        for revision in stored:
            if revision not in sent:
                verdict.phantom.append(f"{member.user.id} {revision}")
        verdict.resumes += member.resumes
        verdict.wrong_resumes += [
            f"{member.user.id}: expected {e}, shown {s}" for e, s in member.wrong_resumes
        ]
    return verdict


def transcript(catalogue: Catalogue, key: Key, value: str, text: str | None) -> str:
    """Return the transcript of an answer as the member reads it."""
    presenter = Presenter(Dialogue(catalogue), TEMPLATES)
    html = presenter.answered(Position(*key), Answer(value, text), Context("de"))
    return parse_html(html).text


def _story(
    server: FakeBotApi, member: Member, index: int, stored: list[tuple[Key, str, str | None]]
) -> str:
    """Tell what happened around an input, for a failure message."""
    lines = []
    for number in range(max(0, index - 4), min(len(member.inputs), index + 3)):
        item = member.inputs[number]
        end = member.inputs[number + 1].since if number + 1 < len(member.inputs) else None
        calls = [
            f"{r.method}:{r.status}:{parse_html(r.params.get('text', '')).text[:40]!r}"
            for r in server.requests[item.since : end]
            if member._in_chat(r) or r.method in ("getUpdates", "answerCallbackQuery")
        ]
        mark = ">>" if number == index else "  "
        lines.append(f"{mark} {item.label} {item.key} {item.value} -> {calls}")
    key = member.inputs[index].key
    lines.append(f"stored for {key}: {[s for s in stored if s[0] == key]}")
    return "\n".join(lines)
