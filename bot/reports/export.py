"""The answers of a round as rows, and as an Excel workbook or a CSV file for coordinators."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.data import CheckReport, area_scores
from bot.reports.disagreements import items as differing_views
from bot.reports.disagreements import line as differing_line
from bot.reports.formulas import looks_like_formula
from bot.reports.labels import author_label, column_labels, label, value_label
from bot.reports.measures import sheet as measures_sheet
from bot.reports.workbook import Sheet, build
from dialogues.catalogue import AnswerKind, Catalogue, Question, Requirement
from storage import StoredAnswer

COLUMNS = (
    "institution_short",
    "institution",
    "round",
    "area_id",
    "area",
    "requirement_id",
    "requirement",
    "question_key",
    "question",
    "value",
    "score",
    "previous_value",
    "previous_score",
    "text",
    "author",
    "answered_at",
    "revision",
    "disagreements",
)
# The sheet coordinators read first: one row per institution and requirement, the three
# answers side by side.
REQUIREMENT_COLUMNS = (
    "institution_short",
    "institution",
    "area",
    "requirement_id",
    "requirement",
    "fulfilment",
    "score",
    "potential",
    "potential_text",
    "measures",
    "disagreements",
)
# German Excel expects ";" as the CSV separator (the comma is the decimal separator), and reads
# a file as UTF-8 only when it starts with a byte-order mark; without it umlauts break.
CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"
# Long texts wrap in Excel.
WRAPPED = ("institution", "requirement", "question", "text", "disagreements")


def export_rows(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Return one row per current answer, keyed by COLUMNS, in catalogue order."""
    return [row for report in reports for row in _report_rows(report, catalogue, language, tz)]


