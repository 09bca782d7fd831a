"""One turn of a member's check: load, run the engine, store, all in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import storage
from bot.core import disagreements, handovers
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

    async def handle(self, member: storage.Member, event: Event) -> Turn:
        """Apply an event and commit what it changed before anything is shown."""
        async with self.db.transaction():
            cycle = await self._cycle()
            check = await storage.check_for(self.db, member.institution_id, cycle.id)
            stored = await storage.current_answers(self.db, check.id)
            open_handovers = await storage.open_handovers(self.db, check.id, self.clock())
            passed = handovers.passed(open_handovers, member.id)
            state = await self._state(member, check, stored, passed)
            step = self.dialogue.advance(state, event)
            after = await self._after(member, check, step, cycle, stored)
            if after.code is not None or step.records or passed != step.state.passed:
                open_handovers = await storage.open_handovers(self.db, check.id, self.clock())
        notes = handovers.notes(open_handovers, member.id, self.clock())
        authors = {key: Authorship(a.author_name, a.answered_at) for key, a in stored.items()}
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
        )

    async def _after(
        self,
        member: storage.Member,
        check: storage.Check,
        step: Step,
        cycle: storage.Cycle,
        stored: dict[Key, storage.StoredAnswer],
    ) -> _Aftermath:
        """Store the step, then what follows from it: a reason asked, a link, a notice."""
        if step.rejected is None:  # a double tap must not drop the reason just asked for
            await storage.give_reason(self.db, member.id, None)  # any next step skips it
        saved = await self._store(member, check, step, cycle)
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
        passed: frozenset[str] = frozenset(),
    ) -> State:
        saved = await storage.load_position(self.db, member.id, check.id)
        answers = {key: Answer(a.value, a.text) for key, a in stored.items()}
        position = DialoguePosition(saved.requirement_id, saved.question_key) if saved else None
        phase = Phase(saved.phase) if saved else Phase.PAUSED
        submitted = check.status == "submitted"
        return self.dialogue.restore(position, phase, answers, submitted, passed)

    async def _store(
        self, member: storage.Member, check: storage.Check, step: Step, cycle: storage.Cycle
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
