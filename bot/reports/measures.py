"""The improvement plan as a table: the export's sheet "Maßnahmen", a CSV file, the CLI list."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.core.plan import PlanRow
from bot.reports.formulas import looks_like_formula
from bot.reports.workbook import Sheet, build

CSV_DELIMITER, CSV_ENCODING = ";", "utf-8-sig"  # as the answers' CSV: German Excel
SHEET = {"de": "Maßnahmen", "en": "Measures"}
HEADERS = {
    "de": (
        "Einrichtung", "Runde", "Anforderung", "Maßnahme", "Zuständig", "Bis", "Stand",
        "Letzte Änderung",
    ),
    "en": (
        "Institution", "Round", "Requirement", "Measure", "Owner", "Due", "Status",
        "Last change",
    ),
}  # fmt: skip
STATUS = {
    "de": {
        "geplant": "geplant", "in_arbeit": "in Arbeit", "umgesetzt": "umgesetzt",
        "verworfen": "verworfen", "ueberfaellig": "überfällig",
    },
    "en": {
        "geplant": "planned", "in_arbeit": "in progress", "umgesetzt": "done",
        "verworfen": "dropped", "ueberfaellig": "overdue",
    },
}  # fmt: skip


def _lang(language: str) -> str:
    return "en" if language == "en" else "de"


def status_label(status: str, language: str) -> str:
    return STATUS[_lang(language)].get(status, status)


def table(rows: Sequence[PlanRow], language: str, tz: ZoneInfo) -> list[list[object]]:
    """Return the header and one row per measure."""
    lang = _lang(language)
    body: list[list[object]] = [
        [
            r.institution,
            r.round,
            r.requirement_id,
            r.text,
            r.owner or "",
            r.due or "",
            status_label(r.status, lang),
            r.last_change.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        ]
        for r in rows
    ]
    return [list(HEADERS[lang]), *body]


def sheet(rows: Sequence[PlanRow], language: str, tz: ZoneInfo) -> Sheet:
    """The export's sheet "Maßnahmen"."""
    return Sheet(SHEET[_lang(language)], table(rows, language, tz), wrapped=(3,))


def measures_xlsx(rows: Sequence[PlanRow], language: str, tz: ZoneInfo) -> bytes:
    return build([sheet(rows, language, tz)])


def measures_csv(rows: Sequence[PlanRow], language: str, tz: ZoneInfo) -> bytes:
    """Return the plan as a CSV file that German Excel opens correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    for row in table(rows, language, tz):
        writer.writerow([f"'{v}" if looks_like_formula(v) else v for v in row])
    return buffer.getvalue().encode(CSV_ENCODING)
