"""The PDF report and the phone-ready HTML report, read back from what they contain."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_reports import (
    CATALOGUE,
    TEMPLATES,
    Round,
    full_answers,
    full_report,
    partial_report,
    round_,  # noqa: F401  (the fixture)
)

from bot.cli.entry import report_format
from bot.reports import report_file


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_pdf_names_institution_every_requirement_and_the_measures(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """The PDF coordinators open on a phone carries the whole report as selectable text."""
    pdf = report_file(await full_report(round_), CATALOGUE, TEMPLATES, "de")
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Ausländerbehörde (ABH)" in text
    for requirement in CATALOGUE.requirements:
        assert requirement.id in text, requirement.id
    measures = [
        text
        for (_, key), (value, text) in full_answers().items()
        if key == "measures" and value == "planned"
    ]
    assert len(measures) >= 8
    for measure in measures:
        assert measure.split("\n")[0] in text, measure
    assert '<script>alert("x")</script>' in text  # shown as typed, not interpreted
    assert "Seite 1 von" in text and "Runde 2026" in text  # the footer: page, round, date
    assert "überwiegend erfüllt" in text


async def test_pdf_embeds_the_chart_and_speaks_english(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """The English PDF is English and carries the profile chart as an image."""
    pdf = report_file(await partial_report(round_), CATALOGUE, TEMPLATES, "en")
    reader = PdfReader(io.BytesIO(pdf))
    assert any(page.images for page in reader.pages), "the profile chart is embedded"
    text = pdf_text(pdf)
    assert "Volkshochschule (VHS)" in text and "Page 1 of" in text
    # The round is closed: its open check is "not submitted", no longer "yet" (issue 15).
    assert "OPEN – not answered yet" in text and "Status not submitted\n" in text


async def test_html_report_embeds_the_chart_and_fits_a_phone(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """The HTML report is one file with its chart, and its table wraps at phone width."""
    html = report_file(await full_report(round_), CATALOGUE, TEMPLATES, "de", "html").decode()
    assert '<img src="data:image/png;base64,iVBORw0KGgo' in html
    assert '<div class="table-wrap" role="region"' in html and '<table class="summary">' in html
    assert "@media (max-width: 36rem)" in html and "overflow-x: auto" in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize(
    ("chosen", "out", "expected"),
    [
        ("html", Path("r.pdf"), "html"),
        (None, Path("r.HTML"), "html"),
        (None, Path("r.pdf"), "pdf"),
        (None, None, "pdf"),
    ],
)
def test_report_format_from_option_then_extension_then_pdf(
    chosen: str | None, out: Path | None, expected: str
) -> None:
    """`report --format` wins, then --out's extension, then PDF."""
    assert report_format(chosen, out) == expected
