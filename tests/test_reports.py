"""The coordinators' reports: loaded from a real SQLite file, rendered as HTML, PNG, XLSX, CSV."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from PIL import Image

import storage
from bot.catalogue import load_catalogue
from bot.render.templates import Templates
from bot.reports import (
    CheckReport,
    area_scores,
    export_csv,
    export_rows,
    export_xlsx,
    heatmap_png,
    load_check_report,
    load_round_reports,
    profile_chart_png,
    report_html,
    traffic_light,
)
from bot.reports.export import COLUMNS, csv_safe

CATALOGUE = load_catalogue()
TZ = ZoneInfo("Europe/Berlin")
TEMPLATES = Templates(TZ)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Ludwigshafen
SCALE = ("full", "mostly", "partly", "not", "unknown")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REQUIREMENTS = CATALOGUE.requirements

# Texts that break naive renderers, each given once as an answer in ABH's check.
SCRIPT = '<script>alert("x")</script> & Co'
FORMULA = "=SUM(A1)"
COMMAND = "=cmd"
MENTION = "@Leitung informieren"
MULTILINE = 'Zeile 1\nZeile 2; mit "Anführungszeichen" und Ümlauten'
SPECIAL = {
    ("K1", "potential"): SCRIPT,
    ("K2", "measures"): FORMULA,
    ("K3", "potential"): COMMAND,
    ("P1", "potential"): MENTION,
    ("Z1", "measures"): MULTILINE,
}


@dataclass(frozen=True)
class Round:
    db: storage.Database
    cycle_id: int
    full_id: int  # ABH: every question answered, submitted
    partial_id: int  # VHS: four questions answered
    latecomer_id: int  # AAA: added after the round, so without a check in it


def full_answers() -> dict[tuple[str, str], tuple[str, str | None]]:
    """Return ABH's answers: the scale in turn, yes/no and measures alternating."""
    answers: dict[tuple[str, str], tuple[str, str | None]] = {}
    for i, r in enumerate(REQUIREMENTS):
        answers[r.id, "fulfilment"] = (SCALE[i % 5], None)
        potential = f"Potenzial {r.id}: größere Schrift für Ältere"
        answers[r.id, "potential"] = ("yes", potential) if i % 3 != 2 else ("no", None)
        measures = f"Maßnahme {r.id}: Flyer übersetzen, Team Ö, bis Mai"
        answers[r.id, "measures"] = ("planned", measures) if i % 2 == 0 else ("none", None)
    for key, text in SPECIAL.items():
        answers[key] = ("planned" if key[1] == "measures" else "yes", text)
    return answers


async def record(
    db: storage.Database,
    check_id: int,
    key: tuple[str, str],
    value: str,
    text: str | None,
    author: int,
    at: datetime,
) -> None:
    await storage.record_answer(
        db,
        check_id,
        storage.NewAnswer(*key, value, text, author, CATALOGUE.id, CATALOGUE.version),
        at,
    )


