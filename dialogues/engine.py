"""The dialogue engine: `Dialogue(catalogue).advance(state, event) -> Step`. Pure, no I/O."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from dialogues import effects as fx
from dialogues import events as ev
from dialogues.catalogue import AnswerKind, Catalogue, Question
from dialogues.model import (
    PLANNED,
    YES,
    Answer,
    Key,
    Phase,
    Position,
    Progress,
    State,
)
from dialogues.options import is_yes_no_word, match_option, match_options, options_for

DEFAULT_MAX_TEXT = 2000
ALL_PHASES = frozenset(Phase)
ANSWERING = frozenset({Phase.ASKING, Phase.FOLLOW_UP})
PROPOSING = frozenset({Phase.PROPOSING})


@dataclass(frozen=True)
class Step:
    """The outcome of one event: the new state and what the shell must do."""

    state: State
    effects: tuple[fx.Effect, ...]

    @property
    def rejected(self) -> fx.Rejected | None:
        return next((e for e in self.effects if isinstance(e, fx.Rejected)), None)

    @property
    def records(self) -> tuple[fx.Record, ...]:
        return tuple(e for e in self.effects if isinstance(e, fx.Record))


# The options whose answer has a second part: a text the member must still write.
NEEDS_TEXT = {AnswerKind.YES_NO: frozenset({YES}), AnswerKind.MEASURES: frozenset({PLANNED})}


def needs_text(question: Question, value: str) -> bool:
    """Tell whether choosing this option asks for a text as well ("yes" needs its description)."""
    return value in NEEDS_TEXT.get(question.kind, frozenset())


def is_complete(question: Question, answer: Answer | None) -> bool:
    """Tell whether an answer fully answers its question, second part included."""
    if answer is None:
        return False
    return bool(answer.text) or not needs_text(question, answer.value)


def lacks_text(question: Question, answer: Answer | None) -> bool:
    """Tell whether an answer was begun but its text is missing (a "yes" left undescribed)."""
    return answer is not None and not is_complete(question, answer)


class Dialogue:
    """Walks a member through a catalogue's questions; one instance per catalogue."""

    def __init__(self, catalogue: Catalogue, max_text: int = DEFAULT_MAX_TEXT) -> None:
        self.catalogue = catalogue
        self.max_text = max_text
        self.positions = tuple(
            Position(r.id, q.key) for r in catalogue.requirements for q in catalogue.questions
        )
        self._index = {p: i for i, p in enumerate(self.positions)}
        self._requirements = frozenset(r.id for r in catalogue.requirements)
        self._questions = {p: catalogue.question(*_key(p)) for p in self.positions}
        # Which phases each event is allowed in; everything else is rejected as NOT_NOW.
        self._table: dict[type, tuple[frozenset[Phase], bool, Callable[[State, Any], Step]]] = {
            # event: (allowed phases, allowed when submitted, handler)
            ev.Resume: (ALL_PHASES, False, self._resume),
            ev.Show: (ALL_PHASES, False, self._show),
            ev.Choose: (ANSWERING, False, self._choose),
            ev.Type: (ANSWERING, False, self._type),
            ev.Keep: (ANSWERING, False, self._keep),
            ev.Back: (ANSWERING | PROPOSING | {Phase.AT_END}, False, self._back),
            ev.Skip: (ANSWERING | PROPOSING, False, self._skip),
            ev.Carry: (PROPOSING, False, self._carry),
            ev.Change: (PROPOSING, False, self._change),
            ev.CarryMeasure: (ANSWERING, False, self._carry_measure),
            ev.Pause: (ALL_PHASES, True, self._pause),
            ev.Jump: (ALL_PHASES, False, self._jump),
            ev.Hint: (ANSWERING, False, self._hint),
            ev.Overview: (ALL_PHASES, True, self._overview),
            ev.Review: (ALL_PHASES, True, self._review),
            ev.Submit: (ALL_PHASES - {Phase.CONFIRMING}, False, self._submit),
            ev.Confirm: (frozenset({Phase.CONFIRMING}), False, self._confirm),
            ev.Cancel: (frozenset({Phase.CONFIRMING}), False, self._cancel),
            ev.Reopen: (ALL_PHASES, True, self._reopen),
            ev.HandOver: (ALL_PHASES - {Phase.CONFIRMING}, False, self._hand_over),
            ev.TakeBack: (ALL_PHASES - {Phase.CONFIRMING}, False, self._take_back),
        }

    # -- public ---------------------------------------------------------------------------

    def initial(
        self,
        answers: dict[Key, Answer] | None = None,
        submitted: bool = False,
        proposals: dict[Key, Answer] | None = None,
        reworded: frozenset[str] = frozenset(),
    ) -> State:
        """Return a paused state at the first question."""
        return State(
            self.positions[0], Phase.PAUSED, answers or {}, submitted, proposals or {}, reworded
        )

    def restore(
        self,
        position: Position | None,
        phase: Phase,
        answers: dict[Key, Answer],
        submitted: bool,
        proposals: dict[Key, Answer] | None = None,
        reworded: frozenset[str] = frozenset(),
        passed: frozenset[str] = frozenset(),
    ) -> State:
        """Rebuild a stored state; an unknown position (older catalogue) starts over, paused."""
        if position not in self._index:
            return replace(self.initial(answers, submitted, proposals, reworded), passed=passed)
        state = State(position, phase, answers, submitted, proposals or {}, reworded, passed)
        if phase is Phase.PROPOSING and not self._proposable(state, position):
            phase = Phase.ASKING  # a colleague confirmed or answered it meanwhile
        if phase is Phase.CONFIRMING and submitted:
            phase = Phase.AT_END
        if phase is Phase.FOLLOW_UP:
            # A colleague may have answered meanwhile: ask for a text only where one is wanted.
            answer = answers.get(_key(position))
            if answer is None or not needs_text(self._questions[position], answer.value):
                phase = Phase.ASKING
        return replace(state, phase=phase)

    def advance(self, state: State, event: ev.Event) -> Step:
        """Apply one event to a state; a rejected event leaves the state unchanged."""
        phases, when_submitted, handler = self._table[type(event)]
        if state.submitted and not when_submitted:
            return _reject(state, fx.Reason.READ_ONLY, event)
        if state.phase not in phases:
            reason = fx.Reason.STALE if _at(event) is not None else fx.Reason.NOT_NOW
            return _reject(state, reason, event)
        at = _at(event)
        if at is not None and at != state.position:
            return _reject(state, fx.Reason.STALE, event)
        return handler(state, event)

    def question(self, position: Position) -> Question:
        return self._questions[position]

    def progress(self, state: State) -> Progress:
        """Count complete answers and locate the position."""
        index = self._index[state.position]
        per = len(self.catalogue.questions)
        return Progress(
            requirement_number=index // per + 1,
            requirement_count=len(self.catalogue.requirements),
            question_number=index % per + 1,
            question_count=per,
            answered=sum(1 for p in self.positions if self._complete(state, p)),
            total=len(self.positions),
        )

    def open_questions(self, state: State) -> tuple[Key, ...]:
        return tuple(_key(p) for p in self.positions if not self._complete(state, p))

    # -- handlers ---------------------------------------------------------------------------

    def _resume(self, state: State, event: ev.Resume) -> Step:
        first_open = next((p for p in self.positions if self._due(state, p)), None)
        if first_open is None:
            return self._end(state)
        return self._visit(state, first_open)

    def _show(self, state: State, event: ev.Show) -> Step:
        shown: dict[Phase, Callable[[State], Step]] = {
            Phase.PAUSED: lambda s: Step(s, (fx.Paused(self.progress(s)),)),
            Phase.AT_END: self._end,
            Phase.CONFIRMING: lambda s: Step(s, (fx.ConfirmSubmission(self.progress(s)),)),
            Phase.PROPOSING: self._propose,
        }
        return shown.get(state.phase, self._ask)(state)

    def _choose(self, state: State, event: ev.Choose) -> Step:
        question = self.question(state.position)
        if event.value not in options_for(self.catalogue, question):
            return _reject(state, fx.Reason.UNKNOWN_OPTION, event)
        existing = state.answers.get(_key(state.position))
        if state.phase is Phase.FOLLOW_UP and existing and existing.value == event.value:
            return _reject(state, fx.Reason.STALE, event)  # a second tap on the chosen option
        if needs_text(question, event.value):
            return self._chose_needing_text(state, event.value)
        return self._record_and_next(state, Answer(event.value))

    def _chose_needing_text(self, state: State, value: str) -> Step:
        existing = state.answers.get(_key(state.position))
        asking = replace(state, phase=Phase.FOLLOW_UP)
        if existing is not None and existing.value == value:
            return self._ask(asking)  # keep the stored description on offer
        recorded = _with_answer(asking, state.position, Answer(value))
        step = self._ask(recorded)
        return Step(step.state, (fx.Record(state.position, Answer(value)), *step.effects))

    def _type(self, state: State, event: ev.Type) -> Step:
        text = event.text.strip()
        question = self.question(state.position)
        if question.kind is AnswerKind.MEASURES or state.phase is Phase.FOLLOW_UP:
            return self._type_text(state, event, question, text)
        values = match_options(self.catalogue, question, text)
        if len(values) > 1:
            return _reject(state, fx.Reason.AMBIGUOUS, event, options=values)
        if not values:
            return _reject(state, fx.Reason.UNKNOWN_OPTION, event)
        return self._choose(state, ev.Choose(values[0]))

    def _type_text(self, state: State, event: ev.Type, question: Question, text: str) -> Step:
        """Take a description or measures; a bare "no" answers the question instead."""
        # Digits name options only on buttons' numbers, never inside a description.
        value = match_option(self.catalogue, question, text) if _has_letters(text) else None
        if value is not None and not needs_text(question, value):
            return self._record_and_next(state, Answer(value))
        refused = _refusal(text, self.max_text)
        if refused is fx.Reason.TOO_LONG:
            return _reject(state, refused, event, limit=self.max_text)
        if refused is not None:
            return _reject(state, refused, event)
        value = next(iter(NEEDS_TEXT[question.kind]))
        return self._record_and_next(state, Answer(value, text))

    def _keep(self, state: State, event: ev.Keep) -> Step:
        existing = state.answers.get(_key(state.position))
        proposal = state.proposals.get(_key(state.position))
        if existing is None and proposal is not None and state.phase is Phase.ASKING:
            return self._record_and_next(state, proposal, carried=True)  # last round's answer
        if lacks_text(self.question(state.position), existing) and state.phase is Phase.ASKING:
            return self._ask(replace(state, phase=Phase.FOLLOW_UP))  # ask for what is missing
        if existing is None or not self._complete(state, state.position):
            return _reject(state, fx.Reason.NOTHING_STORED, event)
        return self._next(state)

    def _back(self, state: State, event: ev.Back) -> Step:
        if state.phase is Phase.FOLLOW_UP:
            return self._ask(replace(state, phase=Phase.ASKING))
        if state.phase is Phase.AT_END:
            return self._ask(replace(state, position=self.positions[-1], phase=Phase.ASKING))
        index = self._index[state.position]
        if index == 0:
            return _reject(state, fx.Reason.AT_START, event)
        return self._ask(replace(state, position=self.positions[index - 1]))

    def _skip(self, state: State, event: ev.Skip) -> Step:
        return self._next(state)

    def _carry(self, state: State, event: ev.Carry) -> Step:
        """Record last round's answers to every question of the requirement, then go on."""
        records: list[fx.Effect] = []
        for question in self.catalogue.questions:
            position = Position(state.position.requirement_id, question.key)
            answer = state.proposals[_key(position)]
            state = _with_answer(state, position, answer)
            records.append(fx.Record(position, answer, carried=True))
        step = self._next(replace(state, phase=Phase.ASKING))
        return Step(step.state, (*records, *step.effects))

    def _carry_measure(self, state: State, event: ev.CarryMeasure) -> Step:
        """Pass one of last round's measures on to be carried, and ask question 3 again."""
        if state.position.question_key != self.catalogue.questions[-1].key:
            return _reject(state, fx.Reason.NOT_NOW, event)
        step = self._ask(state)
        return Step(
            step.state, (fx.MeasureCarried(state.position, event.measure_id), *step.effects)
        )

    def _change(self, state: State, event: ev.Change) -> Step:
        return self._ask(replace(state, phase=Phase.ASKING))

    def _pause(self, state: State, event: ev.Pause) -> Step:
        paused = replace(state, phase=Phase.PAUSED)
        return Step(paused, (fx.Paused(self.progress(paused)),))

    def _jump(self, state: State, event: ev.Jump) -> Step:
        target = Position(event.requirement_id, self.catalogue.questions[0].key)
        if target not in self._index:
            return _reject(state, fx.Reason.UNKNOWN_REQUIREMENT, event)
        return self._visit(state, target)

    def _hint(self, state: State, event: ev.Hint) -> Step:
        return self._ask(state, with_hint=True)

    def _overview(self, state: State, event: ev.Overview) -> Step:
        per = len(self.catalogue.questions)
        items = tuple(
            fx.RequirementStatus(
                r.id,
                sum(
                    1
                    for q in self.catalogue.questions
                    if self._complete(state, Position(r.id, q.key))
                ),
                per,
                r.id in state.passed,
            )
            for r in self.catalogue.requirements
        )
        return Step(state, (fx.ShowOverview(items, self.progress(state)),))

    def _review(self, state: State, event: ev.Review) -> Step:
        items = tuple(
            fx.ReviewItem(p, state.answers.get(_key(p)), self._complete(state, p))
            for p in self.positions
        )
        return Step(state, (fx.ShowReview(items, self.progress(state), state.submitted),))

    def _submit(self, state: State, event: ev.Submit) -> Step:
        open_questions = self.open_questions(state)
        if open_questions:
            return _reject(state, fx.Reason.INCOMPLETE, event, open_questions=open_questions)
        confirming = replace(state, phase=Phase.CONFIRMING)
        return Step(confirming, (fx.ConfirmSubmission(self.progress(confirming)),))

    def _confirm(self, state: State, event: ev.Confirm) -> Step:
        open_questions = self.open_questions(state)
        if open_questions:  # a colleague's change can have reopened a question meanwhile
            return _reject(state, fx.Reason.INCOMPLETE, event, open_questions=open_questions)
        done = replace(state, phase=Phase.AT_END, submitted=True)
        return Step(done, (fx.Submitted(self.progress(done)),))

    def _cancel(self, state: State, event: ev.Cancel) -> Step:
        return self._end(state)

    def _reopen(self, state: State, event: ev.Reopen) -> Step:
        if not state.submitted:
            return _reject(state, fx.Reason.NOT_SUBMITTED, event)
        reopened = replace(state, submitted=False, phase=Phase.AT_END)
        return Step(reopened, (fx.Reopened(self.progress(reopened)),))

    # -- helpers ----------------------------------------------------------------------------

    def _record_and_next(self, state: State, answer: Answer, carried: bool = False) -> Step:
        if state.answers.get(_key(state.position)) == answer:
            return self._next(state)  # the same answer again makes no new revision
        recorded = _with_answer(state, state.position, answer)
        step = self._next(recorded)
        return Step(step.state, (fx.Record(state.position, answer, carried), *step.effects))

    def _next(self, state: State) -> Step:
        """Go on to the next open question after this one, wrapping; the end when none is open."""
        index = self._index[state.position]
        after = self.positions[index + 1 :] + self.positions[:index]
        following = next((p for p in after if self._due(state, p)), None)
        if following is None:
            return self._end(state)
        return self._visit(state, following)

    def _visit(self, state: State, position: Position) -> Step:
        """Show a question; where its answer lacks the text, ask for exactly that."""
        if self._proposable(state, position):
            return self._propose(replace(state, position=position, phase=Phase.PROPOSING))
        lacking = lacks_text(self._questions[position], state.answers.get(_key(position)))
        phase = Phase.FOLLOW_UP if lacking else Phase.ASKING
        return self._ask(replace(state, position=position, phase=phase))

    def _end(self, state: State) -> Step:
        at_end = replace(state, position=self.positions[-1], phase=Phase.AT_END)
        open_questions = self.open_questions(at_end)
        handed = tuple(dict.fromkeys(r for r, _ in open_questions if r in state.passed))
        return Step(at_end, (fx.EndReached(open_questions, self.progress(at_end), handed),))

    def _ask(self, state: State, with_hint: bool = False) -> Step:
        question = self.question(state.position)
        key = _key(state.position)
        existing = state.answers.get(key)
        proposal = state.proposals.get(key) if existing is None else None
        ask = fx.Ask(
            position=state.position,
            options=options_for(self.catalogue, question),
            progress=self.progress(state),
            existing=existing or proposal,
            follow_up=state.phase is Phase.FOLLOW_UP,
            with_hint=with_hint,
            proposed=proposal is not None,
        )
        return Step(state, (ask,))

    def _hand_over(self, state: State, event: ev.HandOver) -> Step:
        """Pass over the requirement from now on; move on if the member stands in it."""
        if event.requirement_id not in self._requirements:
            return _reject(state, fx.Reason.UNKNOWN_REQUIREMENT, event)
        handed = replace(state, passed=state.passed | {event.requirement_id})
        standing_in_it = state.position.requirement_id == event.requirement_id
        if standing_in_it and state.phase in ANSWERING:
            step = self._next(handed)
        else:
            step = self._show(handed, ev.Show())
        return Step(step.state, (fx.HandedOver(event.requirement_id), *step.effects))

    def _take_back(self, state: State, event: ev.TakeBack) -> Step:
        """Answer a handed-over requirement oneself: it is due again, and shown at once."""
        if event.requirement_id not in self._requirements:
            return _reject(state, fx.Reason.UNKNOWN_REQUIREMENT, event)
        taken = replace(state, passed=state.passed - {event.requirement_id})
        step = self._jump(taken, ev.Jump(event.requirement_id))
        return Step(step.state, (fx.TakenBack(event.requirement_id), *step.effects))

    def _due(self, state: State, position: Position) -> bool:
        """Tell whether forward moves stop here: open, and not handed to a colleague."""
        return position.requirement_id not in state.passed and not self._complete(state, position)

    def _propose(self, state: State) -> Step:
        requirement_id = state.position.requirement_id
        proposals = tuple(
            (key, state.proposals[key]) for key in self._requirement_keys(requirement_id)
        )
        propose = fx.Propose(
            state.position, proposals, self.progress(state), requirement_id in state.reworded
        )
        return Step(state, (propose,))

    def _proposable(self, state: State, position: Position) -> bool:
        """Tell whether to offer last round's answers here: all there, none answered yet."""
        if position.question_key != self.catalogue.questions[0].key:
            return False
        keys = self._requirement_keys(position.requirement_id)
        return all(k in state.proposals for k in keys) and not any(k in state.answers for k in keys)

    def _requirement_keys(self, requirement_id: str) -> tuple[Key, ...]:
        return tuple((requirement_id, q.key) for q in self.catalogue.questions)

    def _complete(self, state: State, position: Position) -> bool:
        return is_complete(self._questions[position], state.answers.get(_key(position)))


