"""The engine's carry-forward: last round's answers are proposals, confirmed in one tap."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.catalogue import load_catalogue
from bot.render.presenter import Context, Presenter
from bot.render.templates import Templates
from dialogues import effects as fx
from dialogues import events as ev
from dialogues.engine import Dialogue
from dialogues.model import Answer, Key, Phase, Position

DIALOGUE = Dialogue(load_catalogue())
QUESTIONS = [q.key for q in DIALOGUE.catalogue.questions]
FIRST = DIALOGUE.catalogue.requirements[0].id


def last_round() -> dict[Key, Answer]:
    answers: dict[Key, Answer] = {}
    for requirement in DIALOGUE.catalogue.requirements:
        answers[(requirement.id, "fulfilment")] = Answer("mostly")
        answers[(requirement.id, "potential")] = Answer("yes", "Mehr Sprachen")
        answers[(requirement.id, "measures")] = Answer("planned", "Flyer, Team A, 2027")
    return answers


def test_a_proposal_is_shown_and_does_not_count_as_answered() -> None:
    """Protects "a proposal is not an answer": the first screen offers last round's answers,
    progress stays at 0 and submitting is refused as incomplete."""
    state = DIALOGUE.initial(proposals=last_round())
    step = DIALOGUE.advance(state, ev.Resume())
    assert step.state.phase is Phase.PROPOSING
    propose = step.effects[0]
    assert isinstance(propose, fx.Propose) and len(propose.proposals) == 3
    assert DIALOGUE.progress(step.state).answered == 0
    submit = DIALOGUE.advance(step.state, ev.Submit())
    assert submit.rejected is not None and submit.rejected.reason is fx.Reason.INCOMPLETE


def test_carry_records_the_three_answers_and_moves_on() -> None:
    """Protects "Stimmt noch so": one tap stores all three answers marked carried and shows
    the next requirement's proposal."""
    step = DIALOGUE.advance(DIALOGUE.initial(proposals=last_round()), ev.Resume())
    step = DIALOGUE.advance(step.state, ev.Carry(step.state.position))
    assert [r.position.question_key for r in step.records] == QUESTIONS
    assert all(r.carried for r in step.records)
    assert DIALOGUE.progress(step.state).answered == 3
    assert step.state.phase is Phase.PROPOSING and step.state.position.requirement_id != FIRST


def test_confirming_everything_takes_one_tap_per_requirement_and_submits() -> None:
    """Protects the 15-tap repeat check: confirming every requirement completes the check."""
    step = DIALOGUE.advance(DIALOGUE.initial(proposals=last_round()), ev.Resume())
    taps = 0
    while step.state.phase is Phase.PROPOSING:
        step = DIALOGUE.advance(step.state, ev.Carry(step.state.position))
        taps += 1
    assert taps == len(DIALOGUE.catalogue.requirements)
    assert step.state.phase is Phase.AT_END and not DIALOGUE.open_questions(step.state)
    step = DIALOGUE.advance(DIALOGUE.advance(step.state, ev.Submit()).state, ev.Confirm())
    assert step.state.submitted


def test_change_offers_the_old_answer_which_keep_takes_over() -> None:
    """Protects "Ändern": the questions are asked with last round's answer on offer; keeping it
    records it as carried, choosing another records the new one."""
    step = DIALOGUE.advance(DIALOGUE.initial(proposals=last_round()), ev.Resume())
    step = DIALOGUE.advance(step.state, ev.Change(step.state.position))
    ask = step.effects[0]
    assert isinstance(ask, fx.Ask) and ask.proposed and ask.existing == Answer("mostly")
    step = DIALOGUE.advance(step.state, ev.Choose("full", step.state.position))
    assert step.records[0].answer == Answer("full") and not step.records[0].carried
    step = DIALOGUE.advance(step.state, ev.Keep(step.state.position))
    assert step.records[0].answer == Answer("yes", "Mehr Sprachen") and step.records[0].carried


def test_reworded_and_new_requirements() -> None:
    """Protects the catalogue-change cases: a reworded requirement's proposal carries the note;
    a requirement without last-round answers (new in the catalogue) is asked as today."""
    proposals = {k: a for k, a in last_round().items() if k[0] != FIRST}
    second = DIALOGUE.catalogue.requirements[1].id
    state = DIALOGUE.initial(proposals=proposals, reworded=frozenset({second}))
    step = DIALOGUE.advance(state, ev.Resume())
    assert isinstance(step.effects[0], fx.Ask) and not step.effects[0].proposed
    step = DIALOGUE.advance(step.state, ev.Jump(second))
    propose = step.effects[0]
    assert isinstance(propose, fx.Propose) and propose.reworded


def test_restore_leaves_proposing_once_a_colleague_answered() -> None:
    """Protects shared checks: a stored PROPOSING position whose requirement a colleague has
    answered meanwhile comes back as an ordinary question."""
    answers = {(FIRST, "fulfilment"): Answer("full")}
    state = DIALOGUE.restore(
        Position(FIRST, "fulfilment"), Phase.PROPOSING, answers, False, last_round()
    )
    assert state.phase is Phase.ASKING
    refused = DIALOGUE.advance(state, ev.Carry(state.position))
    assert refused.rejected is not None and not refused.records


def test_the_proposal_screen_shows_each_answer_on_its_own_line_with_both_buttons() -> None:
    """Protects the proposal screen as members read it: the three answers one per line, the
    reworded note, "✅ Stimmt noch so" and "✏️ Ändern" first, in German and English."""
    presenter = Presenter(DIALOGUE, Templates(ZoneInfo("Europe/Berlin")))
    state = DIALOGUE.initial(proposals=last_round(), reworded=frozenset({FIRST}))
    step = DIALOGUE.advance(state, ev.Resume())
    view = presenter.turn(step, Context("de"))[0]
    assert "  <b>Ja: Mehr Sprachen</b>\n• Gibt es Maßnahmen" in view.text
    assert "Die Anforderung wurde neu formuliert – bitte prüfen" in view.text
    assert [b.label for b in view.keyboard[0]] == ["✅ Stimmt noch so", "✏️ Ändern"]
    english = presenter.turn(step, Context("en"))[0]
    assert [b.label for b in english.keyboard[0]] == ["✅ Still true", "✏️ Change"]


def test_one_measure_is_carried_only_at_question_3_and_the_question_stays() -> None:
    """Protects the one-tap carry of a measure after "Ändern": at question 3 the engine passes
    the measure on (MeasureCarried) and asks question 3 again with nothing recorded; anywhere
    else the tap is refused and changes nothing."""
    step = DIALOGUE.advance(DIALOGUE.initial(proposals=last_round()), ev.Resume())
    step = DIALOGUE.advance(step.state, ev.Change(step.state.position))
    refused = DIALOGUE.advance(step.state, ev.CarryMeasure(7, step.state.position))
    assert refused.rejected is not None and refused.state == step.state
    third = Position(FIRST, QUESTIONS[-1])
    at_third = replace(step.state, position=third)
    carried = DIALOGUE.advance(at_third, ev.CarryMeasure(7, third))
    assert carried.effects[0] == fx.MeasureCarried(third, 7)
    assert isinstance(carried.effects[1], fx.Ask) and carried.effects[1].position == third
    assert not carried.records and carried.state == at_third