@pytest.fixture
async def round_(tmp_path: Path) -> AsyncIterator[Round]:
    db = await storage.open_database(tmp_path / "reports.sqlite3")
    async with db.transaction():
        cycle = await storage.open_cycle(
            db, "2026", CATALOGUE.id, CATALOGUE.version, date(2026, 3, 31), NOW
        )
        abh = await storage.add_institution(db, "ABH", "Ausländerbehörde", "code-abh", NOW)
        vhs = await storage.add_institution(db, "VHS", "Volkshochschule", "code-vhs", NOW)
        jorg = await storage.join_institution(db, 101, abh.id, "Jörg", "de", NOW)
        ayse = await storage.join_institution(db, 102, abh.id, "Ayşe", "de", NOW)
        eva = await storage.join_institution(db, 103, vhs.id, "Eva", "de", NOW)
        full = await storage.check_for(db, abh.id, cycle.id)
        partial = await storage.check_for(db, vhs.id, cycle.id)
        # Earlier revisions, replaced below: only the current answer may be reported.
        await record(db, full.id, ("K1", "fulfilment"), "not", None, jorg.id, NOW)
        await record(db, full.id, ("Z2", "potential"), "yes", "Alte Fassung", jorg.id, NOW)
        for n, (key, (value, text)) in enumerate(full_answers().items()):
            author = (jorg if n % 2 == 0 else ayse).id
            await record(db, full.id, key, value, text, author, NOW + timedelta(minutes=n))
        await storage.submit_check(db, full.id, jorg.id, NOW + timedelta(hours=2))
        await record(db, partial.id, ("Z1", "fulfilment"), "full", None, eva.id, NOW)
        await record(db, partial.id, ("Z2", "fulfilment"), "unknown", None, eva.id, NOW)
        await record(db, partial.id, ("Z3", "potential"), "no", None, eva.id, NOW)
        await record(db, partial.id, ("ZU1", "fulfilment"), "not", None, eva.id, NOW)
        await storage.close_cycle(db, cycle.id, NOW + timedelta(days=40))
        late = await storage.add_institution(db, "AAA", "Neues Amt", "code-aaa", NOW)
    try:
        yield Round(db, cycle.id, abh.id, vhs.id, late.id)
    finally:
        await db.close()


async def full_report(r: Round) -> CheckReport:
    return await load_check_report(r.db, r.full_id, r.cycle_id)


async def partial_report(r: Round) -> CheckReport:
    return await load_check_report(r.db, r.partial_id, r.cycle_id)


# -- data ----------------------------------------------------------------------------------------


async def test_round_reports_are_ordered_by_short_name_without_latecomers(round_: Round) -> None:
    reports = await load_round_reports(round_.db, round_.cycle_id)
    assert [r.institution.short for r in reports] == ["ABH", "VHS"]
    full, partial = reports
    assert len(full.answers) == 45 and full.check.status == "submitted"
    assert full.submitted_by == "Jörg"
    assert len(partial.answers) == 4 and partial.submitted_by is None
    with pytest.raises(storage.NotFoundError, match="AAA"):
        await load_check_report(round_.db, round_.latecomer_id, round_.cycle_id)


async def test_loading_reads_current_answers_only(round_: Round) -> None:
    report = await full_report(round_)
    assert report.answers["K1", "fulfilment"].value == SCALE[6 % 5]
    assert report.answers["K1", "fulfilment"].revision == 2
    assert report.answers["Z2", "potential"].text != "Alte Fassung"


async def test_missing_round_or_institution_is_not_found(round_: Round) -> None:
    with pytest.raises(storage.NotFoundError):
        await load_round_reports(round_.db, 999)
    with pytest.raises(storage.NotFoundError):
        await load_check_report(round_.db, 999, round_.cycle_id)


async def test_area_scores_leave_out_unknown_and_open(round_: Round) -> None:
    full = area_scores(await full_report(round_), CATALOGUE)
    # Z: 3, 2, 1 · ZU: 0, unknown, 3 · K: 2, 1, 0 · P: unknown, 3, 2 · B: 1, 0, unknown
    assert full == {"Z": 2.0, "ZU": 1.5, "K": 1.0, "P": 2.5, "B": 0.5}
    partial = area_scores(await partial_report(round_), CATALOGUE)
    # Z1 full, Z2 cannot judge, Z3 open: the mean is Z1's alone. ZU1 "not met" is a real 0.
    assert partial == {"Z": 3.0, "ZU": 0.0, "K": None, "P": None, "B": None}


@pytest.mark.parametrize(
    ("score", "colour"),
    [
        (3.0, "green"),
        (2.5, "green"),
        (2.49, "yellow"),
        (1.5, "yellow"),
        (1.49, "orange"),
        (0.5, "orange"),
        (0.49, "red"),
        (0.0, "red"),
        (None, "grey"),
    ],
)
def test_traffic_light_thresholds(score: float | None, colour: str) -> None:
    assert traffic_light(score) == colour


