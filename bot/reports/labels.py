"""Short report wording (column headers, chart titles) from labels.toml, per language."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from bot.reports.data import CheckReport
from dialogues.catalogue import Catalogue, Question
from dialogues.model import PLANNED
from dialogues.options import option_label
from storage import StoredAnswer

LABELS_FILE = Path(__file__).with_name("labels.toml")
LANGUAGES = ("de", "en")


@cache
def _labels() -> dict[str, Any]:
    """Read the labels file once per process."""
    return tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))


def _language(language: str) -> str:
    return language if language in LANGUAGES else "de"


def label(language: str, key: str, **values: object) -> str:
    """Return a label, its {placeholders} filled with values."""
    text = str(_labels()[_language(language)][key])
    return text.format(**values) if values else text


def pdf_labels(language: str) -> dict[str, Any]:
    """Return the PDF report's wording."""
    return dict(_labels()[_language(language)]["pdf"])


def column_labels(language: str) -> dict[str, str]:
    """Return the spreadsheet column headers by column key."""
    return dict(_labels()[_language(language)]["columns"])


def value_label(catalogue: Catalogue, question: Question, value: str, language: str) -> str:
    """Return the label of an answer's value, falling back to the stored value itself."""
    try:
        return option_label(catalogue, question, value)(language)
    except KeyError:
        # "planned" has no button (members type the measures); a value from an older
        # catalogue version is shown as stored rather than lost.
        return label(language, "planned") if value == PLANNED else value


def author_label(answer: StoredAnswer, language: str, report: CheckReport | None = None) -> str:
    """Return who gave an answer as the report's privacy mode allows; "" when nobody is named."""
    if report is not None and report.authors != "names":
        return member_label(report, answer.author_id, language)
    if answer.author_name:
        return answer.author_name
    return label(language, "former_member" if answer.author_id is not None else "unknown_author")


def member_label(report: CheckReport, member_id: int | None, language: str) -> str:
    """Return "Mitglied 2" for a member under the "members" mode, "" under "none"."""
    number = report.author_number(member_id)
    if report.authors != "members" or number is None:
        return ""
    return label(language, "member_number", number=number)


def submitter_label(report: CheckReport, language: str) -> str:
    """Return who submitted the check as the privacy mode allows; "" when nobody is named."""
    if report.submitter_id is None:
        return ""
    if report.authors == "names":
        return report.submitted_by or label(language, "former_member")
    return member_label(report, report.submitter_id, language)


def format_score(score: float | None, language: str) -> str:
    """Return a mean score with one decimal, a decimal comma in German; a dash for None."""
    if score is None:
        return "–"
    text = f"{score:.1f}"
    return text.replace(".", ",") if _language(language) == "de" else text
