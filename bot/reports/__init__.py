"""The coordinators' reports: pure functions from database rows to HTML, PNG, XLSX and CSV.

The chart and spreadsheet functions below import matplotlib or openpyxl when first called, not
when this package is imported: both take around a second to import. Called through
`asyncio.to_thread`, that import then also happens off the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from bot.render.templates import Templates
from bot.reports.data import (
    CheckReport,
    area_scores,
    load_check_report,
    load_round_reports,
    traffic_light,
)
from bot.reports.document import report_html
from dialogues.catalogue import Catalogue

REPORT_FORMATS = ("pdf", "html")

__all__ = [
    "REPORT_FORMATS",
    "CheckReport",
    "area_scores",
    "change_heatmap_png",
    "export_csv",
    "export_rows",
    "export_xlsx",
    "heatmap_png",
    "load_check_report",
    "load_round_reports",
    "profile_chart_png",
    "report_file",
    "report_html",
    "traffic_light",
]


def profile_chart_png(report: CheckReport, catalogue: Catalogue, language: str) -> bytes:
    """Draw one institution's mean score per area as a PNG (see bot.reports.chart)."""
    from bot.reports import chart

    return chart.profile_chart_png(report, catalogue, language)


def heatmap_png(reports: list[CheckReport], catalogue: Catalogue, language: str) -> bytes:
    """Draw institutions × requirements coloured by rating as a PNG (see bot.reports.chart)."""
    from bot.reports import chart

    return chart.heatmap_png(reports, catalogue, language)


def change_heatmap_png(
    reports: list[CheckReport],
    before: list[CheckReport],
    catalogue: Catalogue,
    language: str,
    previous: str,
) -> bytes:
    """Draw the change of every rating against the round before (see bot.reports.change_chart)."""
    from bot.reports import change_chart

    return change_chart.change_heatmap_png(reports, before, catalogue, language, previous)


def export_rows(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Return one row per current answer (see bot.reports.export)."""
    from bot.reports import export

    return export.export_rows(reports, catalogue, language, tz)


def export_xlsx(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str, tz: ZoneInfo
) -> bytes:
    """Return the answers and mean scores as an Excel workbook (see bot.reports.export)."""
    from bot.reports import export

    return export.export_xlsx(reports, catalogue, language, tz)


def export_csv(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str, tz: ZoneInfo
) -> bytes:
    """Return the answers as a CSV file for German Excel (see bot.reports.export)."""
    from bot.reports import export

    return export.export_csv(reports, catalogue, language, tz)


def report_file(
    report: CheckReport,
    catalogue: Catalogue,
    templates: Templates,
    language: str,
    file_format: str = "pdf",
) -> bytes:
    """Return the full report with its profile chart embedded, as a PDF or an HTML file."""
    chart = profile_chart_png(report, catalogue, language)
    history = history_chart_png(report, catalogue, language) if report.history else None
    if file_format == "html":
        return report_html(report, catalogue, templates, language, chart_png=chart, history=history)
    from bot.reports.pdf import report_pdf

    return report_pdf(report, catalogue, templates, language, chart, history=history)


def history_chart_png(report: CheckReport, catalogue: Catalogue, language: str) -> bytes:
    """Draw the institution's area ratings across its rounds (see bot.reports.change_chart)."""
    from bot.reports import change_chart
    from bot.reports.labels import label

    series = (*report.history, (report.cycle.name, area_scores(report, catalogue)))
    title = label(language, "rounds_title", institution=report.institution.short)
    return change_chart.rounds_chart_png(series, catalogue, language, title)