# -- HTML ----------------------------------------------------------------------------------------


async def test_html_report_shows_every_requirement_and_answer_once_escaped(round_: Round) -> None:
    html = report_html(await full_report(round_), CATALOGUE, TEMPLATES, "de", NOW).decode()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    for requirement in REQUIREMENTS:
        assert f'<span class="rid">{requirement.id}</span>' in html
        assert requirement.text("de") in html
    texts = [text for _, text in full_answers().values() if text]
    assert len(texts) == 10 + 8 + 2  # notes, measures, and two specials where "no"/"none" was
    for text in texts:
        assert html.count(str(escape(text))) == 1, text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Alte Fassung" not in html
    assert "OFFEN" not in html  # a complete check has no open question


async def test_html_report_names_status_authors_and_local_times(round_: Round) -> None:
    html = report_html(await full_report(round_), CATALOGUE, TEMPLATES, "de", NOW).decode()
    assert "Ausländerbehörde" in html and "Runde</dt><dd>2026" in html
    assert "31.03.2026" in html  # the deadline
    assert "abgesendet</span> am 01.03.2026, 12:00 von Jörg" in html
    # The first answer is Jörg's at 09:00 UTC, the second Ayşe's a minute later, shown in CET.
    assert "Jörg, 01.03.2026, 10:00" in html and "Ayşe, 01.03.2026, 10:01" in html
    assert "überwiegend erfüllt" in html and "Keine Maßnahmen geplant" in html
    assert "light-green" in html and "light-orange" in html
    assert "http://" not in html and "https://" not in html  # standalone: nothing external


async def test_html_report_marks_open_questions(round_: Round) -> None:
    report = await partial_report(round_)
    german = report_html(report, CATALOGUE, TEMPLATES, "de", NOW).decode()
    assert german.count("OFFEN – noch nicht beantwortet") == 45 - 4
    # The round is closed: its open check is "nicht abgesendet", no longer "noch" (issue 15).
    assert "nicht abgesendet" in german and "noch nicht abgesendet" not in german
    assert "nicht beurteilbar / trifft nicht zu" in german
    english = report_html(report, CATALOGUE, TEMPLATES, "en", NOW).decode()
    assert english.count("OPEN – not answered yet") == 45 - 4
    assert "cannot judge / does not apply" in english and "Eva, 2026-03-01 10:00" in english


# -- charts --------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
        return image.size


async def test_profile_chart_is_a_png_of_about_1000_by_700(round_: Round) -> None:
    for report in (await full_report(round_), await partial_report(round_)):
        for language in ("de", "en"):
            png = profile_chart_png(report, CATALOGUE, language)
            assert png_size(png) == (1000, 700)
            assert 10_000 < len(png) < 500_000


async def test_heatmap_grows_with_the_number_of_institutions(round_: Round) -> None:
    reports = await load_round_reports(round_.db, round_.cycle_id)
    small = png_size(heatmap_png(reports, CATALOGUE, "de"))
    empty = png_size(heatmap_png([], CATALOGUE, "en"))
    assert small[0] == empty[0] == 1000
    assert empty[1] < small[1] < 1000


async def test_heatmap_reads_a_hundred_institutions(tmp_path: Path) -> None:
    db = await storage.open_database(tmp_path / "many.sqlite3")
    try:
        async with db.transaction():
            cycle = await storage.open_cycle(
                db, "2027", CATALOGUE.id, CATALOGUE.version, date(2027, 3, 31), NOW
            )
            for n in range(100):
                institution = await storage.add_institution(
                    db, f"E{n:03d}", f"Amt {n}", f"code-{n}", NOW
                )
                check = await storage.check_for(db, institution.id, cycle.id)
                for i, requirement in enumerate(REQUIREMENTS[: n % 16]):
                    await record(
                        db,
                        check.id,
                        (requirement.id, "fulfilment"),
                        SCALE[(n + i) % 5],
                        None,
                        None,
                        NOW,
                    )
        started = time.perf_counter()
        reports = await load_round_reports(db, cycle.id)
        loaded = time.perf_counter()
        png = heatmap_png(reports, CATALOGUE, "de")
        drawn = time.perf_counter()
    finally:
        await db.close()
    print(f"100 institutions: loaded in {loaded - started:.2f} s, drawn in {drawn - loaded:.2f} s")
    width, height = png_size(png)
    assert len(reports) == 100 and width == 1000
    assert height >= 100 * 25  # every row keeps a readable height


