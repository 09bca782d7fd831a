"""Shell-neutral messages: HTML text plus buttons that carry engine events."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from dialogues.events import Event
from dialogues.model import Position

# Telegram allows 4096 UTF-16 code units after entity parsing; raw HTML is never shorter than
# that, so splitting raw text at this size is always safe.
MESSAGE_LIMIT = 4096
# Plain mode (/barrierefrei) keeps messages short, so a screen reader reads them in portions.
PLAIN_MESSAGE_LIMIT = 1500
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class Button:
    label: str
    event: Event


@dataclass(frozen=True)
class View:
    """One message to show; `text` is Telegram HTML."""

    text: str
    keyboard: tuple[tuple[Button, ...], ...] = ()
    asks: Position | None = None  # the question this message asks, if it asks one


def utf16_len(text: str) -> int:
    """Return a text's length as Telegram counts it: in UTF-16 code units (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


def rows(buttons: list[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out in rows of at most `per_row`."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def split_blocks(
    head: str, blocks: list[str], separator: str = "\n\n", limit: int = MESSAGE_LIMIT
) -> list[str]:
    """Join blocks into as few messages as fit the limit, never cutting inside a block.

    Callers keep each block under the limit (answer texts are capped by `max_text_length`).
    """
    messages: list[str] = []
    current = head
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if utf16_len(candidate) > limit:
            messages.append(current)
            candidate = block.lstrip("\n")
        current = candidate
    if current:
        messages.append(current)
    return messages


def is_glyph(char: str) -> bool:
    """Tell whether a character is a pictograph or symbol a screen reader would spell out."""
    # So: pictographs and symbols; then the variation selector, the joiner, the skin-tone
    # modifiers and the tag characters that build emoji sequences such as flags.
    return (
        unicodedata.category(char) == "So"
        or char in "\ufe0f\u200d\u20e3"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
    )


def words_only(text: str) -> str:
    """Drop emoji and symbol glyphs, keeping the words beside them (plain mode)."""
    kept = "".join(char for char in text if not is_glyph(char))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in kept.split("\n"))


def plain(view: View) -> View:
    """Return the view as plain mode shows it: one button per row, labels in words only."""
    keyboard = tuple((replace(b, label=words_only(b.label)),) for row in view.keyboard for b in row)
    return replace(view, keyboard=keyboard)
