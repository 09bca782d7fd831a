"""The offline demo, used like a person at a terminal: run_demo with typed lines, and the real
`chancencheck demo` console script. Answers are checked in the SQLite file itself.

The tests decide what to type from what the demo showed last (button labels, the requirement
in the heading), so small wording changes do not break the walk; expected messages are rendered
from the same templates the demo uses.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.catalogue import load_catalogue
from bot.cli.demo import demo_database, run_demo
from bot.config import load_config
from bot.render.commands import DIALOGUE_COMMANDS
from bot.render.templates import Templates
from bot.render.terminal import to_text
from dialogues.catalogue import DEFAULT_CATALOGUE

CATALOGUE = load_catalogue(DEFAULT_CATALOGUE)
FULFILMENT, POTENTIAL, MEASURES = CATALOGUE.questions
REQUIREMENTS = CATALOGUE.requirements
TEMPLATES = Templates(ZoneInfo("Europe/Berlin"))
CONSOLE_SCRIPT = Path(sys.executable).with_name("chancencheck")
MAX_INPUTS = 300  # a walk that needs more is stuck in a loop

# "[3] 🟠 teilweise erfüllt   [4] 🔴 nicht erfüllt": buttons are separated by three spaces.
_BUTTON = re.compile(r"\[(\d+)\] (.+?)(?=\s{3}\[\d+\] |$)", re.MULTILINE)
_EDGE_MARKS = re.compile(r"^\W+|\W+$")  # emoji and arrows around a label


def bare(label: str) -> str:
    """Return a button label without the emoji and arrows around it."""
    return _EDGE_MARKS.sub("", label)


def label(key: str, language: str = "de") -> str:
    """Return the bare label of one of the bot's own buttons (labels.toml)."""
    return bare(TEMPLATES.label(language, key))


def message(reason: str, language: str = "de", **context: object) -> str:
    """Render a rejection message as the demo shows it."""
    context = {"limit": None, "open_count": 0, **context}
    return to_text(TEMPLATES.render(language, "rejected", reason=reason, **context), False)


def note(template: str, language: str = "de", **context: object) -> str:
    """Render one of the demo's own lines as it prints them."""
    return to_text(TEMPLATES.render(language, template, **context), False)


# -- a scripted terminal ------------------------------------------------------------------------


@dataclass
class Screen:
    """Everything the demo wrote between two typed lines."""

    messages: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.messages)

    @property
    def buttons(self) -> dict[str, str]:
        """Map the bare labels of the latest message with buttons to their numbers."""
        for msg in reversed(self.messages):
            found = _BUTTON.findall(msg)
            if found:
                return {bare(text): number for number, text in found}
        return {}

    def press(self, wanted: str) -> str:
        """Return the number to type for the button labelled `wanted`."""
        assert wanted in self.buttons, f"no button {wanted!r} in:\n{self.text}"
        return self.buttons[wanted]

    @property
    def question(self) -> str:
        """Return the last question message shown (the one with the requirement heading)."""
        asked = [m for m in self.messages if self._requirement_of(m)]
        assert asked, f"no question shown in:\n{self.text}"
        return asked[-1]

    @property
    def requirement(self) -> str:
        """Return the id of the requirement whose question is shown."""
        found = self._requirement_of(self.question)
        assert found is not None
        return found

    @property
    def question_number(self) -> int:
        """Return N of the progress line "Frage N von 3" / "question N of 3"."""
        match = re.search(r"(?:Frage|question) (\d+) (?:von|of) (\d+)", self.question)
        assert match, f"no progress line in:\n{self.question}"
        assert int(match[2]) == len(CATALOGUE.questions)
        return int(match[1])

    @staticmethod
    def _requirement_of(msg: str) -> str | None:
        """Find the question heading "<area> · <id> <title>" (only questions have one)."""
        for requirement in REQUIREMENTS:
            for language in ("de", "en"):
                if f"· {requirement.id} {requirement.title(language)}\n" in msg:
                    return requirement.id
        return None


Step = str | Callable[[Screen], str | None]


