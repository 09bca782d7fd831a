"""The full report of one check as a standalone, printable HTML document."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from bot.core.plan import PlanRow
from bot.render.templates import Templates
from bot.reports.change import change_lines
from bot.reports.data import CheckReport, area_missing, area_scores, traffic_light
from bot.reports.disagreements import items as differing_views
from bot.reports.labels import author_label, format_score, submitter_label, value_label
from bot.reports.measures import status_label
from bot.reports.style import HEX
from dialogues.catalogue import AnswerKind, Area, Catalogue, Question, Requirement
from dialogues.model import NONE_PLANNED, YES

CSS_FILE = Path(__file__).with_name("report.css")


def report_html(
    report: CheckReport,
    catalogue: Catalogue,
    templates: Templates,
    language: str,
    now: datetime | None = None,
    chart_png: bytes | None = None,
    history: bytes | None = None,
) -> bytes:
    """Render the report of one check as a UTF-8 HTML document; `now` is its "created" time.

    The profile chart goes inside as a data URI, so the one file is the whole report."""
    context = document_context(report, catalogue, templates, language)
    context["generated_at"] = now or datetime.now(UTC)
    context["chart"] = base64.b64encode(chart_png).decode("ascii") if chart_png else None
    context["history"] = base64.b64encode(history).decode("ascii") if history else None
    return (templates.render(language, "report_document", **context) + "\n").encode("utf-8")


def document_context(
    report: CheckReport, catalogue: Catalogue, templates: Templates, language: str
) -> dict[str, Any]:
    """Collect everything the document template shows."""
    check = report.check
    keys = [(r.id, q.key) for r in catalogue.requirements for q in catalogue.questions]
    return {
        "css": _stylesheet(),
        "colours": HEX,
        "catalogue_title": catalogue.title(language),
        "catalogue_version": catalogue.version,
        "institution": report.institution,
        "cycle": report.cycle,
        "status": check.status,
        "submitted_at": check.submitted_at,
        "submitted_by": submitter_label(report, language),
        "reopened_at": check.reopened_at,
        "answered": sum(key in report.answers for key in keys),
        "total": len(keys),
        "areas": [_area(report, catalogue, area, language) for area in catalogue.areas],
        "disagreements": differing_views(report, catalogue, language),
        "changes": change_lines(report, catalogue, language),
        "plan": [_plan_row(row, language) for row in report.plan],
    }


def _plan_row(row: PlanRow, language: str) -> dict[str, Any]:
    """One measure of the section "Maßnahmenplan"."""
    return {
        "requirement_id": row.requirement_id,
        "text": row.text,
        "owner": row.owner or "",
        "due": row.due or "",
        "status": status_label(row.status, language),
    }


@cache
def _stylesheet() -> Markup:
    """Read the report's stylesheet once; it is our own file, so it goes in unescaped."""
    return Markup(CSS_FILE.read_text(encoding="utf-8"))


def _area(report: CheckReport, catalogue: Catalogue, area: Area, language: str) -> dict[str, Any]:
    """Summarise one area and list its requirements with their answers."""
    score = area_scores(report, catalogue)[area.id]
    requirements = [_requirement(report, catalogue, r, language) for r in area.requirements]
    return {
        "id": area.id,
        "title": area.title(language),
        "score": format_score(score, language),
        "colour": traffic_light(score),
        "count": len(area.requirements),
        "rated": len(area.requirements) - area_missing(report, catalogue)[area.id],
        "improvable": sum(
            _has(report, catalogue, r.id, AnswerKind.YES_NO, YES) for r in area.requirements
        ),
        "measures": sum(_has_measures(report, catalogue, r.id) for r in area.requirements),
        "open": sum(r["open"] for r in requirements),
        "requirements": requirements,
    }


def _has(
    report: CheckReport, catalogue: Catalogue, requirement_id: str, kind: AnswerKind, value: str
) -> bool:
    """Return whether the requirement's question of this kind was answered with value."""
    return any(
        (answer := report.answers.get((requirement_id, q.key))) is not None
        and answer.value == value
        for q in catalogue.questions
        if q.kind is kind
    )


def _has_measures(report: CheckReport, catalogue: Catalogue, requirement_id: str) -> bool:
    """Return whether measures are planned for the requirement."""
    return any(
        (answer := report.answers.get((requirement_id, q.key))) is not None
        and answer.value != NONE_PLANNED
        for q in catalogue.questions
        if q.kind is AnswerKind.MEASURES
    )


def _requirement(
    report: CheckReport,
    catalogue: Catalogue,
    requirement: Requirement,
    language: str,
) -> dict[str, Any]:
    """Describe one requirement with its questions and answers."""
    answers = [
        _answer(
            report, catalogue, requirement.id, catalogue.question(requirement.id, q.key), language
        )
        for q in catalogue.questions
    ]
    return {
        "id": requirement.id,
        "title": requirement.title(language),
        "text": requirement.text(language),
        "answers": answers,
        "open": sum(a["open"] for a in answers),
    }


def _answer(
    report: CheckReport,
    catalogue: Catalogue,
    requirement_id: str,
    question: Question,
    language: str,
) -> dict[str, Any]:
    """Describe one answer: its label, colour, text, author and time, or that it is open."""
    answer = report.answers.get((requirement_id, question.key))
    shown: dict[str, Any] = {"question": question.text(language), "kind": question.kind.value}
    if answer is None:
        return {**shown, "open": True}
    step = catalogue.step(answer.value) if question.kind is AnswerKind.RATING else None
    # Planned measures are the text itself; a label ("geplant") would only repeat that.
    planned = question.kind is AnswerKind.MEASURES and answer.value != NONE_PLANNED
    return {
        **shown,
        "open": False,
        "label": None if planned else value_label(catalogue, question, answer.value, language),
        "colour": step.colour if step else None,
        "text": answer.text,
        "author": author_label(answer, language, report),
        "at": answer.answered_at,
        "revision": answer.revision,
    }
