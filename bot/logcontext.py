"""Log lines that name their context (update, chat, institution) and stay on one line.

The context lives in a context variable, set by `bot.telegram.handlers.tracing` in handler group -1
before any other handler runs, so every line logged while an update is handled names it, and
tasks started from a handler inherit it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"
MAX_LINE = 8000  # characters; a longer line (a huge traceback) is cut, marking the cut


@dataclass(frozen=True)
class LogContext:
    update_id: int | None = None
    chat_id: int | None = None
    institution: str | None = None

    def __str__(self) -> str:
        parts = [
            f"update={self.update_id}" if self.update_id is not None else "",
            f"chat={self.chat_id}" if self.chat_id is not None else "",
            f"institution={self.institution}" if self.institution else "",
        ]
        return " ".join(part for part in parts if part) or "-"


CURRENT: ContextVar[LogContext | None] = ContextVar("chancencheck_log_context", default=None)


def current() -> LogContext:
    """Return the context of the update being handled, or an empty one."""
    return CURRENT.get() or LogContext()


class OneLineFormatter(logging.Formatter):
    """Format a record as one line with its context; escape line breaks, hide secrets.

    Escaping line breaks keeps a traceback on the record's line and stops text a user typed
    (in a name, say) from forging log lines of its own.
    """

    def __init__(self, secrets: Iterable[str | None] = (), fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        record.context = str(current())
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        return text if len(text) <= MAX_LINE else f"{text[: MAX_LINE - 1]}…"