# -- spreadsheets --------------------------------------------------------------------------------


async def test_export_rows_describe_every_answer(round_: Round) -> None:
    rows = export_rows([await full_report(round_)], CATALOGUE, "de", TZ)
    assert len(rows) == 45 and all(tuple(row) == COLUMNS for row in rows)
    first = rows[0]
    assert first["institution_short"] == "ABH" and first["institution"] == "Ausländerbehörde"
    assert first["round"] == "2026" and first["area_id"] == "Z"
    assert first["area"] == "Zielgruppen und Bedarfe" and first["requirement_id"] == "Z1"
    # German Excel users read labels, not keys; the score is a number beside the label.
    assert first["question_key"] == "Erfüllung" and first["value"] == "vollständig erfüllt"
    assert first["score"] == 3 and rows[1]["question_key"] == "Verbesserungspotenzial"
    assert rows[2]["question_key"] == "Maßnahmen" and rows[1]["score"] is None
    assert first["author"] == "Jörg" and first["answered_at"] == "2026-03-01T10:00:00+01:00"
    revised = next(r for r in rows if r["requirement_id"] == "Z2" and r["text"])
    assert revised["revision"] == 2 and revised["value"] == "Ja"
    assert [r["requirement_id"] for r in rows[::3]] == [r.id for r in REQUIREMENTS]


