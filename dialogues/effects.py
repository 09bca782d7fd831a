"""Effects: what a shell must do after an event. Data only; wording lives in templates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dialogues.model import Answer, Key, Position, Progress


@dataclass(frozen=True)
class Ask:
    """Show a question: its options, the stored answer if any, and the progress."""

    position: Position
    options: tuple[str, ...]
    progress: Progress
    existing: Answer | None = None
    follow_up: bool = False  # the description after "yes" is asked
    with_hint: bool = False
    proposed: bool = False  # `existing` is last round's answer, not yet confirmed


@dataclass(frozen=True)
class Propose:
    """Show last round's answers to a requirement, to confirm in one tap or to change."""

    position: Position  # the requirement's first question
    proposals: tuple[tuple[Key, Answer], ...]
    progress: Progress
    reworded: bool = False  # the requirement's text changed since last round


@dataclass(frozen=True)
class Record:
    """Store this answer for the check; the shell must commit it before replying."""

    position: Position
    answer: Answer
    carried: bool = False  # confirmed from last round's proposal, not answered anew


@dataclass(frozen=True)
class MeasureCarried:
    """Carry this measure of last round into the check (the shell checks it is one)."""

    position: Position  # the measures question it was tapped at
    measure_id: int


@dataclass(frozen=True)
class RequirementStatus:
    requirement_id: str
    answered: int
    total: int
    handed_over: bool = False


@dataclass(frozen=True)
class HandedOver:
    """The member asks a colleague to answer this requirement: the shell makes the link."""

    requirement_id: str


@dataclass(frozen=True)
class TakenBack:
    """The member takes a handed-over requirement back: the shell ends its link."""

    requirement_id: str


@dataclass(frozen=True)
class ShowOverview:
    items: tuple[RequirementStatus, ...]
    progress: Progress


@dataclass(frozen=True)
class ReviewItem:
    position: Position
    answer: Answer | None
    complete: bool


@dataclass(frozen=True)
class ShowReview:
    items: tuple[ReviewItem, ...]
    progress: Progress
    submitted: bool


@dataclass(frozen=True)
class EndReached:
    """Walked past the last question: offer review and submission, or the open questions."""

    open_questions: tuple[Key, ...]
    progress: Progress
    handed_over: tuple[str, ...] = ()  # open requirements a colleague was asked to answer


@dataclass(frozen=True)
class ConfirmSubmission:
    progress: Progress


@dataclass(frozen=True)
class Submitted:
    """The check was submitted; the shell stores the status and tells the coordinators."""

    progress: Progress


@dataclass(frozen=True)
class Reopened:
    progress: Progress


@dataclass(frozen=True)
class Paused:
    progress: Progress


class Reason(str, Enum):
    STALE = "stale"  # the button or text belongs to a question the member has left
    READ_ONLY = "read_only"  # the check is submitted
    INCOMPLETE = "incomplete"  # submission with open questions
    NOT_NOW = "not_now"  # the event makes no sense in this phase
    UNKNOWN_OPTION = "unknown_option"
    UNKNOWN_REQUIREMENT = "unknown_requirement"
    EMPTY_TEXT = "empty_text"
    TOO_LONG = "too_long"
    AT_START = "at_start"
    NOTHING_STORED = "nothing_stored"  # keep without a stored answer
    NOT_SUBMITTED = "not_submitted"
    AMBIGUOUS = "ambiguous"  # typed text that fits several options; `options` lists them
    YES_NO_WORD = "yes_no_word"  # "ja" or "ok" where a description is asked
    DIGITS_ONLY = "digits_only"  # a number where a description is asked
    NO_WORDS = "no_words"  # only punctuation or emoji where a description is asked


@dataclass(frozen=True)
class Rejected:
    """The event did not fit the state; nothing changed."""

    reason: Reason
    event: object
    open_questions: tuple[Key, ...] = ()
    limit: int | None = None
    options: tuple[str, ...] = ()  # the options an ambiguous text may mean


Effect = (
    Ask
    | Propose
    | MeasureCarried
    | Record
    | ShowOverview
    | ShowReview
    | EndReached
    | ConfirmSubmission
    | Submitted
    | Reopened
    | Paused
    | Rejected
    | HandedOver
    | TakenBack
)
