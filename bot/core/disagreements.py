"""Noticing, in one turn, that a member replaced a colleague's answer: the bot asks them why."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import storage
from dialogues.model import Key

# Where colleagues can see a requirement differently: the rating and the improvement potential.
# The measures (question 3) are a plan that grows by additions, not a judgement to disagree on.
JUDGEMENTS = ("fulfilment", "potential")


@dataclass(frozen=True)
class Changed:
    """A colleague's answer (before) that the member replaced by their own (after)."""

    before: storage.StoredAnswer
    after: storage.StoredAnswer


def differs(before: storage.StoredAnswer, after: storage.StoredAnswer) -> bool:
    """Tell whether `after` is another person's different judgement of the same question."""
    if before.author_id is None or after.author_id is None:
        return False  # an answer without author (carried over, imported) is nobody's voice
    if before.author_id == after.author_id or after.question_key not in JUDGEMENTS:
        return False
    if before.value != after.value:
        return True
    return bool(after.text) and bool(before.text) and after.text != before.text


def changed(
    stored: dict[Key, storage.StoredAnswer], saved: list[storage.StoredAnswer], member_id: int
) -> Changed | None:
    """Return the colleague's answer this turn's answers replaced with another view, if any."""
    for after in saved:
        before = stored.get((after.requirement_id, after.question_key))
        if before is not None and after.author_id == member_id and differs(before, after):
            return Changed(before, after)
    return None


@dataclass(frozen=True)
class Disagreement:
    """One question whose answer members changed from a colleague's view to their own."""

    requirement_id: str
    question_key: str
    first: str  # the value before the first change by another person
    last: str  # the value now
    other: str  # the first differing value, shown when the answer came back: "🟡 ↔ 🔴"
    people: int  # how many people gave the differing answers
    reasons: tuple[storage.StoredAnswer, ...]  # the changing revisions that say why

    @property
    def back_and_forth(self) -> bool:
        """The answer came back to where it was: the colleagues still see it differently."""
        return self.first == self.last


def find(revisions: list[storage.StoredAnswer]) -> list[Disagreement]:
    """Return the disagreements among a check's revisions (oldest first), per question."""
    by_question: dict[Key, list[storage.StoredAnswer]] = {}
    for revision in revisions:
        key = (revision.requirement_id, revision.question_key)
        by_question.setdefault(key, []).append(revision)
    found = (_of_question(answers) for answers in by_question.values())
    return [d for d in found if d is not None]


def _of_question(answers: list[storage.StoredAnswer]) -> Disagreement | None:
    steps = [(b, a) for b, a in pairwise(answers) if differs(b, a)]
    if not steps:
        return None
    people = {a.author_id for pair in steps for a in pair}
    first = steps[0][0]
    reasons = tuple(after for _, after in steps if after.reason)
    return Disagreement(
        first.requirement_id,
        first.question_key,
        first.value,
        answers[-1].value,
        steps[0][1].value,
        len(people),
        reasons,
    )
