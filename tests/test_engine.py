"""The dialogue engine as plain synchronous sequences: state = advance(state, event)."""

from __future__ import annotations

import pytest

from bot.catalogue import load_catalogue
from dialogues import effects as fx
from dialogues import events as ev
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


def test_a_position_reads_back_what_it_wrote() -> None:
    """Protects the transcript of an answered question: the message with buttons stores the
    position it asks as text, and the answer must find it again."""
    from dialogues.model import Position

    at = Position("K1", "fulfilment")
    assert at.key == "K1.fulfilment"
    assert Position.parse(at.key) == at
    assert Position.parse("K1") is None and Position.parse(".x") is None


# -- issue 13: forward moves, incomplete answers, typed input ----------------------------------


def key(position: Position) -> tuple[str, str]:
    return (position.requirement_id, position.question_key)


def test_an_answer_goes_on_to_the_next_open_question_wrapping(dialogue: Dialogue) -> None:
    """Protects §2: answered questions after the current one are passed over; past the last
    question the walk wraps to the first open one; with none open it ends."""
    positions = dialogue.positions
    answers = {key(p): Answer("unknown") for p in positions[:3] + positions[4:6]}
    answers = {
        k: (Answer("no") if k[1] == "potential" else Answer("none") if k[1] == "measures" else v)
        for k, v in answers.items()
    }
    state = State(positions[3], Phase.ASKING, answers)
    step = run(dialogue, state, ev.Choose("full", at=positions[3]))
    assert step.state.position == positions[6]  # 4 and 5 were answered: passed over
    last = State(positions[-1], Phase.ASKING, step.state.answers)
    step = run(dialogue, last, ev.Choose("none", at=positions[-1]))
    assert step.state.position == positions[6]  # wrapped round to the first open one


def test_skipping_the_only_open_question_reaches_the_end(dialogue: Dialogue) -> None:
    """Protects §2: a skip never shows the skipped question again at once; the end screen
    names it instead."""
    answers = {
        key(p): Answer("unknown")
        for p in dialogue.positions
        if dialogue.question(p).kind.value == "rating"
    }
    for p in dialogue.positions:
        kind = dialogue.question(p).kind.value
        if kind != "rating":
            answers[key(p)] = Answer("no" if kind == "yes_no" else "none")
    only = dialogue.positions[10]
    del answers[key(only)]
    step = run(dialogue, State(only, Phase.ASKING, answers), ev.Skip(at=only))
    assert step.state.phase is Phase.AT_END
    assert isinstance(step.effects[-1], fx.EndReached)
    assert step.effects[-1].open_questions == (key(only),)


def test_resume_and_keep_ask_for_a_missing_description(dialogue: Dialogue) -> None:
    """Protects §1: a "yes" without its text is open; /weiter asks for the text, and "keep" on
    the yes/no screen (an old keyboard) asks for it too instead of moving on."""
    z1 = Position("Z1", "potential")
    state = dialogue.initial({key(z1): Answer("yes")})
    state = State(
        state.position, Phase.PAUSED, {**state.answers, ("Z1", "fulfilment"): Answer("full")}
    )
    step = run(dialogue, state, ev.Resume())
    assert step.state.position == z1 and step.state.phase is Phase.FOLLOW_UP
    ask = step.effects[-1]
    assert isinstance(ask, fx.Ask) and ask.follow_up
    asking = State(z1, Phase.ASKING, step.state.answers)
    kept = run(dialogue, asking, ev.Keep(at=z1))
    assert kept.state.position == z1 and kept.state.phase is Phase.FOLLOW_UP
    assert dialogue.advance(kept.state, ev.Keep(at=z1)).rejected is not None
    changed = run(dialogue, kept.state, ev.Choose("no", at=z1))  # the "Nein" button there
    assert changed.state.answers[key(z1)] == Answer("no")


def test_restore_asks_no_text_where_a_colleague_answered_no(dialogue: Dialogue) -> None:
    """Protects §1: a follow-up stored for a member whose colleague meanwhile answered "no" is
    restored as the question, not as a description asked for a "no"."""
    z1 = Position("Z1", "potential")
    state = dialogue.restore(z1, Phase.FOLLOW_UP, {key(z1): Answer("no")}, False)
    assert state.phase is Phase.ASKING


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("teilweise", "partly"),
        ("Überwiegend", "mostly"),
        ("voll", "full"),
        ("weiß nicht", "unknown"),
        ("Weiss nicht", "unknown"),
        ("nicht erfüllt", "not"),
        ("3", "partly"),
    ],
)
def test_typed_option_words_match_their_option(dialogue: Dialogue, typed: str, value: str) -> None:
    """Protects §3: options typed the way people type them."""
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    step = run(dialogue, state, ev.Type(typed))
    assert step.records[0].answer == Answer(value)


def test_an_ambiguous_word_is_asked_back_with_both_options(dialogue: Dialogue) -> None:
    """Protects §3: "nicht" may mean "nicht erfüllt" or "kann ich nicht beurteilen"."""
    state = run(dialogue, dialogue.initial(), ev.Resume()).state
    step = dialogue.advance(state, ev.Type("nicht"))
    assert step.rejected is not None and step.rejected.reason is fx.Reason.AMBIGUOUS
    assert step.rejected.options == ("not", "unknown")
    assert step.state == state


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("Ja", fx.Reason.YES_NO_WORD),
        ("ja.", fx.Reason.YES_NO_WORD),
        ("ok", fx.Reason.YES_NO_WORD),
        ("j", fx.Reason.YES_NO_WORD),
        ("yes", fx.Reason.YES_NO_WORD),
        ("99", fx.Reason.DIGITS_ONLY),
        ("...", fx.Reason.NO_WORDS),
        ("   ", fx.Reason.EMPTY_TEXT),
    ],
)
def test_free_text_that_is_no_description_is_refused(
    dialogue: Dialogue,
    typed: str,
    reason: fx.Reason,
) -> None:
    """Protects §3: at the measures, such a reply stores nothing and says why."""
    measures = Position("Z1", "measures")
    state = State(measures, Phase.ASKING, {})
    step = dialogue.advance(state, ev.Type(typed))
    assert step.rejected is not None and step.rejected.reason is reason
    assert step.state == state
    assert run(dialogue, state, ev.Type("nein")).records[0].answer == Answer("none")
