"""The offline demo: the same engine, templates and SQLite file, in the terminal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import storage
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.core import admin
from bot.core.checks import Checks
from bot.render.commands import DIALOGUE_COMMANDS, MENU, dialogue_event
from bot.render.presenter import Context, Presenter
from bot.render.templates import Templates
from bot.render.terminal import numbered, render, to_text
from bot.render.views import Button, View
from dialogues import events as ev
from dialogues.engine import Dialogue
from dialogues.model import Phase

DEMO_SHORT = "DEMO"
DEMO_USER_ID = 0  # Telegram never gives out 0, so the demo member cannot clash with a real one
DEMO_ROUND_DAYS = 30
QUIT = {"q", "quit", "exit", "/ende", "/quit", "/exit"}
# Commands the Telegram chat has and the demo has not (English aliases included).
CHAT_ONLY = frozenset(MENU) - frozenset(DIALOGUE_COMMANDS) | {
    "start",
    "help",
    "language",
    "accessible",
    "round",
    "reminders",
    "meinedaten",
    "austreten",
    "loeschen",
}
YES_WORDS = {"j", "ja", "y", "yes"}

ReadLine = Callable[[str], Awaitable[str | None]]  # None at the end of input
Write = Callable[[str], None]


async def ensure_demo(
    db: storage.Database, dialogue: Dialogue, language: str, today: date
) -> storage.Member:
    """Create the demo institution, round and member on first use."""
    institution = await storage.institution_by_short(db, DEMO_SHORT)
    if institution is None:
        institution = (await admin.add_institution(db, DEMO_SHORT, "Demo-Einrichtung")).institution
    if await storage.current_cycle(db) is None:
        deadline = today + timedelta(days=DEMO_ROUND_DAYS)
        await admin.open_round(db, dialogue.catalogue, "Demo-Runde", deadline, today)
    member = await storage.member_by_user(db, DEMO_USER_ID)
    if member is None or member.institution_id != institution.id:
        async with db.transaction():
            member = await storage.join_institution(
                db, DEMO_USER_ID, institution.id, "Demo", language
            )
    return member


class Demo:
    """A terminal conversation for the demo member."""

    def __init__(
        self,
        checks: Checks,
        presenter: Presenter,
        member: storage.Member,
        write: Write,
        colour: bool,
    ) -> None:
        self.checks = checks
        self.presenter = presenter
        self.member = member
        self.write = write
        self.colour = colour
        self.buttons: list[Button] = []
        self.phase = Phase.PAUSED
        self.submitted = False

    async def run(self, read_line: ReadLine) -> None:
        """Greet, resume, and answer lines until the input ends or the member quits."""
        language = self.member.language
        self.write(to_text(self.presenter.templates.render(language, "demo_welcome"), self.colour))
        await self.send(ev.Resume())
        while (line := await read_line("› ")) is not None:
            line = line.strip()
            if line.lower() in QUIT:
                break
            event = self.event_for(line)
            if event is not None:
                await self.send(event)
        await self.farewell()

    def event_for(self, line: str) -> ev.Event | None:
        """Map a typed line to an event: a button number, a command, or text.

        None when the line was answered here: a number no button has, a command the demo lacks.
        """
        if line.isascii() and line.isdigit() and self.buttons:
            if 1 <= int(line) <= len(self.buttons):
                return self.buttons[int(line) - 1].event
            self.note("demo_number", count=len(self.buttons))
            return None
        if line.startswith("/"):
            name = line[1:].split()[0].split("@")[0] if line[1:].strip() else ""
            event = dialogue_event(name)
            if event is None:
                commands = [f"/{c}" for c in DIALOGUE_COMMANDS]
                self.note(
                    "demo_command",
                    name=name,
                    chat_only=name.lower() in CHAT_ONLY,
                    commands=commands,
                )
            return event
        return ev.Type(line) if line else ev.Show()

    async def farewell(self) -> None:
        """Pause and say so in one line: the same for q, Ctrl-D and Ctrl-C."""
        if self.submitted:
            return
        turn = await self.checks.handle(self.member, ev.Pause())
        self.phase = turn.step.state.phase
        self.note("demo_paused", p=self.checks.dialogue.progress(turn.step.state))

    def note(self, template: str, /, **context: object) -> None:
        """Print one line of the demo's own (not the chat's) wording."""
        text = self.presenter.templates.render(self.member.language, template, **context)
        self.write(to_text(text, self.colour))

    async def send(self, event: ev.Event) -> None:
        """Run one event and print what it shows."""
        turn = await self.checks.handle(self.member, event)
        self.phase = turn.step.state.phase
        self.submitted = turn.step.state.submitted
        ctx = Context(
            self.member.language,
            turn.authors,
            turn.handovers,
            proposal_authors=turn.proposal_authors,
            past_measures=turn.past_measures,
        )
        for view in self.presenter.turn(turn.step, ctx):
            self.show(view)

    def show(self, view: View) -> None:
        view = _without_handover(view)
        self.write(render(view, self.colour))
        if view.keyboard:
            self.buttons = numbered(view)


def _without_handover(view: View) -> View:
    """Drop "Kolleg*in fragen": its link needs Telegram, and the demo has one member."""
    rows = (tuple(b for b in row if not isinstance(b.event, ev.HandOver)) for row in view.keyboard)
    return replace(view, keyboard=tuple(row for row in rows if row))


def demo_database(path: Path) -> Path:
    """Return the demo's own database file beside the configured one.

    The demo opens a round of its own; in the real database that round would block the
    coordinators' first round.
    """
    return path.with_name(f"{path.stem}-demo{path.suffix}")


async def reset_demo(config: Config, read_line: ReadLine, write: Write) -> bool:
    """Delete the demo's database after the user confirms; tell whether the demo starts over."""
    templates = Templates(config.checks.tz)
    language = config.checks.language
    path = demo_database(config.storage.path)
    answer = await read_line(templates.render(language, "demo_reset_confirm", path=path) + " ")
    if (answer or "").strip().lower() not in YES_WORDS:
        write(templates.render(language, "demo_reset_kept"))
        return False
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    write(templates.render(language, "demo_reset_done"))
    return True


async def run_demo(config: Config, read_line: ReadLine, write: Write, colour: bool) -> None:
    """Run the offline demo against its own database file."""
    catalogue = load_catalogue(config.checks.catalogue_path)
    dialogue = Dialogue(catalogue, max_text=config.telegram.max_text_length)
    templates = Templates(config.checks.tz)
    db = await storage.open_database(demo_database(config.storage.path))
    try:
        member = await ensure_demo(db, dialogue, config.checks.language, date.today())
        demo = Demo(Checks(db, dialogue), Presenter(dialogue, templates), member, write, colour)
        await demo.run(read_line)
    finally:
        await db.close()
