"""How far each institution's check in a round is: what reminders and /runde report."""

from __future__ import annotations

from dataclasses import dataclass

import storage
from bot.services import Services
from dialogues.catalogue import Requirement
from dialogues.model import Answer, Phase


@dataclass(frozen=True)
class InstitutionProgress:
    """One institution's check in a round: answered questions and open requirements."""

    institution: storage.Institution
    check: storage.Check | None  # None only for an institution the round never gave a check
    answered: int
    total: int
    open_requirements: tuple[Requirement, ...]

    @property
    def submitted(self) -> bool:
        return self.check is not None and self.check.status == "submitted"


async def round_progress(services: Services, cycle: storage.Cycle) -> list[InstitutionProgress]:
    """Return the progress of every institution in the round, by short name."""
    checks = {c.institution_id: c for c in await storage.checks_in_cycle(services.db, cycle.id)}
    institutions = sorted(await storage.list_institutions(services.db), key=lambda i: i.short)
    return [await institution_progress(services, i, checks.get(i.id)) for i in institutions]


async def institution_progress(
    services: Services, institution: storage.Institution, check: storage.Check | None
) -> InstitutionProgress:
    """Count the complete answers of a check as the dialogue engine does."""
    dialogue = services.dialogue
    stored = await storage.current_answers(services.db, check.id) if check else {}
    answers = {key: Answer(a.value, a.text) for key, a in stored.items()}
    submitted = check is not None and check.status == "submitted"
    state = dialogue.restore(None, Phase.PAUSED, answers, submitted)
    open_ids = {requirement_id for requirement_id, _ in dialogue.open_questions(state)}
    open_requirements = tuple(r for r in dialogue.catalogue.requirements if r.id in open_ids)
    progress = dialogue.progress(state)
    return InstitutionProgress(
        institution, check, progress.answered, progress.total, open_requirements
    )
