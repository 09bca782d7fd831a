"""One turn of a member's check: load, run the engine, store, all in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import storage
from bot.render.presenter import Authorship
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
    # The member's message with buttons when the event arrived (it shows the question answered).
    active: storage.ActiveMessage | None = None


def _alone(step: Step) -> bool:
    """Tell whether a step is stored without submitting or reopening the check."""
    return not any(isinstance(e, fx.Submitted | fx.Reopened) for e in step.effects)


def utc_now() -> datetime:
    return datetime.now(UTC)


Loaded = tuple[
    storage.Cycle,
    storage.Check,
    dict[Key, storage.StoredAnswer],
    State,
    storage.ActiveMessage | None,
]
OnSubmitted = Callable[[storage.Database, storage.Check, storage.Member, datetime], Awaitable[None]]


class Checks:
    """Run members' events against their institution's check in the current round."""

    def __init__(
        self,
        db: storage.Database,
        dialogue: Dialogue,
        clock: Callable[[], datetime] = utc_now,
        on_submitted: OnSubmitted | None = None,
    ) -> None:
        self.db = db
        self.dialogue = dialogue
        self.clock = clock
        # Runs inside the submission's transaction, so that the digest is queued atomically.
        self.on_submitted = on_submitted

    async def handle(self, member: storage.Member, event: Event) -> Turn:
        """Apply an event and commit what it changed before anything is shown.

        One round trip to the database thread: a single job reads what the engine needs, runs
        the pure engine step, stores it and commits, so the write lock is held only while the
        thread works. A submission or reopening finishes on the event loop instead, where the
        digest is queued in the same transaction.
        """
        async with self.db.transaction(lazy=True):
            loaded, step = await self.db.job(
                lambda db: self._turn(db, member, event), commit=lambda done: _alone(done[1])
            )
            if not _alone(step):
                await self._submit_or_reopen(member, loaded[1], step)
        cycle, check, stored, state, active = loaded
        authors = {key: Authorship(a.author_name, a.answered_at) for key, a in stored.items()}
        for record in step.records:
            key = (record.position.requirement_id, record.position.question_key)
            authors[key] = Authorship(member.first_name, self.clock())
        return Turn(step, state.position, check, cycle, authors, active)

    async def _turn(
        self, db: storage.Database, member: storage.Member, event: Event
    ) -> tuple[Loaded, Step]:
        """Read, advance and store one event; runs in the database thread (storage/thread.py)."""
        loaded = await self._load(db, member)
        cycle, check, _, state, _ = loaded
        step = self.dialogue.advance(state, event)
        await self._store(db, member, check, step, cycle)
        return loaded, step

    async def _load(self, db: storage.Database, member: storage.Member) -> Loaded:
        """Read what a turn needs; runs in the database thread (storage/thread.py)."""
        cycle = await self._cycle(db)
        check = await storage.check_for(db, member.institution_id, cycle.id)
        stored = await storage.current_answers(db, check.id)
        state = await self._state(db, member, check, stored)
        return cycle, check, stored, state, await storage.load_active_message(db, member.id)

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
    ) -> State:
        saved = await storage.load_position(db, member.id, check.id)
        answers = {key: Answer(a.value, a.text) for key, a in stored.items()}
        position = DialoguePosition(saved.requirement_id, saved.question_key) if saved else None
        phase = Phase(saved.phase) if saved else Phase.PAUSED
        return self.dialogue.restore(position, phase, answers, check.status == "submitted")

    async def _store(
        self,
        db: storage.Database,
        member: storage.Member,
        check: storage.Check,
        step: Step,
        cycle: storage.Cycle,
    ) -> None:
        """Store the step's answers and the member's place; runs in the database thread."""
        now = self.clock()
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
            await storage.record_answer(db, check.id, answer, now)
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
