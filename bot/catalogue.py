"""Read the catalogue file; dialogues.catalogue parses and validates what was read."""

from __future__ import annotations

from pathlib import Path

from dialogues.catalogue import DEFAULT_CATALOGUE, Catalogue, CatalogueError, parse_catalogue


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE) -> Catalogue:
    """Read and validate a catalogue file, or raise CatalogueError naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CatalogueError(path, [f"cannot read the file: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start}): save the file as UTF-8"
        raise CatalogueError(path, [problem]) from None
    return parse_catalogue(text, path)
