"""Issue 21: the PDF report is a tagged PDF/UA-1 file and passes the `pdfua` package's checks.

`pdfua` (PyPI, pikepdf underneath) checks a machine-decidable subset of PDF/UA-1 (ISO 14289-1):
structure tree, Marked, tagged content, language, figure alt text, table structure, annotations,
heading content, title and DisplayDocTitle, and the PDF/UA identification in XMP. A full audit
(veraPDF, PAC) remains a manual step; README's "Barrierefreiheit" says so.
"""

from __future__ import annotations

import io
from pathlib import Path

import pdfua
import pikepdf
import pytest
from pypdf import PdfReader
from test_reports import (
    CATALOGUE,
    NOW,
    TEMPLATES,
    Round,
    full_report,
    partial_report,
    record,
    round_,  # noqa: F401  (the fixture)
)

import storage
from bot.reports import report_file

EMOJI = "Flyer 📄 drucken 👍🏽"


def structure_types(pdf: pikepdf.Pdf) -> dict[str, list[pikepdf.Dictionary]]:
    """Collect the structure elements by type, walking the structure tree."""
    found: dict[str, list[pikepdf.Dictionary]] = {}

    def walk(node: object) -> None:
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary):
            if "/S" in node:
                found.setdefault(str(node.S), []).append(node)
            if "/K" in node:
                walk(node.K)

    walk(pdf.Root.StructTreeRoot.K)
    return found


@pytest.mark.parametrize(("language", "which"), [("de", "full"), ("en", "partial")])
async def test_pdf_report_passes_the_pdfua_checks(
    round_: Round,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    language: str,
    which: str,
) -> None:
    """No finding (error or warning) from pdfua's PDF/UA-1 rules, in either language."""
    report = await (full_report if which == "full" else partial_report)(round_)
    path = tmp_path / "report.pdf"
    path.write_bytes(report_file(report, CATALOGUE, TEMPLATES, language))
    result = pdfua.validate(str(path))
    assert [(f.rule_id, f.message) for f in result.findings] == []
    assert result.exit_code == 0


async def test_pdf_is_tagged_with_language_headers_and_chart_alt_text(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """What a screen reader needs, asserted directly: language, headings in order, table headers,
    the chart's alt text with its values, and the PDF/UA-1 claim in the metadata."""
    pdf = pikepdf.open(
        io.BytesIO(report_file(await full_report(round_), CATALOGUE, TEMPLATES, "de"))
    )
    assert str(pdf.Root.Lang) == "de" and bool(pdf.Root.MarkInfo.Marked)
    tags = structure_types(pdf)
    assert len(tags["/H1"]) == 1 and len(tags["/H2"]) == 1 + len(CATALOGUE.areas)
    assert len(tags["/H3"]) == len(CATALOGUE.requirements)
    assert len(tags["/TH"]) == 6 and tags["/THead"] and tags["/TD"]
    [figure] = tags["/Figure"]
    alt = str(figure.Alt)
    assert alt.startswith("Balkendiagramm") and all(a.title.de in alt for a in CATALOGUE.areas)
    with pdf.open_metadata() as meta:
        assert meta.get("{http://www.aiim.org/pdfua/ns/id/}part") == "1"


async def test_an_emoji_in_an_answer_does_not_stop_the_pdf(
    round_: Round,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """PDF/UA forbids text without a font; a member's emoji is left out, the report still comes
    as PDF/UA, and the words around it stay."""
    members = await storage.members_of(round_.db, (await full_report(round_)).institution.id)
    async with round_.db.transaction():
        await record(
            round_.db, round_.full_id, ("Z2", "potential"), "yes", EMOJI, members[0].id, NOW
        )
    path = tmp_path / "report.pdf"
    path.write_bytes(report_file(await full_report(round_), CATALOGUE, TEMPLATES, "de"))
    assert list(pdfua.validate(str(path)).findings) == []
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "Flyer drucken" in " ".join(text.split())
