"""The member's commands, shared by Telegram and the terminal demo, with English aliases."""

from __future__ import annotations

from collections.abc import Callable

from dialogues import events as ev

# German name first: that is the interface staff and their documentation use.
DIALOGUE_COMMANDS: dict[str, tuple[tuple[str, ...], Callable[[], ev.Event]]] = {
    "weiter": (("continue", "resume"), ev.Resume),
    "zurueck": (("back",), ev.Back),
    "ueberspringen": (("skip",), ev.Skip),
    "erklaerung": (("explain", "hint"), ev.Hint),
    "pause": ((), ev.Pause),
    "uebersicht": (("overview",), ev.Overview),
    "pruefen": (("review",), ev.Review),
    "absenden": (("submit",), ev.Submit),
}
# Commands shown in Telegram's menu, in this order; descriptions come from labels.toml.
MENU = (
    "weiter",
    "uebersicht",
    "pruefen",
    "zurueck",
    "ueberspringen",
    "pause",
    "absenden",
    "weitergeben",
    "runde",
    "massnahmen",
    "erinnerungen",
    "hilfe",
    "sprache",
    "barrierefrei",
)


def dialogue_event(name: str) -> ev.Event | None:
    """Return the engine event a command name (German or English alias) stands for."""
    name = name.lower()
    for command, (aliases, factory) in DIALOGUE_COMMANDS.items():
        if name == command or name in aliases:
            return factory()
    return None


def all_names(command: str) -> tuple[str, ...]:
    """Return a command's German name followed by its aliases."""
    return (command, *DIALOGUE_COMMANDS[command][0])
