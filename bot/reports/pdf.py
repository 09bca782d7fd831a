"""The full report of one check as an A4 PDF, typeset by Typst from report.typ.

Typst comes as a self-contained wheel (no system libraries) and writes tagged PDF/UA-1: a
structure tree in reading order, the language, real table headers and the chart's alt text.
Its embedded fonts are used, never the system's, so the PDF looks the same on every server.
"""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from bot.render.templates import Templates, round_name
from bot.render.views import words_only
from bot.reports.data import CheckReport
from bot.reports.disagreements import line as differing_line
from bot.reports.document import document_context
from bot.reports.labels import pdf_labels
from bot.reports.style import HEX
from dialogues.catalogue import Catalogue

SOURCE = Path(__file__).with_name("report.typ")
log = logging.getLogger(__name__)
PDF_STANDARDS: Final = "ua-1"  # a tagged, accessible PDF for BITV 2.0 (issue 21)


def report_pdf(
    report: CheckReport,
    catalogue: Catalogue,
    templates: Templates,
    language: str,
    chart_png: bytes,
    now: datetime | None = None,
    history: bytes | None = None,
) -> bytes:
    """Typeset the report of one check with its profile chart as an A4 PDF."""
    import typst

    data = _data(report, catalogue, templates, language, now or datetime.now(UTC))
    try:
        return _typeset(data, chart_png, history, PDF_STANDARDS)
    except typst.TypstError as exc:
        if "could not be displayed" not in str(exc):
            raise
    # PDF/UA forbids text the embedded fonts cannot show, such as an emoji in an answer. The
    # glyphs go (the HTML and XLSX keep them); should other characters lack a font, the PDF is
    # still tagged but without the PDF/UA claim, as a report must never fail to arrive.
    log.warning("the report has characters its PDF fonts lack; leaving out emoji and symbols")
    plain = _words_only(data)
    try:
        return _typeset(plain, chart_png, history, PDF_STANDARDS)
    except typst.TypstError as exc:
        if "could not be displayed" not in str(exc):
            raise
    log.warning("the report has characters its PDF fonts lack; writing it without PDF/UA")
    return _typeset(plain, chart_png, history, None)


def _typeset(
    data: dict[str, Any],
    chart_png: bytes,
    history: bytes | None,
    standards: Literal["ua-1"] | None,
) -> bytes:
    import typst

    with tempfile.TemporaryDirectory(prefix="chancencheck-report-") as folder:
        (Path(folder) / "chart.png").write_bytes(chart_png)
        if history is not None:
            (Path(folder) / "history.png").write_bytes(history)
        data["history"] = history is not None
        compiler = typst.Compiler(root=folder, ignore_system_fonts=True)
        pdf = compiler.compile(
            input=_source(),
            format="pdf",
            sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
            # PDF/UA-1: Typst then refuses to write a PDF without title, language or alt text,
            # and marks the file as PDF/UA (tests/test_accessibility_pdf.py checks it).
            pdf_standards=standards,
        )
    assert isinstance(pdf, bytes)  # one document, not one file per page
    return pdf


def _words_only(value: Any) -> Any:
    """Return the data with emoji and symbol glyphs taken out of every string."""
    if isinstance(value, str):
        return words_only(value)
    if isinstance(value, list):
        return [_words_only(item) for item in value]
    if isinstance(value, dict):
        return {key: _words_only(item) for key, item in value.items()}
    return value


@cache
def _source() -> bytes:
    return SOURCE.read_bytes()


