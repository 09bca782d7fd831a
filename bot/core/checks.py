"""One turn of a member's check: load, run the engine, store, all in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import storage
from bot.core import carryover, disagreements, handovers
from bot.core.measures import record_reply
from bot.core.rounds import previous_round, reworded, round_catalogue
from bot.render.presenter import Authorship, HandoverNote, PastMeasure
from dialogues import effects as fx
from dialogues.engine import Dialogue, Step
from dialogues.events import Event
from dialogues.model import PLANNED, Answer, Key, Phase, State
from dialogues.model import Position as DialoguePosition
from storage.measures import Measure


class NoOpenRound(Exception):
    """No assessment round is open, so there is no check to answer."""


class CatalogueMismatch(Exception):
    """The open round was started with another catalogue than the one loaded."""

    def __init__(self, cycle: storage.Cycle, catalogue_id: str, catalogue_version: str) -> None:
        super().__init__(
            f"round {cycle.name!r} uses catalogue {cycle.catalogue_id} {cycle.catalogue_version}, "
            f"but {catalogue_id} {catalogue_version} is loaded; configure the round's catalogue "
            "or open a new round"
        )


@dataclass(frozen=True)
class Turn:
    """The outcome of one event for one member, after it was stored."""

    step: Step
    before: DialoguePosition  # where the member stood when the event arrived
    check: storage.Check
    cycle: storage.Cycle
    authors: dict[Key, Authorship]
    handovers: dict[str, HandoverNote] = field(default_factory=dict)  # the member's open ones
    handover_code: str | None = None  # the link code of a requirement just handed over
    changed: disagreements.Changed | None = None  # a colleague's answer this turn replaced
    queued: bool = False  # a message to someone else waits in the outbox
    # Who gave last round's answers on offer, and when (carry-forward).
    proposal_authors: dict[Key, Authorship] = field(default_factory=dict)
    # The member's message with buttons when the event arrived (it shows the question answered).
    active: storage.ActiveMessage | None = None
    measure_batch: int | None = None  # the measures this turn's reply added, to plan them
    # Last round's measures by requirement, with status and whether carried (issue 16 §4).
    past_measures: dict[str, tuple[PastMeasure, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Loaded:
    """What a turn reads before the engine runs."""

    cycle: storage.Cycle
    check: storage.Check
    stored: dict[Key, storage.StoredAnswer]
    proposals: dict[Key, storage.Proposal]
    state: State
    active: storage.ActiveMessage | None
    past: tuple[Measure, ...]  # the institution's measures of the round before


@dataclass(frozen=True)
class Aftermath:
    """What follows from a stored step: a reason asked, a link made, a notice queued."""

    changed: disagreements.Changed | None
    code: str | None
    queued: bool
    handovers: tuple[storage.Handover, ...]  # the check's open handovers after the step
    measure_batch: int | None  # the measures this step's reply added (issue 16)
    past: dict[str, tuple[PastMeasure, ...]]  # last round's measures, after any carry


def _alone(step: Step) -> bool:
    """Tell whether a step is stored without submitting or reopening the check."""
    return not any(isinstance(e, fx.Submitted | fx.Reopened) for e in step.effects)


async def _past_shown(
    db: storage.Database, check: storage.Check, step: Step, past: tuple[Measure, ...]
) -> dict[str, tuple[PastMeasure, ...]]:
    """Describe last round's measures, only of the requirements this step shows."""
    shown = {e.position.requirement_id for e in step.effects if isinstance(e, fx.Ask | fx.Propose)}
    relevant = [m for m in past if m.requirement_id in shown]
    return await carryover.notes(db, check, relevant) if relevant else {}


def utc_now() -> datetime:
    return datetime.now(UTC)


OnSubmitted = Callable[[storage.Database, storage.Check, storage.Member, datetime], Awaitable[None]]
OnAnswered = Callable[
    [storage.Database, storage.Check, Step, storage.Member, datetime], Awaitable[bool]
]


