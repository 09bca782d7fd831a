"""Nobody gets stuck: from any reachable state, following the screen leads to a submitted check.

The property: take a state reached by random events — answers, back, skip, jumps, pauses, a
restore from the stored form (what every Telegram turn does), and a colleague's answers merged
in between (also half-given ones, such as a "Ja" whose description never came). From there a
member who only does what the screen asks — on a question any answer it offers (an option, the
"keep" button, or a text where a text is asked), on the end screen "Weiter" while questions are
open and else "Absenden", on the confirmation "Ja, absenden", on a paused screen "Weiter" —
submits within 2 × 45 + 10 events. The screens are the real ones: the presenter's keyboards,
rendered from the real templates.

Both tests fail on the code before issue 13 (commit b135cd7), checked by running this file
against it: the property test finds a walk that does not submit within the budget (answered
questions walked again after every "Weiter"), and the fixed case below loops for ever — a "Ja"
without description is shown by "Weiter" as "Gespeicherte Antwort: Ja … Behalten oder ändern?",
"Antwort beibehalten" walks on without the description, and the end screen's "Weiter" brings
the member back to the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalogue import load_catalogue
from bot.render.presenter import Context, Presenter
from bot.render.templates import Templates
from bot.render.views import View
from dialogues import events as ev
from dialogues.catalogue import AnswerKind
from dialogues.engine import Dialogue, Step
from dialogues.model import Answer, State
from dialogues.options import options_for

DIALOGUE = Dialogue(load_catalogue())
PRESENTER = Presenter(DIALOGUE, Templates(ZoneInfo("Europe/Berlin")))
CTX = Context("de")
BUDGET = 2 * len(DIALOGUE.positions) + 10
DESCRIPTIONS = ("Mehr Sprachkurse anbieten", "Flyer in Leichter Sprache, Team A, bis 06/2027")


@dataclass(frozen=True)
class Restore:
    """The bot restarts (or a new turn begins): the state is rebuilt from its stored form."""


@dataclass(frozen=True)
class Colleague:
    """A colleague's answers arrive in the shared check between two of the member's events."""

    answers: tuple[tuple[tuple[str, str], Answer], ...]


@st.composite
def colleague_answer(draw: st.DrawFn) -> tuple[tuple[str, str], Answer]:
    position = draw(st.sampled_from(DIALOGUE.positions))
    question = DIALOGUE.question(position)
    value = draw(st.sampled_from(options_for(DIALOGUE.catalogue, question) + ("planned",)))
    if question.kind is not AnswerKind.MEASURES and value == "planned":
        value = options_for(DIALOGUE.catalogue, question)[0]
    text = draw(st.sampled_from((None, DESCRIPTIONS[0])))  # None: tapped "Ja" and left
    return (position.requirement_id, position.question_key), Answer(value, text)


requirement_ids = st.sampled_from([r.id for r in DIALOGUE.catalogue.requirements])
member_events = st.one_of(
    st.builds(
        ev.Choose, st.sampled_from(["full", "mostly", "not", "unknown", "yes", "no", "none"])
    ),
    st.builds(ev.Type, st.sampled_from(DESCRIPTIONS + ("ja", "nicht", "2", "keine"))),
    st.builds(ev.Jump, requirement_ids),
    st.builds(ev.HandOver, requirement_ids),
    st.builds(ev.TakeBack, requirement_ids),
    st.sampled_from(
        [
            ev.Resume(),
            ev.Back(),
            ev.Skip(),
            ev.Keep(),
            ev.Pause(),
            ev.Overview(),
            ev.Review(),
            ev.Submit(),
            ev.Cancel(),
            ev.Show(),
            ev.Carry(),
            ev.Change(),
        ]
    ),
)
prefix_events = st.one_of(
    member_events,
    st.just(Restore()),
    st.builds(Colleague, st.lists(colleague_answer(), max_size=45).map(tuple)),
)


def restore(state: State) -> State:
    return DIALOGUE.restore(
        state.position,
        state.phase,
        dict(state.answers),
        state.submitted,
        dict(state.proposals),
        state.reworded,
        state.passed,
    )


@st.composite
def last_round(draw: st.DrawFn) -> tuple[dict[tuple[str, str], Answer], frozenset[str]]:
    """Last round's complete answers for some requirements, some of them reworded since."""
    carried = draw(st.sets(requirement_ids))
    proposals: dict[tuple[str, str], Answer] = {}
    for requirement_id in carried:
        for question in DIALOGUE.catalogue.questions:
            options = [o for o in options_for(DIALOGUE.catalogue, question) if o != "planned"]
            value = draw(st.sampled_from(options))
            text = DESCRIPTIONS[1] if value == "yes" else None
            proposals[(requirement_id, question.key)] = Answer(value, text)
    return proposals, frozenset(draw(st.sets(st.sampled_from(sorted(carried) or ["K1"]))))


def apply(state: State, event: object) -> Step:
    if isinstance(event, Restore):
        return DIALOGUE.advance(restore(state), ev.Show())
    if isinstance(event, Colleague):
        merged = restore(
            State(
                state.position,
                state.phase,
                {**state.answers, **dict(event.answers)},
                state.submitted,
                state.proposals,
                state.reworded,
                state.passed,
            )
        )
        return DIALOGUE.advance(merged, ev.Show())
    return DIALOGUE.advance(restore(state), event)  # type: ignore[arg-type]


def screen(step: Step) -> View | None:
    """Return the message whose buttons the member sees last, as the bot would show it."""
    return next((v for v in reversed(PRESENTER.turn(step, CTX)) if v.keyboard), None)


