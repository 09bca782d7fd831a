"""Events: what a member can do. Frozen value objects, made by any shell (Telegram, terminal)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogues.model import Position


@dataclass(frozen=True)
class Resume:
    """Continue at the first open question (or the end, when nothing is open)."""


@dataclass(frozen=True)
class Show:
    """Show whatever is current again: the question, the pause, the end or the confirmation."""


@dataclass(frozen=True)
class Choose:
    """Pick an option of the current question; `at` is the question the option was shown for."""

    value: str
    at: Position | None = None


@dataclass(frozen=True)
class Type:
    """Typed text: a description, measures, or an option written out."""

    text: str
    at: Position | None = None


@dataclass(frozen=True)
class Keep:
    """Keep the stored answer (a colleague's or one's own) and go on."""

    at: Position | None = None


@dataclass(frozen=True)
class Back:
    """Go to the previous question and show its stored answer."""

    at: Position | None = None


@dataclass(frozen=True)
class Skip:
    """Leave the current question open and go on."""

    at: Position | None = None


@dataclass(frozen=True)
class Carry:
    """Confirm last round's three answers to the requirement at `at` ("Stimmt noch so")."""

    at: Position | None = None


@dataclass(frozen=True)
class Change:
    """Walk the requirement's questions with last round's answers offered ("Ändern")."""

    at: Position | None = None


@dataclass(frozen=True)
class CarryMeasure:
    """Take one of last round's measures into this round, at the measures question ("Ändern").

    The engine knows no measures: it passes the id on to the shell, which checks it."""

    measure_id: int
    at: Position | None = None


@dataclass(frozen=True)
class Pause:
    """Stop for now; the position is kept."""


@dataclass(frozen=True)
class Jump:
    """Go to the first question of a requirement."""

    requirement_id: str


@dataclass(frozen=True)
class Hint:
    """Show the current question again with the requirement's hint."""

    at: Position | None = None


@dataclass(frozen=True)
class Overview:
    """List all requirements with their status."""


@dataclass(frozen=True)
class Review:
    """List all answers, open ones marked."""


@dataclass(frozen=True)
class Submit:
    """Ask to submit the check."""


@dataclass(frozen=True)
class Confirm:
    """Confirm the submission."""


@dataclass(frozen=True)
class Cancel:
    """Cancel the submission."""


@dataclass(frozen=True)
class Reopen:
    """Make a submitted check editable again."""


@dataclass(frozen=True)
class HandOver:
    """Ask a colleague to answer a requirement; until then forward moves pass over it."""

    requirement_id: str


@dataclass(frozen=True)
class TakeBack:
    """Take a handed-over requirement back and answer it oneself."""

    requirement_id: str


Event = (
    Resume
    | Show
    | Choose
    | Type
    | Keep
    | Back
    | Skip
    | Carry
    | Change
    | CarryMeasure
    | Pause
    | Jump
    | Hint
    | Overview
    | Review
    | Submit
    | Confirm
    | Cancel
    | Reopen
    | HandOver
    | TakeBack
)