class Checks:
    """Run members' events against their institution's check in the current round."""

    def __init__(
        self,
        db: storage.Database,
        dialogue: Dialogue,
        clock: Callable[[], datetime] = utc_now,
        on_submitted: OnSubmitted | None = None,
        on_answered: OnAnswered | None = None,
    ) -> None:
        self.db = db
        self.dialogue = dialogue
        self.clock = clock
        # Runs inside the submission's transaction, so that the digest is queued atomically.
        self.on_submitted = on_submitted
        # Runs inside the job of every turn that stored answers (handovers settle); it may
        # only await storage calls, as everything in a database job.
        self.on_answered = on_answered
        # Requirements reworded between a round and the one before, by round id: fixed once
        # both rounds are stored, so computed once per process.
        self._reworded: dict[int, frozenset[str]] = {}

    async def handle(self, member: storage.Member, event: Event) -> Turn:
        """Apply an event and commit what it changed before anything is shown.

        One round trip to the database thread: a single job reads what the engine needs, runs
        the pure engine step, stores it and commits, so the write lock is held only while the
        thread works. A submission or reopening finishes on the event loop instead, where the
        digest is queued in the same transaction.
        """
        async with self.db.transaction(lazy=True):
            loaded, step, after = await self.db.job(
                lambda db: self._turn(db, member, event), commit=lambda done: _alone(done[1])
            )
            if not _alone(step):
                await self._submit_or_reopen(member, loaded.check, step)
        now = self.clock()
        authors = {
            key: Authorship(a.author_name, a.answered_at) for key, a in loaded.stored.items()
        }
        offered = {k: Authorship(p.author_name, p.answered_at) for k, p in loaded.proposals.items()}
        for record in step.records:
            key = (record.position.requirement_id, record.position.question_key)
            authors[key] = Authorship(member.first_name, now)
        return Turn(
            step,
            loaded.state.position,
            loaded.check,
            loaded.cycle,
            authors,
            handovers.notes(list(after.handovers), member.id, now),
            after.code,
            after.changed,
            after.queued,
            offered,
            loaded.active,
            after.measure_batch,
            after.past,
        )

    async def _turn(
        self, db: storage.Database, member: storage.Member, event: Event
    ) -> tuple[Loaded, Step, Aftermath]:
        """Read, advance and store one event; runs in the database thread (storage/thread.py)."""
        loaded, open_handovers = await self._load(db, member)
        step = self.dialogue.advance(loaded.state, event)
        after = await self._after(db, member, loaded, step, open_handovers)
        return loaded, step, after

    async def _load(
        self, db: storage.Database, member: storage.Member
    ) -> tuple[Loaded, list[storage.Handover]]:
        """Read what a turn needs; runs in the database thread (storage/thread.py)."""
        cycle = await self._cycle(db)
        check = await storage.check_for(db, member.institution_id, cycle.id)
        stored = await storage.current_answers(db, check.id)
        proposals = await storage.proposals_for(db, cycle.previous_id, member.institution_id)
        open_handovers = await storage.open_handovers(db, check.id, self.clock())
        passed = handovers.passed(open_handovers, member.id)
        state = await self._state(db, member, check, stored, proposals, cycle, passed)
        active = await storage.load_active_message(db, member.id)
        past = await carryover.past_measures(db, member.institution_id, cycle.previous_id)
        return Loaded(cycle, check, stored, proposals, state, active, past), open_handovers

    async def _after(
        self,
        db: storage.Database,
        member: storage.Member,
        loaded: Loaded,
        step: Step,
        open_handovers: list[storage.Handover],
    ) -> Aftermath:
        """Store the step, then what follows from it: a reason asked, a link, a notice."""
        check, now = loaded.check, self.clock()
        if step.rejected is None:  # a double tap must not drop the reason just asked for
            await storage.give_reason(db, member.id, None)  # any next step skips it
        saved = await self._store(db, member, check, step, loaded.cycle, loaded.proposals)
        batch = await self._store_measures(db, member, check, step, loaded.past)
        changed = disagreements.changed(loaded.stored, saved, member.id)
        if changed is not None:
            await storage.ask_reason(db, member.id, changed.after.id, now)
        code = await self._hand_over(db, member, check, step)
        queued = False
        if step.records and self.on_answered is not None:
            queued = await self.on_answered(db, check, step, member, now)
        if code is not None or step.records or loaded.state.passed != step.state.passed:
            open_handovers = await storage.open_handovers(db, check.id, now)
        past = await _past_shown(db, check, step, loaded.past)
        return Aftermath(changed, code, queued, tuple(open_handovers), batch, past)

    async def _store_measures(
        self,
        db: storage.Database,
        member: storage.Member,
        check: storage.Check,
        step: Step,
        past: tuple[Measure, ...],
    ) -> int | None:
        """Turn the measures of question 3 into the improvement plan, in the same transaction.

        Returns the batch to plan (due month, owner) for a typed reply. Confirmed from last
        round ("Stimmt noch so"), the requirement's open measures are carried with their
        owner, month and status, nothing is asked again, and the done ones stay with last
        round as done.
        """
        measures_key = self.dialogue.catalogue.questions[-1].key
        batch = None
        for effect in step.effects:
            if isinstance(effect, fx.MeasureCarried):  # one tap before question 3
                rid = effect.position.requirement_id
                await carryover.carry_one(
                    db, member, check, past, rid, effect.measure_id, self.clock()
                )
        for record in step.records:
            if record.position.question_key != measures_key:
                continue
            requirement_id = record.position.requirement_id
            if record.carried:
                await carryover.carry_open(db, member, check, past, requirement_id, self.clock())
                continue
            text = record.answer.text if record.answer.value == PLANNED else None
            batch = await record_reply(db, member, check, requirement_id, text, self.clock())
        return batch

    async def _hand_over(
        self, db: storage.Database, member: storage.Member, check: storage.Check, step: Step
    ) -> str | None:
        """Make the link of a requirement handed over, or end one taken back."""
        code = None
        for effect in step.effects:
            if isinstance(effect, fx.HandedOver):
                code = await handovers.hand_over(
                    db, check, effect.requirement_id, member, self.clock()
                )
            elif isinstance(effect, fx.TakenBack):
                await handovers.take_back(db, check, effect.requirement_id, member, self.clock())
        return code

    async def _cycle(self, db: storage.Database) -> storage.Cycle:
        cycle = await storage.current_cycle(db)
        if cycle is None:
            raise NoOpenRound()
        catalogue = self.dialogue.catalogue
        if (cycle.catalogue_id, cycle.catalogue_version) != (catalogue.id, catalogue.version):
            raise CatalogueMismatch(cycle, catalogue.id, catalogue.version)
        return cycle

    async def _state(
        self,
        db: storage.Database,
        member: storage.Member,
        check: storage.Check,
        stored: dict[Key, storage.StoredAnswer],
        proposals: dict[Key, storage.Proposal],
        cycle: storage.Cycle,
        passed: frozenset[str],
    ) -> State:
        saved = await storage.load_position(db, member.id, check.id)
        answers = {key: Answer(a.value, a.text) for key, a in stored.items()}
        offered = {key: Answer(p.value, p.text) for key, p in proposals.items()}
        position = DialoguePosition(saved.requirement_id, saved.question_key) if saved else None
        phase = Phase(saved.phase) if saved else Phase.PAUSED
        submitted = check.status == "submitted"
        reworded = await self._reworded_since(db, cycle) if offered else frozenset()
        return self.dialogue.restore(position, phase, answers, submitted, offered, reworded, passed)

    async def _reworded_since(self, db: storage.Database, cycle: storage.Cycle) -> frozenset[str]:
        """Return the requirements whose wording changed since the round before."""
        if cycle.id not in self._reworded:
            previous = await previous_round(db, cycle)
            loaded = self.dialogue.catalogue
            self._reworded[cycle.id] = (
                reworded(round_catalogue(previous, loaded), round_catalogue(cycle, loaded))
                if previous is not None
                else frozenset()
            )
        return self._reworded[cycle.id]

    async def _store(
        self,
        db: storage.Database,
        member: storage.Member,
        check: storage.Check,
        step: Step,
        cycle: storage.Cycle,
        proposals: dict[Key, storage.Proposal],
    ) -> list[storage.StoredAnswer]:
        """Store the step's answers and the member's place; runs in the database thread."""
        now = self.clock()
        saved = []
        for record in step.records:
            answer = storage.NewAnswer(
                record.position.requirement_id,
                record.position.question_key,
                record.answer.value,
                record.answer.text,
                member.id,
                cycle.catalogue_id,
                cycle.catalogue_version,
            )
            saved.append(await storage.record_answer(db, check.id, answer, now))
            if record.carried:  # confirmed from last round: keep the link, not recomputed
                key = (answer.requirement_id, answer.question_key)
                proposal = proposals.get(key)
                await storage.mark_carried(
                    db, check.id, key, proposal.answer_id if proposal else None
                )
        position = step.state.position
        await storage.save_position(
            db,
            member.id,
            check.id,
            storage.SavedPosition(
                position.requirement_id, position.question_key, step.state.phase.value
            ),
            now,
        )
        await storage.touch_member(db, member.id, now)
        return saved

    async def _submit_or_reopen(
        self, member: storage.Member, check: storage.Check, step: Step
    ) -> None:
        """Submit or reopen the check in the turn's transaction, with the digest's hook."""
        now = self.clock()
        if any(isinstance(e, fx.Submitted) for e in step.effects):
            submitted = await storage.submit_check(self.db, check.id, member.id, now)
            if self.on_submitted is not None:
                await self.on_submitted(self.db, submitted, member, now)
        if any(isinstance(e, fx.Reopened) for e in step.effects):
            await storage.reopen_check(self.db, check.id, now)