def _report_rows(
    report: CheckReport, catalogue: Catalogue, language: str, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Return the rows of one check: catalogue questions first, then any unknown to it."""
    order = [(r.id, q.key) for r in catalogue.requirements for q in catalogue.questions]
    # Answers to requirements a newer catalogue dropped are exported too, after the rest.
    known = set(order)
    unknown = [key for key in report.answers if key not in known]
    return [
        _row(report, catalogue, report.answers[key], language, tz)
        for key in [*order, *unknown]
        if key in report.answers
    ]


def _row(
    report: CheckReport,
    catalogue: Catalogue,
    answer: StoredAnswer,
    language: str,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """Describe one answer with its institution, round, area, requirement and question."""
    requirement_id, key = answer.requirement_id, answer.question_key
    question = _question(catalogue, requirement_id, key)
    try:
        area = catalogue.area_of(requirement_id)
        area_id, area_title = area.id, area.title(language)
        requirement_title = catalogue.requirement(requirement_id).title(language)
    except KeyError:
        area_id, area_title, requirement_title = "", "", ""
    return {
        "institution_short": report.institution.short,
        "institution": report.institution.name,
        "round": report.cycle.name,
        "area_id": area_id,
        "area": area_title,
        "requirement_id": requirement_id,
        "requirement": requirement_title,
        "question_key": question_label(question, language) if question else key,
        "question": question.text(language) if question else "",
        "value": value_label(catalogue, question, answer.value, language)
        if question
        else answer.value,
        "score": _score(catalogue, question, answer.value),
        **_previous(report, catalogue, question, answer, language),
        "text": answer.text or "",
        "author": author_label(answer, language, report),
        "answered_at": answer.answered_at.astimezone(tz).isoformat(timespec="seconds"),
        "revision": answer.revision,
        "disagreements": _differing(report, catalogue, language, requirement_id, key),
    }


def _differing(
    report: CheckReport, catalogue: Catalogue, language: str, requirement_id: str, key: str | None
) -> str:
    """Describe how members' views of a question (or, without key, a requirement) differed."""
    found = [
        item
        for item in differing_views(report, catalogue, language)
        if item["requirement_id"] == requirement_id
        and (key is None or item["number"] == _number(catalogue, key))
    ]
    return "\n".join(differing_line(item) for item in found)


def _number(catalogue: Catalogue, key: str) -> int:
    keys = [q.key for q in catalogue.questions]
    return keys.index(key) + 1 if key in keys else 0


def _previous(
    report: CheckReport,
    catalogue: Catalogue,
    question: Question | None,
    answer: StoredAnswer,
    language: str,
) -> dict[str, Any]:
    """Return the same question's answer in the round before, beside this round's."""
    if report.cycle.previous_deleted:
        return {"previous_value": label(language, "previous_deleted"), "previous_score": None}
    before = report.previous.answers.get(_key(answer)) if report.previous else None
    if before is None or question is None:
        return {"previous_value": "", "previous_score": None}
    return {
        "previous_value": value_label(catalogue, question, before.value, language),
        "previous_score": _score(catalogue, question, before.value),
    }


def _key(answer: StoredAnswer) -> tuple[str, str]:
    return (answer.requirement_id, answer.question_key)


def question_label(question: Question, language: str) -> str:
    """Return the question's short German or English label by its kind, e.g. "Erfüllung"."""
    return str(label(language, f"question_{question.kind.value}"))


def _score(catalogue: Catalogue, question: Question | None, value: str) -> int | None:
    """Return a rating's score (3 = fully met … 0), None for other answers and "cannot judge"."""
    if question is None or question.kind is not AnswerKind.RATING:
        return None
    step = catalogue.step(value)
    return step.score if step else None


def _question(catalogue: Catalogue, requirement_id: str, key: str) -> Question | None:
    """Return the question as asked for the requirement, or None if the catalogue lacks it."""
    try:
        return catalogue.question(requirement_id, key)
    except (KeyError, StopIteration):
        return None


def header(language: str) -> list[str]:
    """Return the column headers in the language."""
    labels = column_labels(language)
    return [labels[column] for column in COLUMNS]


def export_csv(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str, tz: ZoneInfo
) -> bytes:
    """Return the answers as a CSV file that German Excel opens correctly."""
    buffer = io.StringIO(newline="")
    # Quoting is minimal but complete: fields with ";", quotes or line breaks are quoted and
    # inner quotes doubled, so multi-line answers stay one field.
    writer = csv.writer(
        buffer, delimiter=CSV_DELIMITER, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerow(header(language))
    for row in export_rows(reports, catalogue, language, tz):
        row["answered_at"] = csv_time(row["answered_at"], language)
        writer.writerow([csv_safe(row[column]) for column in COLUMNS])
    return buffer.getvalue().encode(CSV_ENCODING)


def csv_time(iso: str, language: str) -> str:
    """Write a local time as German Excel reads it as a date: TT.MM.JJJJ HH:MM."""
    moment = datetime.fromisoformat(iso)
    return moment.strftime("%d.%m.%Y %H:%M" if language == "de" else "%Y-%m-%d %H:%M")


def csv_safe(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    # The apostrophe is Excel's own "this is text" mark; numbers stay numbers.
    if looks_like_formula(value):
        return f"'{value}"
    return value


def status_key(report: CheckReport) -> str:
    """Return "submitted", "open", or "unsubmitted" for an open check of a closed round."""
    if report.check.status == "open" and report.cycle.closed_at is not None:
        return "unsubmitted"
    return report.check.status


def mean_rows(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str
) -> list[list[Any]]:
    """Return a table of the mean score per institution and area, with a header row."""
    head = [
        column_labels(language)["institution_short"],
        column_labels(language)["institution"],
        label(language, "status"),
        label(language, "answered"),
    ]
    head += [area.title(language) for area in catalogue.areas]
    total = len(catalogue.requirements) * len(catalogue.questions)
    rows: list[list[Any]] = [head]
    for report in reports:
        scores = area_scores(report, catalogue)
        status = label(language, f"status_{status_key(report)}")
        rows.append(
            [
                report.institution.short,
                report.institution.name,
                status,
                f"{len(report.answers)}/{total}",
                *[_rounded(scores[area.id]) for area in catalogue.areas],
            ]
        )
    return rows


def _rounded(score: float | None) -> float | None:
    """Round a mean to two decimals; the sheet shows one."""
    return None if score is None else round(score, 2)


def export_xlsx(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str, tz: ZoneInfo
) -> bytes:
    """Return an Excel workbook: every answer on one sheet, mean scores per area on a second."""
    reports = list(reports)
    rows = export_rows(reports, catalogue, language, tz)
    answers = [header(language), *([row[column] for column in COLUMNS] for row in rows)]
    wrapped = [COLUMNS.index(column) for column in WRAPPED]
    times = [COLUMNS.index("answered_at")]
    scores = mean_rows(reports, catalogue, language)
    first_score = len(scores[0]) - len(catalogue.areas)
    by_requirement = requirement_rows(reports, catalogue, language)
    return build(
        [
            Sheet(label(language, "answers_sheet"), answers, wrapped=wrapped, times=times),
            Sheet(
                label(language, "scores_sheet"),
                scores,
                scores=list(range(first_score, len(scores[0]))),
                no_score=label(language, "no_score"),
            ),
            Sheet(
                label(language, "requirements_sheet"),
                by_requirement,
                wrapped=[
                    REQUIREMENT_COLUMNS.index(c)
                    for c in ("requirement", "potential_text", "measures", "disagreements")
                ],
                scores=[REQUIREMENT_COLUMNS.index("score")],
                no_score=label(language, "no_score"),
            ),
            measures_sheet([row for r in reports for row in r.plan], language, tz),
        ]
    )


def requirement_rows(
    reports: Iterable[CheckReport], catalogue: Catalogue, language: str
) -> list[list[Any]]:
    """Return one row per institution and requirement with its three answers side by side."""
    names = column_labels(language)
    rows: list[list[Any]] = [[names[column] for column in REQUIREMENT_COLUMNS]]
    kinds = {q.kind: q for q in catalogue.questions}
    for report in reports:
        for area in catalogue.areas:
            for requirement in area.requirements:
                answers = {
                    kind: report.answers.get((requirement.id, q.key)) for kind, q in kinds.items()
                }
                rows.append(
                    _requirement_row(
                        report,
                        catalogue,
                        language,
                        area.title(language),
                        requirement,
                        answers,
                        kinds,
                    )
                )
    return rows


def _requirement_row(
    report: CheckReport,
    catalogue: Catalogue,
    language: str,
    area: str,
    requirement: Requirement,
    answers: dict[AnswerKind, StoredAnswer | None],
    kinds: dict[AnswerKind, Question],
) -> list[Any]:
    def shown(kind: AnswerKind) -> str:
        answer = answers.get(kind)
        if answer is None:
            return str(label(language, "open"))
        return value_label(catalogue, kinds[kind], answer.value, language)

    rating, potential = answers.get(AnswerKind.RATING), answers.get(AnswerKind.YES_NO)
    measures = answers.get(AnswerKind.MEASURES)
    return [
        report.institution.short,
        report.institution.name,
        area,
        requirement.id,
        requirement.title(language),
        shown(AnswerKind.RATING),
        _score(catalogue, kinds.get(AnswerKind.RATING), rating.value) if rating else None,
        shown(AnswerKind.YES_NO),
        (potential.text or "") if potential else "",
        (measures.text or shown(AnswerKind.MEASURES)) if measures else shown(AnswerKind.MEASURES),
        _differing(report, catalogue, language, requirement.id, None),
    ]
