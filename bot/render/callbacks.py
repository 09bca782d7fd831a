"""Callback data for inline buttons: engine events as short strings (Telegram allows 64 bytes)."""

from __future__ import annotations

import re
from collections.abc import Callable

from dialogues import events as ev
from dialogues.catalogue import QUESTION_KEYS
from dialogues.model import Position

# Positions travel as "K1.0" (requirement id and question number) so that a button can tell
# which question it was shown for; the engine rejects it when the member has moved on.
_SIMPLE: dict[str, Callable[[], ev.Event]] = {
    "r": ev.Resume,
    "w": ev.Show,
    "p": ev.Pause,
    "o": ev.Overview,
    "v": ev.Review,
    "s": ev.Submit,
    "y": ev.Confirm,
    "x": ev.Cancel,
}
_AT: dict[str, Callable[..., ev.Event]] = {
    "k": ev.Keep,
    "b": ev.Back,
    "n": ev.Skip,
    "h": ev.Hint,
    "a": ev.Carry,
    "e": ev.Change,
}
_BY_REQUIREMENT: dict[str, Callable[[str], ev.Event]] = {
    "j": ev.Jump,
    "g": ev.HandOver,
    "t": ev.TakeBack,
}
_CODES = {cls: code for code, cls in {**_SIMPLE, **_AT}.items()}
_TOKEN = re.compile(r"^[A-Za-z0-9_]{1,20}$")


def encode(event: ev.Event) -> str:
    """Return the callback data for an event shown on a button."""
    if isinstance(event, ev.Choose):
        return f"c:{_position(event.at)}:{event.value}"
    if isinstance(event, ev.Jump):
        return f"j:{event.requirement_id}"
    if isinstance(event, ev.HandOver):
        return f"g:{event.requirement_id}"
    if isinstance(event, ev.TakeBack):
        return f"t:{event.requirement_id}"
    if isinstance(event, ev.CarryMeasure):
        return f"m:{_position(event.at)}:{event.measure_id}"
    code = _CODES[type(event)]
    at = getattr(event, "at", None)
    return f"{code}:{_position(at)}" if at is not None else code


def decode(data: str) -> ev.Event | None:
    """Return the event a callback carries, or None for data the bot never sent."""
    code, _, rest = data.partition(":")
    if code in _SIMPLE and not rest:
        return _SIMPLE[code]()
    if code in _AT:
        at = _parse_position(rest) if rest else None
        return _AT[code](at=at) if at or not rest else None
    if code == "c":
        where, _, value = rest.rpartition(":")
        at = _parse_position(where)
        return ev.Choose(value, at) if at and _TOKEN.match(value) else None
    if code == "m":
        where, _, number = rest.rpartition(":")
        at = _parse_position(where)
        return (
            ev.CarryMeasure(int(number), at)
            if at and number.isascii() and number.isdigit() and len(number) <= 12
            else None
        )
    if code in _BY_REQUIREMENT and _TOKEN.match(rest):
        return _BY_REQUIREMENT[code](rest)
    return None


def _position(at: Position | None) -> str:
    if at is None:
        raise ValueError("a button needs the position it was shown for")
    return f"{at.requirement_id}.{QUESTION_KEYS.index(at.question_key)}"


def _parse_position(text: str) -> Position | None:
    requirement_id, _, number = text.partition(".")
    if not (_TOKEN.match(requirement_id) and number.isdigit() and int(number) < len(QUESTION_KEYS)):
        return None
    return Position(requirement_id, QUESTION_KEYS[int(number)])
