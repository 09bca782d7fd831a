"""The options of a question, and typed text matched to them (in any catalogue language)."""

from __future__ import annotations

import re

from dialogues.catalogue import AnswerKind, Catalogue, Question, Text
from dialogues.model import NO, NONE_PLANNED, YES

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Short forms people type instead of the full label.
_ALIASES = {
    YES: ("j", "y", "ja", "yes"),
    NO: ("n", "nein", "no", "nee", "nö", "noe", "nope"),
    # The old button label stays understood when typed ("keine geplant", catalogue 2026.1).
    NONE_PLANNED: (
        "keine",
        "none",
        "nein",
        "no",
        "nee",
        "nö",
        "noe",
        "nope",
        "keine geplant",
        "none planned",
    ),
}
# How people say "I cannot judge": they name the scale's escape step (the one without a score).
_ESCAPE_ALIASES = (
    "weiß nicht",
    "weiss nicht",
    "weiß ich nicht",
    "weiss ich nicht",
    "keine ahnung",
    "unklar",
    "don t know",
    "dont know",
    "do not know",
    "not sure",
    "no idea",
)
# Replies that only say yes or no (or "ok"): an answer to a yes/no question, never a description.
_YES_NO_WORDS = frozenset(
    {
        "ja",
        "jo",
        "jap",
        "jep",
        "jawohl",
        "j",
        "yes",
        "y",
        "yep",
        "yeah",
        "ok",
        "okay",
        "o k",
        "klar",
        "genau",
        "stimmt",
        "sicher",
        "nein",
        "nee",
        "nö",
        "noe",
        "ne",
        "no",
        "n",
        "nope",
    }
)
_SHORTEST_PREFIX = 4  # "voll" names "vollständig erfüllt"; "nic" names nothing


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
    """Return the one option a typed text names, or None when it names none or several."""
    found = match_options(catalogue, question, text)
    return found[0] if len(found) == 1 else None


def match_options(catalogue: Catalogue, question: Question, text: str) -> tuple[str, ...]:
    """Return the options a typed text may name: its number, its label, a short form, or words
    of a label ("teilweise", "voll"). Several when the words fit several labels ("nicht")."""
    wanted = _normalise(text)
    if not wanted:
        return ()
    values = options_for(catalogue, question)
    if wanted.isascii() and wanted.isdigit() and question.kind is not AnswerKind.MEASURES:
        number = int(wanted)
        return (values[number - 1],) if 1 <= number <= len(values) else ()
    names = {value: _names(catalogue, question, value) for value in values}
    exact = tuple(value for value in values if wanted in names[value])
    if exact or question.kind is not AnswerKind.RATING:
        return exact
    words = wanted.split()
    return tuple(
        value for value in values if all(_names_word(word, names[value]) for word in words)
    )


def is_yes_no_word(text: str) -> bool:
    """Tell whether a reply only says yes, no or ok ("Ja.", "ok", "nein danke" does not)."""
    words = _normalise(text).split()
    return bool(words) and (
        " ".join(words) in _YES_NO_WORDS or all(w in _YES_NO_WORDS for w in words)
    )


def _names(catalogue: Catalogue, question: Question, value: str) -> set[str]:
    label = option_label(catalogue, question, value)
    names = {*_label_names(label.de), *_label_names(label.en), *_ALIASES.get(value, ())}
    if question.kind is AnswerKind.RATING:
        step = catalogue.step(value)
        if step is not None and step.score is None:
            names.update(_ESCAPE_ALIASES)
    return names


def _names_word(word: str, names: set[str]) -> bool:
    """Tell whether a typed word is a word of one of the names, or the start of a long one."""
    return any(
        word == part or (len(word) >= _SHORTEST_PREFIX and part.startswith(word))
        for name in names
        for part in name.split()
    )


def _label_names(label: str) -> set[str]:
    """Return a label and, for "nicht beurteilbar / trifft nicht zu", each of its halves."""
    return {_normalise(label), *(_normalise(part) for part in label.split("/"))} - {""}


def _normalise(text: str) -> str:
    return _NOISE.sub(" ", text.casefold()).strip()