def _key(position: Position) -> Key:
    return (position.requirement_id, position.question_key)


def _at(event: ev.Event) -> Position | None:
    return getattr(event, "at", None)


def _with_answer(state: State, position: Position, answer: Answer) -> State:
    return replace(state, answers={**state.answers, _key(position): answer})


def _refusal(text: str, max_text: int) -> fx.Reason | None:
    """Tell why a reply is no description: empty, only yes/no, digits or punctuation, too long."""
    if not text:
        return fx.Reason.EMPTY_TEXT
    if is_yes_no_word(text):
        return fx.Reason.YES_NO_WORD
    marks = [ch for ch in text if not ch.isspace() and not _is_punctuation(ch)]
    if not marks:
        return fx.Reason.NO_WORDS
    if all(ch.isdigit() for ch in marks):
        return fx.Reason.DIGITS_ONLY
    if len(text.encode("utf-16-le")) // 2 > max_text:  # as Telegram counts length
        return fx.Reason.TOO_LONG
    return None


def _is_punctuation(ch: str) -> bool:
    """Punctuation and signs such as "+" or "€"; emoji (a symbol "So") can say something."""
    category = unicodedata.category(ch)
    return category.startswith("P") or category in {"Sm", "Sc", "Sk"}


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _reject(state: State, reason: fx.Reason, event: object, **details: Any) -> Step:
    return Step(state, (fx.Rejected(reason, event, **details),))
