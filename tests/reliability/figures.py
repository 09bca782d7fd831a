"""The figures a reliability suite reports: printed (see them with `pytest -s`) and, when
CHANCENCHECK_FIGURES_DIR names a folder, written there as <suite>.json for RELIABILITY.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FIGURES_ENV = "CHANCENCHECK_FIGURES_DIR"


def report(suite: str, figures: dict[str, Any]) -> None:
    """Print a suite's figures as one JSON line and keep them if asked to."""
    text = json.dumps(figures, ensure_ascii=False, sort_keys=True)
    print(f"\nRELIABILITY {suite}: {text}")
    folder = os.environ.get(FIGURES_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder, f"{suite}.json").write_text(
            json.dumps(figures, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
            encoding="utf-8",
        )