@dataclass
class Terminal:
    """Feeds the demo one line per prompt, each chosen from what it showed just before."""

    respond: Callable[[Screen], str | None]
    output: list[str] = field(default_factory=list)
    screens: list[Screen] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)

    async def read_line(self, prompt: str) -> str | None:
        assert len(self.typed) < MAX_INPUTS, f"too many inputs; last screen:\n{self.last.text}"
        self.screens.append(self._new_output())
        line = self.respond(self.screens[-1])
        if line is not None:
            self.typed.append(line)
        return line

    def finish(self) -> None:
        self.screens.append(self._new_output())

    def _new_output(self) -> Screen:
        seen = sum(len(s.messages) for s in self.screens)
        return Screen(self.output[seen:])

    @property
    def last(self) -> Screen:
        return self.screens[-1]

    @property
    def text(self) -> str:
        return "\n".join(self.output)


def script(steps: Iterable[Step]) -> Callable[[Screen], str | None]:
    """Answer the prompts in turn with fixed lines or functions of the screen; then end input."""
    pending = iter(steps)

    def respond(screen: Screen) -> str | None:
        step = next(pending, None)
        return step(screen) if callable(step) else step

    return respond


def press(wanted: str) -> Callable[[Screen], str]:
    return lambda screen: screen.press(wanted)


def play(config: Path, steps: Iterable[Step] | Callable[[Screen], str | None]) -> Terminal:
    """Run the demo once against the config, typing the steps; return what it showed."""
    terminal = Terminal(steps if callable(steps) else script(steps))
    settings = load_config(config, env={})
    asyncio.run(run_demo(settings, terminal.read_line, terminal.output.append, colour=False))
    terminal.finish()
    return terminal


# -- the SQLite file --------------------------------------------------------------------------


def write_config(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[storage]\npath = "demo.sqlite3"\n{extra}', encoding="utf-8")
    return path


def db_path(config: Path) -> Path:
    return demo_database(config.parent / "demo.sqlite3")


def query(config: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db_path(config))) as conn:
        return conn.execute(sql).fetchall()