async def test_xlsx_holds_every_answer_and_keeps_formulas_as_text(round_: Round) -> None:
    reports = [await full_report(round_), await partial_report(round_)]
    book = load_workbook(io.BytesIO(export_xlsx(reports, CATALOGUE, "de", TZ)))
    assert book.sheetnames == [
        "Antworten je Frage",
        "Mittelwerte je Bereich",
        "Anforderungen je Einrichtung",
        "Maßnahmen",
    ]
    sheet = book["Antworten je Frage"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Kürzel", "Einrichtung", "Runde"] and len(header) == len(COLUMNS)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"  # two previous-round columns (issue 15) end in R
    # The header row is marked as such: an Excel table with a header (and its filter), and row 1
    # repeated on every printed page.
    [table] = sheet.tables.values()
    assert table.ref == f"A1:R{1 + 45 + 4}" and table.headerRowCount == 1
    assert sheet.print_title_rows == "$1:$1"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert sum(row[0] == "ABH" for row in rows) == 45
    texts = {row[COLUMNS.index("text")] for row in rows}
    assert {FORMULA, COMMAND, SCRIPT, MULTILINE} <= texts
    formula = next(
        row for row in sheet.iter_rows(min_row=2) if row[COLUMNS.index("text")].value == FORMULA
    )[COLUMNS.index("text")]
    assert formula.data_type == "s" and formula.quotePrefix
    answered_at = rows[0][COLUMNS.index("answered_at")]
    assert answered_at == datetime(2026, 3, 1, 10, 0)  # local time, as Excel keeps it
    assert sheet.column_dimensions["L"].width <= 62  # the long text column wraps


async def test_xlsx_has_one_row_per_institution_and_requirement(round_: Round) -> None:
    """The "Anforderungen" sheet puts each requirement's three answers side by side."""
    reports = [await full_report(round_), await partial_report(round_)]
    book = load_workbook(io.BytesIO(export_xlsx(reports, CATALOGUE, "de", TZ)))
    table = [
        [cell.value for cell in row] for row in book["Anforderungen je Einrichtung"].iter_rows()
    ]
    assert table[0][:7] == [
        "Kürzel",
        "Einrichtung",
        "Qualitätsbereich",
        "Anforderung-Nr.",
        "Qualitätsanforderung",
        "Erfüllung",
        "Punkte (0–3)",
    ]
    assert len(table) == 1 + 2 * 15
    z1 = table[1]
    assert z1[:2] == ["ABH", "Ausländerbehörde"] and z1[3] == "Z1"
    assert z1[5:8] == ["vollständig erfüllt", 3, "Ja"]
    assert z1[8] == "Potenzial Z1: größere Schrift für Ältere" and z1[9] == MULTILINE
    vhs_z3 = table[1 + 15 + 2]
    assert (
        vhs_z3[3] == "Z3"
        and vhs_z3[5] == "offen"
        and vhs_z3[6] == "keine Bewertung"
        and vhs_z3[7] == "Nein"
    )


async def test_xlsx_second_sheet_has_mean_scores_per_area(round_: Round) -> None:
    reports = await load_round_reports(round_.db, round_.cycle_id)
    book = load_workbook(io.BytesIO(export_xlsx(reports, CATALOGUE, "en", TZ)))
    assert book.sheetnames == [
        "Answers per question",
        "Mean scores per area",
        "Requirements per institution",
        "Measures",
    ]
    sheet = book["Mean scores per area"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0][-5:] == [area.title("en") for area in CATALOGUE.areas]
    assert table[1] == ["ABH", "Ausländerbehörde", "submitted", "45/45", 2.0, 1.5, 1.0, 2.5, 0.5]
    # The round is closed: an open check reads "not submitted" (issue 15), not "open".
    # No information in colour alone: a grey cell says "no rating" in words.
    no = "no rating"
    assert table[2] == ["VHS", "Volkshochschule", "not submitted", "4/45", 3.0, 0.0, no, no, no]
    fills = [cell.fill.fgColor.rgb for cell in sheet[3][-5:]]
    assert fills[:2] == ["FF2E7D32", "FFC62828"]  # green 3.0, red 0.0
    assert all(len(t.tableColumns) == len(table[0]) for t in sheet.tables.values())


async def test_csv_round_trips_with_bom_semicolons_and_formula_guard(round_: Round) -> None:
    reports = [await full_report(round_), await partial_report(round_)]
    data = export_csv(reports, CATALOGUE, "de", TZ)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert parsed[0][:2] == ["Kürzel", "Einrichtung"]
    rows = export_rows(reports, CATALOGUE, "de", TZ)
    for row in rows:  # German Excel reads "TT.MM.JJJJ HH:MM" as a date, an ISO time as text
        row["answered_at"] = datetime.fromisoformat(row["answered_at"]).strftime("%d.%m.%Y %H:%M")
    expected = [["" if row[c] is None else str(csv_safe(row[c])) for c in COLUMNS] for row in rows]
    assert parsed[1:] == expected and len(expected) == 45 + 4
    assert parsed[1][COLUMNS.index("answered_at")] == "01.03.2026 10:00"
    assert parsed[1][COLUMNS.index("score")] == "3"
    texts = [row[COLUMNS.index("text")] for row in parsed[1:]]
    assert MULTILINE in texts and "Ausländerbehörde" in parsed[1]
    assert f"'{COMMAND}" in texts and f"'{FORMULA}" in texts and f"'{MENTION}" in texts
    assert COMMAND not in texts


def test_csv_guard_leaves_plain_text_and_numbers_alone() -> None:
    assert csv_safe("Flyer übersetzen") == "Flyer übersetzen"
    assert csv_safe("-5 % Wartezeit") == "'-5 % Wartezeit"
    assert csv_safe("+49 621") == "'+49 621"
    assert csv_safe(2) == 2
