"""Show Telegram HTML views in a terminal: bold stays bold, buttons become numbers."""

from __future__ import annotations

import html
import re

from bot.render.views import Button, View

_BOLD = re.compile(r"</?(b|strong)>")
_TAG = re.compile(r"<[^>]+>")


def to_text(markup: str, colour: bool) -> str:
    """Turn Telegram HTML into plain text, with ANSI bold where the terminal has colour."""
    if colour:
        markup = _BOLD.sub(lambda m: "\033[0m" if m.group(0).startswith("</") else "\033[1m", markup)
    return html.unescape(_TAG.sub("", markup))


def numbered(view: View) -> list[Button]:
    """Return the view's buttons in reading order; button n is entered as n."""
    return [button for row in view.keyboard for button in row]


def render(view: View, colour: bool) -> str:
    """Render a view with its buttons as numbered choices."""
    lines = [to_text(view.text, colour)]
    number = 1
    for row in view.keyboard:
        cells = []
        for button in row:
            cells.append(f"[{number}] {button.label}")
            number += 1
        lines.append("   ".join(cells))
    return "\n".join(lines)