def current_answers(config: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Return the latest answer per question, as (value, text)."""
    rows = query(
        config,
        """
        SELECT requirement_id, question_key, value, text FROM answers AS a
        WHERE id = (SELECT max(id) FROM answers AS b WHERE b.check_id = a.check_id
                    AND b.requirement_id = a.requirement_id AND b.question_key = a.question_key)
    """,
    )
    return {(req, key): (value, text) for req, key, value, text in rows}


def answer_rows(config: Path) -> int:
    return query(config, "SELECT count(*) FROM answers")[0][0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


# -- a full walk --------------------------------------------------------------------------------


def colour_mark(scale_key: str) -> str:
    step = CATALOGUE.step(scale_key)
    assert step is not None
    return {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴", "grey": "⚪"}[step.colour]


def description(req: str) -> str:
    return f'Formulare <b>nur</b> auf Deutsch & "Amtsdeutsch" 📄🌍 in {req}'


def measures(req: str) -> str:
    return f"Flyer in Leichter Sprache – Team {req}, bis 06/2027 ✍️"


class Walker:
    """Answers every question by what the screen shows, then reviews and submits."""

    def __init__(self) -> None:
        self.expected: dict[tuple[str, str], tuple[str, str | None]] = {}
        self.reviewed = self.submitted = False

    def __call__(self, screen: Screen) -> str | None:
        buttons = screen.buttons
        if label("confirm") in buttons:
            self.submitted = True
            return buttons[label("confirm")]
        if label("submit") in buttons:
            if not self.reviewed:  # look at all answers once before submitting
                self.reviewed = True
                return screen.press(label("review"))
            return buttons[label("submit")]
        if not buttons:
            assert self.submitted, f"stuck without buttons:\n{screen.text}"
            return None  # submitted: end of input
        return self.answer(screen)

    def answer(self, screen: Screen) -> str:
        req = screen.requirement
        index = [r.id for r in REQUIREMENTS].index(req)
        options = screen.buttons
        number = screen.question_number
        if bare(CATALOGUE.scale[0].label.de) in options:
            assert number == 1
            step = CATALOGUE.scale[index % len(CATALOGUE.scale)]  # every step is used
            self.expected[(req, FULFILMENT.key)] = (step.key, None)
            return screen.press(step.label.de)
        if POTENTIAL.yes and POTENTIAL.yes.de in options:
            assert number == 2
            if index % 2:
                self.expected[(req, POTENTIAL.key)] = ("no", None)
                return screen.press(POTENTIAL.no.de)  # type: ignore[union-attr]
            return screen.press(POTENTIAL.yes.de)
        if MEASURES.none and MEASURES.none.de in options:
            assert number == 3
            if index % 3 == 0:
                self.expected[(req, MEASURES.key)] = ("none", None)
                return screen.press(MEASURES.none.de)
            self.expected[(req, MEASURES.key)] = ("planned", measures(req))
            return measures(req)
        assert POTENTIAL.follow_up and POTENTIAL.follow_up.de in screen.question, screen.text
        self.expected[(req, POTENTIAL.key)] = ("yes", description(req))
        return description(req)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Terminal, Walker]:
    """Answer all 45 questions, look at all answers and submit, once for the module."""
    config = write_config(tmp_path_factory.mktemp("walk"))
    walker = Walker()
    return config, play(config, walker), walker


def test_full_walk_stores_45_answers_and_submits(walked: tuple[Path, Terminal, Walker]) -> None:
    config, _, walker = walked
    assert walker.reviewed and walker.submitted
    assert len(walker.expected) == 45
    assert current_answers(config) == walker.expected  # raw text: <b>&" and emoji as typed
    assert query(config, "SELECT status, submitted_at IS NOT NULL FROM checks") == [
        ("submitted", 1)
    ]


def test_full_walk_review_shows_every_answer_as_typed(
    walked: tuple[Path, Terminal, Walker],
) -> None:
    _, terminal, walker = walked
    review = next(
        s.text
        for s in terminal.screens
        if f"{REQUIREMENTS[-1].id} " in s.text and description(REQUIREMENTS[0].id) in s.text
    )
    for _, text in walker.expected.values():
        if text:
            assert text in review  # HTML-escaped for Telegram, shown unescaped here
    numbered_items = [line for line in review.splitlines() if re.match(r"\d\. ", line)]
    assert len(numbered_items) == 45
    assert not [line for line in numbered_items if "❗" in line]


def test_full_walk_shows_the_submission_summary(walked: tuple[Path, Terminal, Walker]) -> None:
    _, terminal, walker = walked
    summary = next(  # the message after "Ja, absenden": every area, no buttons left
        s.text
        for s in terminal.screens
        if not s.buttons and all(a.title.de in s.text for a in CATALOGUE.areas)
    )
    for area in CATALOGUE.areas:
        line = next(x for x in summary.splitlines() if x.startswith(f"{area.title.de}: "))
        ratings = [walker.expected[(r.id, FULFILMENT.key)][0] for r in area.requirements]
        for step in CATALOGUE.scale:  # each light beside its count and its word
            count = ratings.count(step.key)
            assert (f"{colour_mark(step.key)} {count} {step.label.de}" in line) == bool(count)
        improvable = sum(
            walker.expected[(r.id, POTENTIAL.key)][0] == "yes" for r in area.requirements
        )
        assert (str(improvable) in line) == bool(improvable)


def test_second_run_is_read_only(walked: tuple[Path, Terminal, Walker], tmp_path: Path) -> None:
    source, _, walker = walked
    config = write_config(tmp_path)
    shutil.copy(db_path(source), db_path(config))
    rows_before = answer_rows(config)
    read_only = message("read_only")

    terminal = play(config, ["7", "/zurueck", "Ein neuer Text", "/uebersicht", "/pruefen"])

    assert read_only in terminal.screens[0].text  # at start, instead of a question
    assert note("demo_number", count=1) == terminal.screens[1].text  # only button 1 is shown
    for screen in terminal.screens[2:4]:  # a command, a text: both refused
        assert read_only in screen.text
    assert f"{REQUIREMENTS[0].id} {REQUIREMENTS[0].title.de}" in terminal.screens[4].text
    assert description(REQUIREMENTS[0].id) in terminal.screens[5].text  # reading still works
    assert answer_rows(config) == rows_before
    assert current_answers(config) == walker.expected
    assert query(config, "SELECT status FROM checks") == [("submitted",)]


def test_second_run_says_read_only_once(
    walked: tuple[Path, Terminal, Walker], tmp_path: Path
) -> None:
    source, _, _ = walked
    config = write_config(tmp_path)
    shutil.copy(db_path(source), db_path(config))
    terminal = play(config, ["/weiter", "1"])
    assert terminal.screens[0].text.count(message("read_only")) == 1
    assert terminal.screens[1].text.count(message("read_only")) == 1
    assert "nur lesbar" in terminal.screens[2].text  # its one button shows all answers


# -- resume, back, skip, overview ---------------------------------------------------------------


def test_quit_and_resume_at_the_first_open_question(config: Path) -> None:
    first = play(
        config,
        [
            press(CATALOGUE.scale[1].label.de),  # Z1: überwiegend
            press(label("skip")),  # Z1 potential stays open
            press(MEASURES.none.de),  # type: ignore[union-attr]
            press(CATALOGUE.scale[3].label.de),  # Z2: nicht erfüllt
            press(POTENTIAL.no.de),  # type: ignore[union-attr]
            "q",  # at Z2's measures: quits, is not stored as a measure
        ],
    )
    z1, z2 = REQUIREMENTS[0].id, REQUIREMENTS[1].id
    assert first.screens[-2].requirement == z2 and first.screens[-2].question_number == 3
    stored = {
        (z1, FULFILMENT.key): ("mostly", None),
        (z1, MEASURES.key): ("none", None),
        (z2, FULFILMENT.key): ("not", None),
        (z2, POTENTIAL.key): ("no", None),
    }
    assert current_answers(config) == stored

    again = play(config, [])  # end of input right away

    shown = again.screens[0]
    assert shown.requirement == z1 and shown.question_number == 2  # the first open question
    assert POTENTIAL.text.de in shown.question
    assert current_answers(config) == stored


def test_back_shows_the_stored_answer_and_allows_a_change(config: Path) -> None:
    partly = CATALOGUE.scale[2].label.de
    terminal = play(
        config,
        [
            partly,  # typed where a button is expected: accepted as the option
            "/zurueck",
            press(CATALOGUE.scale[0].label.de),
            press(label("back")),
            press(label("keep")),
        ],
    )
    z1 = REQUIREMENTS[0].id
    assert terminal.screens[1].requirement == z1 and terminal.screens[1].question_number == 2
    back = terminal.screens[2].question
    assert terminal.screens[2].question_number == 1
    assert "Gespeicherte Antwort" in back and partly in back
    assert f"Gespeicherte Antwort: 🟢 {CATALOGUE.scale[0].label.de}" in terminal.screens[4].question
    assert terminal.screens[5].question_number == 2  # kept, and on to the next question
    assert current_answers(config) == {(z1, FULFILMENT.key): ("full", None)}
    assert answer_rows(config) == 2  # partly, then full; keeping adds no revision


def test_skip_leaves_the_question_open_and_review_marks_it(config: Path) -> None:
    terminal = play(
        config,
        [
            press(label("skip")),
            press(POTENTIAL.no.de),  # type: ignore[union-attr]
            press(MEASURES.none.de),  # type: ignore[union-attr]
            "/pruefen",
            "/absenden",
        ],
    )
    z1 = REQUIREMENTS[0]
    assert terminal.screens[1].requirement == z1.id and terminal.screens[1].question_number == 2
    review = terminal.screens[4].text
    block = review[review.index(f"{z1.id} {z1.title.de}") :].split("\n\n")[0].splitlines()
    assert "❗" in block[1] and block[1].startswith("1.")
    assert "❗" not in block[2] and POTENTIAL.no.de in block[2]  # type: ignore[union-attr]
    assert "❗" not in block[3] and MEASURES.none.de in block[3]  # type: ignore[union-attr]
    assert message("incomplete", open_count=43) in terminal.screens[5].text
    assert set(current_answers(config)) == {(z1.id, POTENTIAL.key), (z1.id, MEASURES.key)}
    assert query(config, "SELECT status FROM checks") == [("open",)]


def test_overview_lists_15_requirements_and_jumps_by_button(config: Path) -> None:
    target = next(r for r in REQUIREMENTS if r.id == "K1")
    terminal = play(config, ["/uebersicht", press(target.id), press(CATALOGUE.scale[1].label.de)])
    overview = terminal.screens[1]
    for requirement in REQUIREMENTS:
        assert f"{requirement.id} {requirement.title.de}" in overview.text
    assert {r.id for r in REQUIREMENTS} <= set(overview.buttons)
    assert len(REQUIREMENTS) == 15
    jumped = terminal.screens[2]
    assert jumped.requirement == target.id and jumped.question_number == 1
    assert target.text.de in jumped.question
    assert current_answers(config) == {(target.id, FULFILMENT.key): ("mostly", None)}


def test_the_demo_offers_no_handover(config: Path) -> None:
    """Protects the demo from a button that cannot work there: handing a requirement to a
    colleague needs a Telegram link, so "Kolleg*in fragen" is not offered in the terminal."""
    terminal = play(config, ["/weiter"])
    question = terminal.screens[1]
    assert bare(label("back")) in question.buttons, "a question with its buttons is shown"
    assert bare(label("hand_over")) not in question.buttons


# -- typed text: accepted, refused ------------------------------------------------------------


def test_text_naming_an_option_is_accepted(config: Path) -> None:
    play(config, ["Teilweise erfüllt", "nein", "keine geplant"])
    z1 = REQUIREMENTS[0].id
    assert current_answers(config) == {
        (z1, FULFILMENT.key): ("partly", None),
        (z1, POTENTIAL.key): ("no", None),
        (z1, MEASURES.key): ("none", None),
    }


def test_nonsense_is_refused_politely_and_nothing_is_stored(config: Path) -> None:
    """Text that names no option is refused with the question shown again; a number that no
    button has names the valid range in one line, so nothing is taken for an answer."""
    terminal = play(config, ["vielleicht", "99", "1", "egal"])
    refusal = message("unknown_option")
    assert refusal in terminal.screens[1].text
    assert terminal.screens[1].requirement == REQUIREMENTS[0].id
    assert terminal.screens[1].question_number == 1
    assert terminal.screens[2].text == note("demo_number", count=len(terminal.screens[1].buttons))
    assert refusal in terminal.screens[4].text and terminal.screens[4].question_number == 2
    assert current_answers(config) == {(REQUIREMENTS[0].id, FULFILMENT.key): ("full", None)}


def test_too_long_text_is_refused_with_the_limit(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[telegram]\nmax_text_length = 50\n")
    terminal = play(
        config,
        [
            press(CATALOGUE.scale[0].label.de),
            press(POTENTIAL.yes.de),  # type: ignore[union-attr]
            "ü" * 51,
            "ü" * 50,
            "m" * 51,
        ],
    )
    too_long = message("too_long", limit=50)
    assert "50" in too_long
    assert too_long in terminal.screens[3].text
    assert POTENTIAL.follow_up.de in terminal.screens[3].question  # type: ignore[union-attr]
    assert too_long in terminal.screens[5].text and terminal.screens[5].question_number == 3
    z1 = REQUIREMENTS[0].id
    assert current_answers(config) == {
        (z1, FULFILMENT.key): ("full", None),
        (z1, POTENTIAL.key): ("yes", "ü" * 50),
    }
    texts = [t for (t,) in query(config, "SELECT text FROM answers WHERE text IS NOT NULL")]
    assert texts == ["ü" * 50]


# -- language and the greeting ----------------------------------------------------------------


def test_english_config_shows_english(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[checks]\nlanguage = "en"\n')
    terminal = play(config, [press(CATALOGUE.scale[0].label.en), "/overview"])
    first = terminal.screens[0]
    assert FULFILMENT.text.en in first.question and FULFILMENT.text.de not in first.text
    assert {bare(s.label.en) for s in CATALOGUE.scale} <= set(first.buttons)
    assert label("skip", "en") in first.buttons
    assert POTENTIAL.text.en in terminal.screens[1].question
    for area in CATALOGUE.areas:
        assert area.title.en in terminal.screens[2].text
    assert current_answers(config) == {(REQUIREMENTS[0].id, FULFILMENT.key): ("full", None)}


def test_greeting_is_plain_text(config: Path) -> None:
    terminal = play(config, [])
    greeting = terminal.output[0]
    assert "Offline-Demo" in greeting
    assert "<b>" not in greeting


# -- the real console script --------------------------------------------------------------------


def run_script(config: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANCENCHECK_")}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), "--config", str(config), "demo"],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=env,
        timeout=60,
    )


def test_console_script_demo_answers_and_resumes(config: Path) -> None:
    first = run_script(config, "1\n2\nq\n")
    assert first.returncode == 0, first.stderr
    assert "Offline-Demo" in first.stdout
    assert FULFILMENT.text.de in first.stdout and POTENTIAL.text.de in first.stdout
    assert "Traceback" not in first.stderr
    z1 = REQUIREMENTS[0].id
    assert current_answers(config) == {
        (z1, FULFILMENT.key): (CATALOGUE.scale[0].key, None),
        (z1, POTENTIAL.key): ("no", None),
    }

    second = run_script(config, "")  # stdin ends at once: shows the next question, pauses
    assert second.returncode == 0, second.stderr
    shown = Screen([second.stdout.split("› ")[0]])  # before the first prompt
    assert shown.requirement == z1 and shown.question_number == 3
    assert MEASURES.text.de in second.stdout


# -- a terminal program: Ctrl-C, commands it lacks, starting over ---------------------------------


def pause_line(answered: int, language: str = "de") -> str:
    progress = {"answered": answered, "total": len(REQUIREMENTS) * len(CATALOGUE.questions)}
    return note("demo_paused", language, p=progress)


def read_until(process: subprocess.Popen[bytes], prompts: int, timeout: float = 30) -> str:
    """Read the demo's output until it has shown `prompts` prompts ("› ")."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while seen.decode(errors="replace").count("› ") < prompts:
        assert time.monotonic() < deadline, f"no prompt; output so far:\n{seen.decode()}"
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"the demo ended early:\n{seen.decode()}"
            seen += chunk
    return seen.decode()


def test_ctrl_c_quits_at_once_with_the_pause_line_and_exit_code_0(config: Path) -> None:
    """Ctrl-C while the demo waits for input ends it at once (no Enter needed), stores what was
    answered, says "Pause …" as q and Ctrl-D do, and exits 0 rather than 130."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANCENCHECK_")}
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "--config", str(config), "demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=config.parent,
        env=env,
    )
    try:
        assert process.stdin is not None
        read_until(process, 1)
        process.stdin.write(b"1\n")  # Z1: the first option; the pipe stays open, as a terminal
        process.stdin.flush()
        read_until(process, 1)  # the next question's prompt: waiting in the read
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)  # no Enter is ever typed
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == pause_line(1)
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
    assert current_answers(config) == {(REQUIREMENTS[0].id, FULFILMENT.key): ("full", None)}


def test_q_and_end_of_input_end_with_the_same_pause_line(config: Path) -> None:
    """q and Ctrl-D (end of input) pause with the one line Ctrl-C prints too."""
    by_q = play(config, ["1", "q"])
    assert by_q.output[-1] == pause_line(1)
    by_eof = play(config, [])
    assert by_eof.output[-1] == pause_line(1)
    assert query(config, "SELECT phase FROM positions") == [("paused",)]


def test_commands_the_demo_lacks_get_one_line_naming_its_commands(config: Path) -> None:
    """A chat-only command (/hilfe, /runde, /sprache) or an unknown one is answered with one
    line listing the demo's commands, instead of the question shown again; nothing changes."""
    terminal = play(config, ["/hilfe", "/runde", "/sprache", "/gibtsnicht", "1"])
    commands = [f"/{name}" for name in DIALOGUE_COMMANDS]
    for screen, name in zip(terminal.screens[1:4], ("hilfe", "runde", "sprache"), strict=True):
        assert screen.messages == [
            note("demo_command", name=name, chat_only=True, commands=commands)
        ]
        assert "Telegram" in screen.text and "/weiter" in screen.text
    assert terminal.screens[4].messages == [
        note("demo_command", name="gibtsnicht", chat_only=False, commands=commands)
    ]
    assert terminal.screens[5].question_number == 2  # "1" still answers the question shown
    assert current_answers(config) == {(REQUIREMENTS[0].id, FULFILMENT.key): ("full", None)}


def run_reset(config: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANCENCHECK_")}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), "--config", str(config), "demo", "--reset"],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=env,
        timeout=60,
    )


def test_demo_reset_asks_first_then_starts_over(config: Path) -> None:
    """`chancencheck demo --reset` deletes the demo's answers only after a "j", so that a
    newcomer can try twice; any other reply keeps them and exits."""
    assert run_script(config, "1\n2\nq\n").returncode == 0
    assert len(current_answers(config)) == 2

    declined = run_reset(config, "n\n")
    assert declined.returncode == 0, declined.stderr
    assert note("demo_reset_kept") in declined.stdout and "Offline-Demo" not in declined.stdout
    assert len(current_answers(config)) == 2

    again = run_reset(config, "j\n")
    assert again.returncode == 0, again.stderr
    assert note("demo_reset_done") in again.stdout
    shown = Screen([again.stdout.split("› ")[0]])
    assert shown.requirement == REQUIREMENTS[0].id and shown.question_number == 1
    assert current_answers(config) == {}
    assert again.stdout.strip().splitlines()[-1] == pause_line(0)
