"""Noticing, in one turn, that a member replaced a colleague's answer: the bot asks them why."""

from __future__ import annotations

from dataclasses import dataclass

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
