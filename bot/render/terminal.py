"""Show Telegram HTML views in a terminal: bold stays bold, buttons become numbers."""

from __future__ import annotations

import html
import re
import signal
from types import FrameType

from bot.render.views import Button, View

_BOLD = re.compile(r"</?(b|strong)>")
_TAG = re.compile(r"<[^>]+>")


def to_text(markup: str, colour: bool) -> str:
    """Turn Telegram HTML into plain text, with ANSI bold where the terminal has colour."""
    if colour:
        markup = _BOLD.sub(
            lambda m: "\033[0m" if m.group(0).startswith("</") else "\033[1m", markup
        )
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


class LineReader:
    """Read typed lines; Ctrl-C ends the input at once, like Ctrl-D (None), never mid-answer.

    `input()` runs on the event loop's own thread on purpose: the demo does nothing else while
    it waits, and only the main thread receives Ctrl-C, so the read stops at once. (In a worker
    thread, asyncio would cancel the demo but the read would wait for Enter.)
    """

    def __init__(self) -> None:
        self.reading = False
        self.interrupted = False

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        if self.reading:  # otherwise the current answer is stored, then the input ends
            raise KeyboardInterrupt

    def install(self) -> signal.Handlers | object:
        """Take over Ctrl-C; return the previous handler for `signal.signal` to restore."""
        return signal.signal(signal.SIGINT, self._on_interrupt)

    async def __call__(self, prompt: str) -> str | None:
        if self.interrupted:
            return None
        self.reading = True
        try:
            return input(prompt)
        except (EOFError, KeyboardInterrupt):
            print()  # end the prompt's line (and the "^C" echoed on it)
            return None
        finally:
            self.reading = False
