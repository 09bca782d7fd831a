"""The dialogue engine as plain synchronous sequences: state = advance(state, event)."""

from __future__ import annotations

import pytest

from dialogues import effects as fx
from dialogues import events as ev
from dialogues.catalogue import load_catalogue
from dialogues.engine import Dialogue, Step
from dialogues.model import Answer, Phase, Position, State

CATALOGUE = load_catalogue()


@pytest.fixture
def dialogue() -> Dialogue:
    return Dialogue(CATALOGUE, max_text=200)


def run(dialogue: Dialogue, state: State, *events: ev.Event) -> Step:
    """Apply events in order, failing on the first rejection."""
    step = Step(state, ())
    for event in events:
        step = dialogue.advance(step.state, event)
        assert step.rejected is None, (event, step.rejected)
    return step


def answer_current(dialogue: Dialogue, state: State) -> Step:
    """Answer the question at the position the way a diligent member would."""
    kind = dialogue.question(state.position).kind.value
    if kind == "rating":
        return run(dialogue, state, ev.Choose("mostly", at=state.position))
    if kind == "yes_no":
        return run(dialogue, state, ev.Choose("yes"), ev.Type("Formulare zu lang <b>&"))
    return run(dialogue, state, ev.Type("Leichte Sprache – Team A bis 2027"))


def walk_all(dialogue: Dialogue) -> State:
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    while state.phase is Phase.ASKING:
        state = answer_current(dialogue, state).state
    return state


def the(effect_type: type, step: Step):
    found = [e for e in step.effects if isinstance(e, effect_type)]
    assert len(found) == 1, step.effects
    return found[0]


def test_catalogue_has_45_questions(dialogue: Dialogue) -> None:
    assert len(dialogue.positions) == 45
    assert dialogue.positions[0] == Position(CATALOGUE.requirements[0].id, "fulfilment")


def test_resume_asks_first_question_with_progress(dialogue: Dialogue) -> None:
    step = run(dialogue, dialogue.initial(), ev.Resume())
    ask = the(fx.Ask, step)
    assert ask.position == dialogue.positions[0]
    assert ask.options == ("full", "mostly", "partly", "not", "unknown")
    assert (ask.progress.requirement_number, ask.progress.requirement_count) == (1, 15)
    assert (ask.progress.question_number, ask.progress.question_count) == (1, 3)
    assert ask.progress.answered == 0 and ask.progress.total == 45


def test_full_walk_records_every_answer_and_reaches_the_end(dialogue: Dialogue) -> None:
    state = walk_all(dialogue)
    assert state.phase is Phase.AT_END
    assert len(state.answers) == 45
    assert dialogue.open_questions(state) == ()
    assert state.answers[(dialogue.positions[1].requirement_id, "potential")] == Answer(
        "yes", "Formulare zu lang <b>&"
    )


