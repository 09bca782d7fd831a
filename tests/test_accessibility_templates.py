"""Issue 21: no staff-facing message carries meaning in glyphs alone.

Every screen a member can meet (question, follow-up, hint, overview, review, end, confirmation,
submission summary, pause, reopening, each rejection) is rendered by the real presenter from the
real templates, once in plain mode (/barrierefrei an) and once normally. In plain mode no
emoji or symbol glyph may remain and each button stands alone in its row; normally every glyph
must stand beside words on its line, and progress must lead with words, not the bar.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from fakebot import parse_html

from bot.catalogue import load_catalogue
from bot.render.presenter import COLOUR_MARK, Context, Presenter
from bot.render.templates import Templates
from bot.render.views import View, is_glyph, words_only
from dialogues import events as ev
from dialogues.engine import Dialogue
from dialogues.model import Answer, Key, State

CATALOGUE = load_catalogue()
DIALOGUE = Dialogue(CATALOGUE)
PRESENTER = Presenter(DIALOGUE, Templates(ZoneInfo("Europe/Berlin")))
LIGHTS = "".join(COLOUR_MARK.values())
FIRST = CATALOGUE.requirements[0].id
VALUES = {
    "fulfilment": ("partly", None),
    "potential": ("yes", "Mehr Kurse"),
    "measures": ("planned", "Flyer"),
}


def full_answers() -> dict[Key, Answer]:
    return {
        (r.id, q.key): Answer(*VALUES[q.key])
        for r in CATALOGUE.requirements
        for q in CATALOGUE.questions
    }


def screens(ctx: Context) -> list[View]:
    """Walk through every kind of screen and return all views shown on the way."""
    shown: list[View] = []

    def run(state: State, *events: ev.Event) -> State:
        for event in events:
            step = DIALOGUE.advance(state, event)
            shown.extend(PRESENTER.turn(step, ctx))
            state = step.state
        return state

    half = {k: v for k, v in full_answers().items() if k[0] != FIRST}
    half[(FIRST, "potential")] = Answer("yes", None)  # a "Ja" still lacking its text
    state = run(DIALOGUE.initial(half), ev.Resume(), ev.Hint(), ev.Type("vielleicht"))
    state = run(state, ev.Choose("partly"), ev.Back(), ev.Keep(), ev.Type(""), ev.Skip())
    state = run(state, ev.Overview(), ev.Jump("nope"), ev.Review(), ev.Submit(), ev.Pause())
    state = run(DIALOGUE.initial(full_answers()), ev.Resume(), ev.Submit(), ev.Cancel())
    state = run(state, ev.Submit(), ev.Confirm(), ev.Review(), ev.Choose("full"), ev.Reopen())
    assert len(shown) > 15
    return shown


def visible(view: View) -> str:
    parsed = parse_html(view.text)
    assert not parsed.errors, parsed.errors
    return parsed.text


@pytest.mark.parametrize("language", ["de", "en"])
def test_plain_mode_says_everything_in_words(language: str) -> None:
    """Plain mode: no glyph at all, one button per row, each label a word, progress in words."""
    views = screens(Context(language, plain=True))
    for view in views:
        text = visible(view)
        assert not [c for c in text if is_glyph(c)], text
        assert all(len(row) == 1 for row in view.keyboard), view.keyboard
        for row in view.keyboard:
            assert re.search(r"\w", row[0].label) and row[0].label == words_only(row[0].label)
    answered = "beantwortet" if language == "de" else "answered"
    assert any(re.search(rf"\d+ (von|of) 45 {answered}", visible(v)) for v in views)


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_glyph_stands_beside_words(language: str) -> None:
    """Normal mode: a line with a glyph still has words without it; progress words come first."""
    views = screens(Context(language))
    for view in views:
        for line in visible(view).splitlines():
            if any(is_glyph(c) for c in line):
                assert re.search(r"[^\W\d_]{2,}", words_only(line)), line
            # A traffic light is followed by its word (or a count and the word), never by
            # another light or a separator: "🟠 2 teilweise erfüllt", not "🟠🟠" or "A1 🟠 ·".
            for after in re.findall(f"[{LIGHTS}]\ufe0f?(.{{0,12}})", line):
                assert re.match(r"\s*(\d+\s+)?[^\W\d_]{2,}", after), line
            bar = re.search(r"[▰▱]", line)
            if bar:
                assert re.search(r"\d+ (von|of) \d+", line[: bar.start()]), line
        for label in (b.label for row in view.keyboard for b in row):
            assert re.search(r"\w", words_only(label)), label


def test_words_only_keeps_the_words_and_drops_the_glyphs() -> None:
    """The plain-mode filter removes pictographs and their joiners, never letters or digits."""
    assert words_only("🟢 vollständig erfüllt") == "vollständig erfüllt"
    assert words_only("▶️ Weiter") == "Weiter"
    assert words_only("3 von 45 beantwortet ▰▱▱") == "3 von 45 beantwortet"
    assert words_only("Z1 · „Text“ → 2,5 – ok") == "Z1 · „Text“ → 2,5 – ok"


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("plain", [False, True])
def test_the_overview_gives_each_requirement_a_line_of_its_own(language: str, plain: bool) -> None:
    """A screen reader reads the overview line by line: each requirement must stand on its own
    line (a template joined them into one run-on line once, after the handover note was added)."""
    step = DIALOGUE.advance(DIALOGUE.initial(full_answers()), ev.Overview())
    text = visible(PRESENTER.turn(step, Context(language, plain=plain))[0])
    lines = text.splitlines()
    for requirement in CATALOGUE.requirements:
        found = [line for line in lines if f" {requirement.id} " in f" {line} "]
        assert len(found) == 1, (requirement.id, found)
        assert requirement.title(language) in found[0]
        others = [r.id for r in CATALOGUE.requirements if r.id != requirement.id]
        assert not any(f" {other} " in f" {found[0]} " for other in others), found[0]
