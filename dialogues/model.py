"""Value objects of a dialogue: answers, positions, phases and the state they form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

YES, NO = "yes", "no"
NONE_PLANNED, PLANNED = "none", "planned"

Key = tuple[str, str]  # (requirement id, question key)


class Phase(str, Enum):
    PAUSED = "paused"  # nothing asked; /weiter resumes
    ASKING = "asking"  # the question at the position is shown
    FOLLOW_UP = "follow_up"  # "yes" given, the description is asked
    AT_END = "at_end"  # walked past the last question
    CONFIRMING = "confirming"  # submission asked, waiting for confirmation
    PROPOSING = "proposing"  # last round's answers to a requirement shown, confirm or change


@dataclass(frozen=True)
class Answer:
    """The answer to one question: a scale key, yes/no or none/planned, and an optional text."""

    value: str
    text: str | None = None


@dataclass(frozen=True, order=True)
class Position:
    """A question of the catalogue: requirement and question, as in the answers' Key."""

    requirement_id: str
    question_key: str

    @property
    def key(self) -> str:
        """Name the question in text, as stored and logged: "K1.fulfilment"."""
        return f"{self.requirement_id}.{self.question_key}"

    @classmethod
    def parse(cls, text: str) -> Position | None:
        """Read what `key` wrote, or return None if it is not a position."""
        requirement_id, dot, question_key = text.partition(".")
        return (
            cls(requirement_id, question_key) if dot and requirement_id and question_key else None
        )


@dataclass(frozen=True)
class Progress:
    """Where a member stands: requirement 4 of 15, question 2 of 3, 12 of 45 answered."""

    requirement_number: int
    requirement_count: int
    question_number: int
    question_count: int
    answered: int
    total: int


def _freeze(answers: Mapping[Key, Answer]) -> Mapping[Key, Answer]:
    return MappingProxyType(dict(answers))


@dataclass(frozen=True)
class State:
    """A member's place in their institution's shared check, and the check's current answers."""

    position: Position
    phase: Phase = Phase.PAUSED
    answers: Mapping[Key, Answer] = field(default_factory=dict, hash=False)
    submitted: bool = False
    # Last round's complete answers, offered for confirmation; never counted as answers.
    proposals: Mapping[Key, Answer] = field(default_factory=dict, hash=False)
    reworded: frozenset[str] = frozenset()  # requirements whose text changed since last round
    # Requirements this member handed to a colleague: forward moves pass over them, but they
    # stay open for submitting until answered or taken back.
    passed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Read-only view so that nothing but a new State can change the answers.
        object.__setattr__(self, "answers", _freeze(self.answers))
        object.__setattr__(self, "proposals", _freeze(self.proposals))
