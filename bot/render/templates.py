"""Jinja2 templates per language: every sentence the bot says comes from here."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from bot.render.views import words_only

TEMPLATE_DIR = Path(__file__).with_name("templates")
LANGUAGES = ("de", "en")
_ROUND_WORD = re.compile(r"^(runde|round)\s+", re.IGNORECASE)


def round_name(name: str) -> str:
    """Return a round's name without a leading "Runde", which the texts say themselves."""
    # A round called "Runde 2026" would otherwise read "Runde Runde 2026".
    return _ROUND_WORD.sub("", name) or name


class Templates:
    """Render `<language>/<name>.html` with Telegram-safe HTML (autoescaped)."""

    def __init__(self, tz: ZoneInfo, root: Path = TEMPLATE_DIR) -> None:
        self.tz = tz
        self._envs = {lang: self._environment(root / lang, lang) for lang in LANGUAGES}
        self._labels = tomllib.loads((root / "labels.toml").read_text(encoding="utf-8"))

    def _environment(self, folder: Path, language: str) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["when"] = lambda moment: self.when(moment, language)
        env.filters["date"] = lambda day: day.strftime(
            "%d.%m.%Y" if language == "de" else "%Y-%m-%d"
        )
        env.filters["round_name"] = round_name
        env.globals["label"] = lambda key: self.label(language, key)
        env.globals["plain"] = False  # a render for a member in plain mode passes plain=True
        return env

    def render(self, language: str, name: str, /, **context: object) -> str:
        """Render one message; surrounding blank lines are dropped.

        With `plain=True` (the member's /barrierefrei mode) every emoji and symbol glyph goes:
        the templates put words beside each glyph that means something, so only decoration
        is lost, and a screen reader no longer reads "black circle" or ten bar segments.
        """
        env = self._envs[language if language in LANGUAGES else "de"]
        text = env.get_template(f"{name}.html").render(**context).strip()
        return words_only(text) if context.get("plain") else text

    def label(self, language: str, key: str) -> str:
        """Return a short label (a button, a status word)."""
        return str(self._labels[language if language in LANGUAGES else "de"][key])

    def commands(self, language: str) -> dict[str, str]:
        """Return the command menu's descriptions."""
        return dict(self._labels[language if language in LANGUAGES else "de"]["commands"])

    def when(self, moment: datetime, language: str) -> str:
        local = moment.astimezone(self.tz)
        return local.strftime("%d.%m.%Y, %H:%M" if language == "de" else "%Y-%m-%d %H:%M")