def follow_the_screen(step: Step, data: st.DataObject) -> ev.Event:
    """Do what the screen asks: answer a question, else go on by "Weiter"/"Absenden"."""
    shown = screen(step)
    assert shown is not None, f"a screen without a way on: {PRESENTER.turn(step, CTX)}"
    events = [button.event for row in shown.keyboard for button in row]
    if any(isinstance(e, ev.Confirm) for e in events):
        return ev.Confirm()
    proposal = [e for e in events if isinstance(e, (ev.Carry, ev.Change))]
    if proposal:  # last round's answers shown: "Stimmt noch so" or "Ändern"
        return data.draw(st.sampled_from(proposal))
    if shown.asks is not None:
        answers = [e for e in events if isinstance(e, (ev.Choose, ev.Keep))]
        question = DIALOGUE.question(shown.asks)
        if step.state.phase.value == "follow_up" or question.kind is AnswerKind.MEASURES:
            answers.append(ev.Type(data.draw(st.sampled_from(DESCRIPTIONS)), shown.asks))
        return data.draw(st.sampled_from(answers))
    for wanted in (ev.Submit, ev.Resume, ev.TakeBack):
        found = next((e for e in events if isinstance(e, wanted)), None)
        if found is not None:
            return found
    raise AssertionError(f"nothing to follow on: {shown.text}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(prefix_events, max_size=60), last_round(), st.data())
def test_following_the_screen_always_submits(
    prefix: list[object],
    previous: tuple[dict[tuple[str, str], Answer], frozenset[str]],
    data: st.DataObject,
) -> None:
    """Protects "nobody gets stuck": a half-given answer, a colleague's merge or last round's
    proposals (confirmed, changed, skipped) can never trap a member in a circle; 2 × 45 + 10
    events plus one "Ändern" per requirement always suffice to submit."""
    proposals, reworded = previous
    step = DIALOGUE.advance(DIALOGUE.initial(proposals=proposals, reworded=reworded), ev.Show())
    for event in prefix:
        step = apply(step.state, event)
    trail: list[ev.Event] = []
    while not step.state.submitted:
        budget = BUDGET + len(DIALOGUE.catalogue.requirements)
        assert len(trail) < budget, f"not submitted after {budget} events: {trail[-12:]}"
        event = follow_the_screen(step, data)
        trail.append(event)
        step = apply(step.state, event)
    assert not DIALOGUE.open_questions(step.state)


def test_a_yes_without_description_cannot_trap_a_member_who_keeps() -> None:
    """Protects against the trap of issue 13: everything answered but one "Ja" that lacks its
    description; a member who taps "keep" whenever it is offered must still be asked for the
    description and submit."""
    answers = {(p.requirement_id, p.question_key): Answer("unknown") for p in DIALOGUE.positions}
    for position in DIALOGUE.positions:
        question = DIALOGUE.question(position)
        key = (position.requirement_id, position.question_key)
        if question.kind is AnswerKind.YES_NO:
            answers[key] = Answer("no")
        elif question.kind is AnswerKind.MEASURES:
            answers[key] = Answer("none")
    answers[("B1", "potential")] = Answer("yes")  # tapped "Ja", then the bot restarted
    step = DIALOGUE.advance(DIALOGUE.initial(answers), ev.Show())
    trail: list[ev.Event] = []
    while not step.state.submitted:
        assert len(trail) < BUDGET, f"trapped: {trail[-6:]}"
        shown = screen(step)
        assert shown is not None
        events = [button.event for row in shown.keyboard for button in row]
        keep = next((e for e in events if isinstance(e, ev.Keep)), None)
        if shown.asks is not None and keep is None and step.state.phase.value == "follow_up":
            event: ev.Event = ev.Type(DESCRIPTIONS[0], shown.asks)
        elif keep is not None:
            event = keep
        else:
            event = follow_the_screen_first(step)
        trail.append(event)
        step = apply(step.state, event)
    assert step.state.answers[("B1", "potential")] == Answer("yes", DESCRIPTIONS[0])


def test_a_handed_over_requirement_cannot_trap_the_delegator() -> None:
    """Protects "nobody gets stuck" with handovers (issue 19): when only requirements handed to
    a colleague are open, forward moves pass over them, and the end screen offers to take one
    back, which leads straight to its questions and on to a submitted check."""
    step = DIALOGUE.advance(DIALOGUE.initial(), ev.HandOver("K2"))
    trail: list[ev.Event] = []
    while not step.state.submitted:
        assert len(trail) < BUDGET, f"trapped: {trail[-6:]}"
        shown = screen(step)
        assert shown is not None
        if shown.asks is not None:
            assert shown.asks.requirement_id != "K2" or "K2" not in step.state.passed
        event = follow_the_screen_first(step)
        trail.append(event)
        step = apply(step.state, event)
    assert ev.TakeBack("K2") in trail
    assert not DIALOGUE.open_questions(step.state)


def follow_the_screen_first(step: Step) -> ev.Event:
    """Follow the screen taking the first answer offered (no randomness)."""
    shown = screen(step)
    assert shown is not None
    events = [button.event for row in shown.keyboard for button in row]
    for wanted in (ev.Confirm, ev.Choose, ev.Submit, ev.Resume, ev.TakeBack):
        found = next((e for e in events if isinstance(e, wanted)), None)
        if found is not None:
            return found
    raise AssertionError(f"nothing to follow on: {shown.text}")
