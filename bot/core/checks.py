"""One turn of a member's check: load, run the engine, store, all in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import storage
from bot.core import disagreements, handovers
from bot.core.rounds import previous_round, reworded, round_catalogue
from bot.render.presenter import Authorship, HandoverNote
from dialogues import effects as fx
from dialogues.engine import Dialogue, Step
from dialogues.events import Event
from dialogues.model import Answer, Key, Phase, State
from dialogues.model import Position as DialoguePosition


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


@dataclass(frozen=True)
class _Aftermath:
    changed: disagreements.Changed | None
    code: str | None
    queued: bool


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
        # Runs inside the transaction of every turn that stored answers (handovers settle).
        self.on_answered = on_answered
        # Requirements reworded between a round and the one before, by round id: fixed once
        # both rounds are stored, so computed once per process.
        self._reworded: dict[int, frozenset[str]] = {}

    async def handle(self, member: storage.Member, event: Event) -> Turn:
        """Apply an event and commit what it changed before anything is shown."""
        async with self.db.transaction():
            cycle = await self._cycle()
            check = await storage.check_for(self.db, member.institution_id, cycle.id)
            stored = await storage.current_answers(self.db, check.id)
            proposals = await storage.proposals_for(
                self.db, cycle.previous_id, member.institution_id
            )
            open_handovers = await storage.open_handovers(self.db, check.id, self.clock())
            passed = handovers.passed(open_handovers, member.id)
            state = await self._state(member, check, stored, proposals, cycle, passed)
            step = self.dialogue.advance(state, event)
            after = await self._after(member, check, step, cycle, stored, proposals)
            if after.code is not None or step.records or passed != step.state.passed:
                open_handovers = await storage.open_handovers(self.db, check.id, self.clock())
        notes = handovers.notes(open_handovers, member.id, self.clock())
        authors = {key: Authorship(a.author_name, a.answered_at) for key, a in stored.items()}
        offered = {key: Authorship(p.author_name, p.answered_at) for key, p in proposals.items()}
        for record in step.records:
            key = (record.position.requirement_id, record.position.question_key)
            authors[key] = Authorship(member.first_name, self.clock())
        return Turn(
            step,
            state.position,
            check,
            cycle,
            authors,
            notes,
            after.code,
            after.changed,
            after.queued,
            offered,
        )

    async def _after(
        self,
        member: storage.Member,
        check: storage.Check,
        step: Step,
        cycle: storage.Cycle,
        stored: dict[Key, storage.StoredAnswer],
        proposals: dict[Key, storage.Proposal],
    ) -> _Aftermath:
        """Store the step, then what follows from it: a reason asked, a link, a notice."""
        if step.rejected is None:  # a double tap must not drop the reason just asked for
            await storage.give_reason(self.db, member.id, None)  # any next step skips it
        saved = await self._store(member, check, step, cycle, proposals)
        changed = disagreements.changed(stored, saved, member.id)
        if changed is not None:
            await storage.ask_reason(self.db, member.id, changed.after.id, self.clock())
        code = await self._hand_over(member, check, step)
        queued = False
        if step.records and self.on_answered is not None:
            queued = await self.on_answered(self.db, check, step, member, self.clock())
        return _Aftermath(changed, code, queued)

    async def _hand_over(
        self, member: storage.Member, check: storage.Check, step: Step
    ) -> str | None:
        """Make the link of a requirement handed over, or end one taken back."""
        code = None
        for effect in step.effects:
            if isinstance(effect, fx.HandedOver):
                code = await handovers.hand_over(
                    self.db, check, effect.requirement_id, member, self.clock()
                )
            elif isinstance(effect, fx.TakenBack):
                await handovers.take_back(
                    self.db, check, effect.requirement_id, member, self.clock()
                )
        return code

    async def _cycle(self) -> storage.Cycle:
        cycle = await storage.current_cycle(self.db)
        if cycle is None:
            raise NoOpenRound()
        catalogue = self.dialogue.catalogue
        if (cycle.catalogue_id, cycle.catalogue_version) != (catalogue.id, catalogue.version):
            raise CatalogueMismatch(cycle, catalogue.id, catalogue.version)
        return cycle

    async def _state(
        self,
        member: storage.Member,
        check: storage.Check,
        stored: dict[Key, storage.StoredAnswer],
        proposals: dict[Key, storage.Proposal],
        cycle: storage.Cycle,
        passed: frozenset[str] = frozenset(),
    ) -> State:
        saved = await storage.load_position(self.db, member.id, check.id)
        answers = {key: Answer(a.value, a.text) for key, a in stored.items()}
        offered = {key: Answer(p.value, p.text) for key, p in proposals.items()}
        position = DialoguePosition(saved.requirement_id, saved.question_key) if saved else None
        phase = Phase(saved.phase) if saved else Phase.PAUSED
        submitted = check.status == "submitted"
        reworded = await self._reworded_since(cycle) if offered else frozenset()
        return self.dialogue.restore(position, phase, answers, submitted, offered, reworded, passed)

    async def _reworded_since(self, cycle: storage.Cycle) -> frozenset[str]:
        """Return the requirements whose wording changed since the round before."""
        if cycle.id not in self._reworded:
            previous = await previous_round(self.db, cycle)
            loaded = self.dialogue.catalogue
            self._reworded[cycle.id] = (
                reworded(round_catalogue(previous, loaded), round_catalogue(cycle, loaded))
                if previous is not None
                else frozenset()
            )
        return self._reworded[cycle.id]

    async def _store(
        self,
        member: storage.Member,
        check: storage.Check,
        step: Step,
        cycle: storage.Cycle,
        proposals: dict[Key, storage.Proposal],
    ) -> list[storage.StoredAnswer]:
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
            saved.append(await storage.record_answer(self.db, check.id, answer, now))
            if record.carried:  # confirmed from last round: keep the link, not recomputed
                key = (answer.requirement_id, answer.question_key)
                proposal = proposals.get(key)
                await storage.mark_carried(
                    self.db, check.id, key, proposal.answer_id if proposal else None
                )
        if any(isinstance(e, fx.Submitted) for e in step.effects):
            submitted = await storage.submit_check(self.db, check.id, member.id, now)
            if self.on_submitted is not None:
                await self.on_submitted(self.db, submitted, member, now)
        if any(isinstance(e, fx.Reopened) for e in step.effects):
            await storage.reopen_check(self.db, check.id, now)
        position = step.state.position
        await storage.save_position(
            self.db,
            member.id,
            check.id,
            storage.SavedPosition(
                position.requirement_id, position.question_key, step.state.phase.value
            ),
            now,
        )
        await storage.touch_member(self.db, member.id, now)
        return saved