def _data(
    report: CheckReport, catalogue: Catalogue, templates: Templates, language: str, now: datetime
) -> dict[str, Any]:
    """Turn the report into the plain strings and numbers the Typst source lays out."""
    context = document_context(report, catalogue, templates, language)
    words = pdf_labels(language)
    created = templates.when(now, language)
    title = f"{report.institution.name} ({report.institution.short})"
    return {
        "language": "de" if language == "de" else "en",
        "labels": words,
        "colours": HEX,
        "title": f"{context['catalogue_title']} – {title} – {words['round']} "
        f"{round_name(report.cycle.name)}",
        "catalogue_title": context["catalogue_title"],
        "kicker": _fill(words["kicker"], catalogue=context["catalogue_title"]),
        "institution": title,
        "footer": _fill(
            words["footer"],
            institution=report.institution.short,
            round=round_name(report.cycle.name),
            created=created,
        ),
        "facts": _facts(context, words, templates, language, created),
        "chart_caption": words["chart_caption"],
        "chart_alt": _chart_alt(words["chart_alt"], context["areas"], templates, language),
        "legend": words["legend"],
        "areas": [_area(area, words, templates, language) for area in context["areas"]],
        "disagreements": [
            f"{item['requirement_id']} {differing_line(item)}" for item in context["disagreements"]
        ],
        "changes": context["changes"],
        "plan": context["plan"],
    }


def _chart_alt(alt: str, areas: list[dict[str, Any]], templates: Templates, language: str) -> str:
    """Give the chart's alt text its values, as a screen reader cannot read the bars."""
    values = "; ".join(
        f"{a['title']} {a['score']} ({templates.label(language, 'light_' + a['colour'])})"
        for a in areas
    )
    return f"{alt}: {values}"


def _facts(
    context: dict[str, Any],
    words: dict[str, Any],
    templates: Templates,
    language: str,
    created: str,
) -> list[list[str]]:
    cycle = context["cycle"]
    deadline = cycle.deadline.strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d")
    return [
        [words["round"], round_name(cycle.name)],
        [words["deadline"], deadline],
        [words["status"], _status(context, words, templates, language)],
        [
            words["answered"],
            _fill(words["answered_value"], answered=context["answered"], total=context["total"]),
        ],
        [
            words["catalogue"],
            _fill(
                words["catalogue_value"],
                title=context["catalogue_title"],
                version=context["catalogue_version"],
            ),
        ],
        [words["created"], created],
    ]


def _status(
    context: dict[str, Any], words: dict[str, Any], templates: Templates, language: str
) -> str:
    submitted_at = context["submitted_at"]
    if submitted_at is None:  # a closed round's open check is simply "not submitted"
        closed = context["cycle"].closed_at is not None
        return str(words["not_submitted_closed" if closed else "not_submitted"])
    at = templates.when(submitted_at, language)
    if context["status"] != "submitted":
        return _fill(words["reopened"], at=at)
    by = context["submitted_by"]
    return _fill(words["submitted_by"], at=at, by=by) if by else _fill(words["submitted"], at=at)


def _area(
    area: dict[str, Any], words: dict[str, Any], templates: Templates, language: str
) -> dict[str, Any]:
    return {
        "title": area["title"],
        "colour": area["colour"],
        "light": templates.label(language, f"light_{area['colour']}"),  # the colour in words
        "score": area["score"],
        "rated": _fill(words["rated"], rated=area["rated"], count=area["count"]),
        "improvable": area["improvable"],
        "measures": area["measures"],
        "open": area["open"],
        "requirements": [_requirement(r, words, templates, language) for r in area["requirements"]],
    }


def _requirement(
    requirement: dict[str, Any], words: dict[str, Any], templates: Templates, language: str
) -> dict[str, Any]:
    return {
        "id": requirement["id"],
        "title": requirement["title"],
        "text": requirement["text"],
        "open": requirement["open"],
        "open_label": _fill(words["open_count"], count=requirement["open"]),
        "answers": [_answer(a, words, templates, language) for a in requirement["answers"]],
    }


def _answer(
    answer: dict[str, Any], words: dict[str, Any], templates: Templates, language: str
) -> dict[str, Any]:
    shown = {"question": answer["question"], "open": answer["open"]}
    if answer["open"]:
        return shown
    by = [answer["author"]] if answer["author"] else []
    by.append(templates.when(answer["at"], language))
    if answer["revision"] > 1:
        by.append(_fill(words["revision"], number=answer["revision"]))
    return {
        **shown,
        "label": answer["label"],
        "colour": answer["colour"],
        "text": answer["text"],
        "by": " · ".join(by),
    }


def _fill(text: str, **values: object) -> str:
    return text.format(**values)
