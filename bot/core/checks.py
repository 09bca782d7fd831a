"""One turn of a member's check: load, run the engine, store, all in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import storage
from bot.core.measures import record_reply
from bot.render.presenter import Authorship
from dialogues import effects as fx
from dialogues.engine import Dialogue, Step
from dialogues.events import Event
from dialogues.model import PLANNED, Answer, Key, Phase, State
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
    measure_batch: int | None = None  # the measures this turn's reply added, to plan them


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        """Apply an event and commit what it changed before anything is shown."""
        async with self.db.transaction():
            cycle = await self._cycle()
            check = await storage.check_for(self.db, member.institution_id, cycle.id)
            stored = await storage.current_answers(self.db, check.id)
            state = await self._state(member, check, stored)
            step = self.dialogue.advance(state, event)
            await self._store(member, check, step, cycle)
            batch = await self._store_measures(member, check, step)
        authors = {key: Authorship(a.author_name, a.answered_at) for key, a in stored.items()}
        for record in step.records:
            key = (record.position.requirement_id, record.position.question_key)
            authors[key] = Authorship(member.first_name, self.clock())
        return Turn(step, state.position, check, cycle, authors, batch)

    async def _cycle(self) -> storage.Cycle:
        cycle = await storage.current_cycle(self.db)
        if cycle is None:
            raise NoOpenRound()
        catalogue = self.dialogue.catalogue
        if (cycle.catalogue_id, cycle.catalogue_version) != (catalogue.id, catalogue.version):
            raise CatalogueMismatch(cycle, catalogue.id, catalogue.version)
        return cycle

    async def _state(
        self, member: storage.Member, check: storage.Check, stored: dict[Key, storage.StoredAnswer]
    ) -> State:
        saved = await storage.load_position(self.db, member.id, check.id)
        answers = {key: Answer(a.value, a.text) for key, a in stored.items()}
        position = DialoguePosition(saved.requirement_id, saved.question_key) if saved else None
        phase = Phase(saved.phase) if saved else Phase.PAUSED
        return self.dialogue.restore(position, phase, answers, check.status == "submitted")

    async def _store_measures(
        self, member: storage.Member, check: storage.Check, step: Step
    ) -> int | None:
        """Turn the measures of question 3 into the improvement plan, in the same transaction."""
        measures_key = self.dialogue.catalogue.questions[-1].key
        batch = None
        for record in step.records:
            if record.position.question_key == measures_key:
                text = record.answer.text if record.answer.value == PLANNED else None
                batch = await record_reply(
                    self.db, member, check, record.position.requirement_id, text, self.clock()
                )
        return batch

    async def _store(
        self, member: storage.Member, check: storage.Check, step: Step, cycle: storage.Cycle
    ) -> None:
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
            await storage.record_answer(self.db, check.id, answer, now)
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