def test_each_answer_emits_exactly_one_record(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    step = run(dialogue, state, ev.Choose("full"))
    assert step.records == (fx.Record(dialogue.positions[0], Answer("full")),)
    assert the(fx.Ask, step).position == dialogue.positions[1]


def test_yes_asks_for_description_and_no_does_not(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full")).state
    step = run(dialogue, state, ev.Choose("yes"))
    assert step.state.phase is Phase.FOLLOW_UP and step.state.position == state.position
    assert the(fx.Ask, step).follow_up
    step_no = run(dialogue, state, ev.Choose("no"))
    assert step_no.state.position == dialogue.positions[2]
    assert step_no.state.answers[(state.position.requirement_id, "potential")] == Answer("no")


def test_yes_without_description_stays_open(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full"), ev.Choose("yes"))
    state = run(dialogue, state.state, ev.Skip()).state
    assert (dialogue.positions[1].requirement_id, "potential") in dialogue.open_questions(state)


def test_measures_take_text_or_none_planned(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full"), ev.Choose("no"))
    planned = run(dialogue, state.state, ev.Type("  Schulung im März  "))
    assert planned.records[0].answer == Answer("planned", "Schulung im März")
    none = run(dialogue, state.state, ev.Choose("none"))
    assert none.records[0].answer == Answer("none")
    typed_none = run(dialogue, state.state, ev.Type("keine geplant"))
    assert typed_none.records[0].answer == Answer("none")
    typed_label = run(dialogue, state.state, ev.Type("Keine Maßnahmen geplant"))
    assert typed_label.records[0].answer == Answer("none")


def test_typed_option_is_accepted_where_a_button_is_expected(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    assert run(dialogue, state, ev.Type("Überwiegend erfüllt")).records[0].answer.value == "mostly"
    assert run(dialogue, state, ev.Type("mostly met")).records[0].answer.value == "mostly"
    assert run(dialogue, state, ev.Type("5")).records[0].answer.value == "unknown"
    # Either half of "nicht beurteilbar / trifft nicht zu" names the escape option.
    assert run(dialogue, state, ev.Type("trifft nicht zu")).records[0].answer.value == "unknown"
    assert run(dialogue, state, ev.Type("nicht beurteilbar")).records[0].answer.value == "unknown"
    rejected = dialogue.advance(state, ev.Type("vielleicht"))
    assert rejected.rejected.reason is fx.Reason.UNKNOWN_OPTION and rejected.state == state


def test_back_shows_stored_answer_and_allows_change(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full")).state
    back = run(dialogue, state, ev.Back())
    ask = the(fx.Ask, back)
    assert ask.position == dialogue.positions[0] and ask.existing == Answer("full")
    changed = run(dialogue, back.state, ev.Choose("partly"))
    assert changed.state.answers[(dialogue.positions[0].requirement_id, "fulfilment")] == Answer(
        "partly"
    )


def test_back_at_first_question_is_rejected(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    step = dialogue.advance(state, ev.Back())
    assert step.rejected.reason is fx.Reason.AT_START and step.state == state


def test_keep_goes_on_without_recording(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full"), ev.Back()).state
    step = run(dialogue, state, ev.Keep(at=state.position))
    assert step.records == () and step.state.position == dialogue.positions[1]
    nothing = dialogue.advance(step.state, ev.Keep())
    assert nothing.rejected.reason is fx.Reason.NOTHING_STORED


def test_skip_leaves_question_open(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Skip()).state
    assert state.position == dialogue.positions[1] and state.answers == {}


def test_pause_and_resume_at_first_open_question(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Skip(), ev.Choose("no")).state
    paused = run(dialogue, state, ev.Pause())
    assert paused.state.phase is Phase.PAUSED
    assert the(fx.Paused, paused).progress.answered == 1
    resumed = run(dialogue, paused.state, ev.Resume())
    assert the(fx.Ask, resumed).position == dialogue.positions[0]


def test_answers_while_paused_are_rejected(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Pause()).state
    step = dialogue.advance(state, ev.Type("vollständig erfüllt"))
    assert step.rejected.reason is fx.Reason.NOT_NOW and step.state == state


def test_jump_to_requirement(dialogue: Dialogue) -> None:
    target = CATALOGUE.requirements[7].id
    step = run(dialogue, dialogue.initial(), ev.Jump(target))
    assert step.state.position == Position(target, "fulfilment")
    assert the(fx.Ask, step).progress.requirement_number == 8
    unknown = dialogue.advance(step.state, ev.Jump("XX9"))
    assert unknown.rejected.reason is fx.Reason.UNKNOWN_REQUIREMENT


def test_stale_button_is_rejected_and_changes_nothing(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    first = dialogue.positions[0]
    state = run(dialogue, state, ev.Choose("full", at=first)).state
    double_tap = dialogue.advance(state, ev.Choose("not", at=first))
    assert double_tap.rejected.reason is fx.Reason.STALE
    assert double_tap.state == state and double_tap.records == ()


def test_double_yes_records_once(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full")).state
    at = state.position
    once = run(dialogue, state, ev.Choose("yes", at=at))
    twice = dialogue.advance(once.state, ev.Choose("yes", at=at))
    assert len(once.records) == 1 and twice.rejected.reason is fx.Reason.STALE


def test_text_limits(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full"), ev.Choose("yes"))
    too_long = dialogue.advance(state.state, ev.Type("x" * 201))
    assert too_long.rejected.reason is fx.Reason.TOO_LONG and too_long.rejected.limit == 200
    empty = dialogue.advance(state.state, ev.Type("   "))
    assert empty.rejected.reason is fx.Reason.EMPTY_TEXT
    assert too_long.state == empty.state == state.state


def test_overview_counts_answers_per_requirement(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full"), ev.Choose("no"))
    overview = the(fx.ShowOverview, run(dialogue, state.state, ev.Overview()))
    assert len(overview.items) == 15
    assert (overview.items[0].answered, overview.items[0].total) == (2, 3)
    assert all(item.answered == 0 for item in overview.items[1:])


def test_review_marks_open_questions(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("unknown")).state
    review = the(fx.ShowReview, run(dialogue, state, ev.Review()))
    assert len(review.items) == 45
    assert review.items[0].complete and review.items[0].answer == Answer("unknown")
    assert not review.items[1].complete and review.items[1].answer is None


def test_submit_requires_every_answer(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full")).state
    step = dialogue.advance(state, ev.Submit())
    assert step.rejected.reason is fx.Reason.INCOMPLETE
    assert len(step.rejected.open_questions) == 44 and step.state == state


def test_submit_confirm_makes_check_read_only(dialogue: Dialogue) -> None:
    state = walk_all(dialogue)
    confirming = run(dialogue, state, ev.Submit())
    assert confirming.state.phase is Phase.CONFIRMING
    done = run(dialogue, confirming.state, ev.Confirm())
    assert done.state.submitted and the(fx.Submitted, done).progress.answered == 45
    for event in (ev.Choose("full"), ev.Back(), ev.Jump("K1"), ev.Type("x"), ev.Resume()):
        step = dialogue.advance(done.state, event)
        assert step.rejected.reason is fx.Reason.READ_ONLY and step.state == done.state
    assert the(fx.ShowReview, run(dialogue, done.state, ev.Review())).submitted


def test_cancel_submission(dialogue: Dialogue) -> None:
    state = run(dialogue, walk_all(dialogue), ev.Submit(), ev.Cancel()).state
    assert not state.submitted and state.phase is Phase.AT_END


def test_unknown_rating_counts_as_answered_for_submission(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    while state.phase is Phase.ASKING:
        kind = dialogue.question(state.position).kind.value
        value = {"rating": "unknown", "yes_no": "no", "measures": "none"}[kind]
        state = run(dialogue, state, ev.Choose(value)).state
    assert run(dialogue, state, ev.Submit(), ev.Confirm()).state.submitted


def test_reopen(dialogue: Dialogue) -> None:
    done = run(dialogue, walk_all(dialogue), ev.Submit(), ev.Confirm()).state
    reopened = run(dialogue, done, ev.Reopen())
    assert not reopened.state.submitted
    assert run(dialogue, reopened.state, ev.Back(), ev.Choose("none")).records
    not_submitted = dialogue.advance(reopened.state, ev.Reopen())
    assert not_submitted.rejected.reason is fx.Reason.NOT_SUBMITTED


def test_colleague_answer_is_shown_and_can_be_kept(dialogue: Dialogue) -> None:
    first = dialogue.positions[0]
    answers = {(first.requirement_id, first.question_key): Answer("partly")}
    step = run(dialogue, dialogue.initial(answers), ev.Resume())
    assert the(fx.Ask, step).position == dialogue.positions[1]  # first open question
    back = run(dialogue, step.state, ev.Back())
    assert the(fx.Ask, back).existing == Answer("partly")


def test_restore_with_unknown_position_starts_over(dialogue: Dialogue) -> None:
    state = dialogue.restore(Position("GONE1", "fulfilment"), Phase.ASKING, {}, False)
    assert state == dialogue.initial()


def test_show_repeats_the_current_step(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full"), ev.Choose("yes"))
    again = run(dialogue, state.state, ev.Show())
    assert the(fx.Ask, again).follow_up and again.state == state.state
    paused = run(dialogue, again.state, ev.Pause(), ev.Show())
    assert the(fx.Paused, paused).progress.answered == 1


def test_stale_navigation_button_is_rejected(dialogue: Dialogue) -> None:
    state = run(dialogue, dialogue.initial(), ev.Resume(), ev.Choose("full")).state
    step = dialogue.advance(state, ev.Skip(at=dialogue.positions[0]))
    assert step.rejected.reason is fx.Reason.STALE and step.state == state
