"""The options of a question, and typed text matched to them (in any catalogue language)."""

from __future__ import annotations

import re

from dialogues.catalogue import AnswerKind, Catalogue, Question, Text
from dialogues.model import NO, NONE_PLANNED, YES

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Short forms people type instead of the full label.
_ALIASES = {
    YES: ("j", "y", "ja", "yes"),
    NO: ("n", "nein", "no"),
    # The old button label stays understood when typed ("keine geplant", catalogue 2026.1).
    NONE_PLANNED: ("keine", "none", "nein", "no", "keine geplant", "none planned"),
}


def options_for(catalogue: Catalogue, question: Question) -> tuple[str, ...]:
    """Return the values a member can choose by button for this question."""
    if question.kind is AnswerKind.RATING:
        return tuple(step.key for step in catalogue.scale)
    if question.kind is AnswerKind.YES_NO:
        return (YES, NO)
    return (NONE_PLANNED,)


def option_label(catalogue: Catalogue, question: Question, value: str) -> Text:
    """Return the label of an option in all languages."""
    if question.kind is AnswerKind.RATING:
        step = catalogue.step(value)
        if step is None:
            raise KeyError(value)
        return step.label
    label = {YES: question.yes, NO: question.no, NONE_PLANNED: question.none}.get(value)
    if label is None:
        raise KeyError(value)
    return label


def match_option(catalogue: Catalogue, question: Question, text: str) -> str | None:
    """Return the option a typed text names: its number, its label, or a short form."""
    wanted = _normalise(text)
    if not wanted:
        return None
    values = options_for(catalogue, question)
    if wanted.isascii() and wanted.isdigit() and question.kind is not AnswerKind.MEASURES:
        number = int(wanted)
        return values[number - 1] if 1 <= number <= len(values) else None
    for value in values:
        label = option_label(catalogue, question, value)
        names = {*_names(label.de), *_names(label.en), *_ALIASES.get(value, ())}
        if wanted in names:
            return value
    return None


def _names(label: str) -> set[str]:
    """Return a label and, for "nicht beurteilbar / trifft nicht zu", each of its halves."""
    return {_normalise(label), *(_normalise(part) for part in label.split("/"))} - {""}


def _normalise(text: str) -> str:
    return _NOISE.sub(" ", text.casefold()).strip()
