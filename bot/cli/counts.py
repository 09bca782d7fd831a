"""Counts with their noun in the right number, for the command line's English sentences."""

from __future__ import annotations


def count(number: int, singular: str, plural: str | None = None) -> str:
    """Return "1 institution" or "2 institutions"; irregular plurals are passed in."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
