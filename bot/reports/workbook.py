"""Tables written as an Excel workbook with openpyxl: bold frozen header, filter, widths.

Each sheet's table is an Excel table with a header row, so that screen readers in Excel
announce the column title with every cell (BITV 2.0 / WCAG 1.3.1), and prints with row 1
repeated on every page.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from bot.reports.data import traffic_light
from bot.reports.formulas import looks_like_formula
from bot.reports.style import TEXT_ON, hex_colour

# Column widths in characters: wide enough to read, capped so that long answers wrap instead.
MIN_WIDTH, MAX_WIDTH = 8, 60
TIME_FORMAT = "yyyy-mm-dd hh:mm"
TIME_WIDTH = len("2026-03-01 10:00")
SCORE_FORMAT = "0.0"
# Named styles, registered once per workbook: assigning one by name is a cheap copy, while
# assigning fonts and alignments cell by cell made 60 000 cells take seconds.
HEADER, PLAIN, WRAPPED, TIME = "report header", "report plain", "report wrapped", "report time"


@dataclass(frozen=True)
class Sheet:
    """A table for one sheet: its first row is the header; columns given by 0-based index."""

    title: str
    table: Sequence[Sequence[Any]]
    wrapped: Sequence[int] = field(default_factory=tuple)  # long texts, wrapped in the cell
    times: Sequence[int] = field(default_factory=tuple)  # ISO times with offset
    scores: Sequence[int] = field(default_factory=tuple)  # mean scores, in traffic-light colours
    no_score: str = "–"  # written into a score cell without score, so grey is never all it says


def build(sheets: Sequence[Sheet]) -> bytes:
    """Return a workbook holding the sheets, in order, as XLSX bytes."""
    # Write-only: rows are streamed out as they are added. A workbook kept whole holds an
    # object per cell: some 30 MB more for a round of a hundred institutions, and slower.
    book = Workbook(write_only=True)
    _add_styles(book)
    for number, sheet in enumerate(sheets, start=1):
        _fill(book.create_sheet(sheet.title), sheet, f"Table{number}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _add_styles(book: Workbook) -> None:
    """Register the named styles of header, plain, wrapped and time cells."""
    top = Alignment(vertical="top")
    wrap = Alignment(vertical="top", wrap_text=True)
    book.add_named_style(NamedStyle(HEADER, font=Font(bold=True), alignment=wrap))
    book.add_named_style(NamedStyle(PLAIN, alignment=top))
    book.add_named_style(NamedStyle(WRAPPED, alignment=wrap))
    book.add_named_style(NamedStyle(TIME, alignment=top, number_format=TIME_FORMAT))


def _fill(worksheet: Any, sheet: Sheet, name: str) -> None:  # openpyxl's WriteOnlyWorksheet
    """Write the table: header, then the rows, each column formatted by its kind."""
    # A write-only sheet takes its settings before the first row.
    worksheet.freeze_panes = "A2"
    worksheet.print_title_rows = "1:1"
    with warnings.catch_warnings():  # "add table columns manually": _table does
        warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
        worksheet.add_table(_table(sheet, name))
    _size_columns(worksheet, sheet)
    header = []
    for title in sheet.table[0]:
        cell = WriteOnlyCell(worksheet)
        cell.style = HEADER
        set_value(cell, title)
        header.append(cell)
    worksheet.append(header)
    styles = [_style(sheet, index) for index in range(len(sheet.table[0]))]
    for values in sheet.table[1:]:
        row = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(worksheet)
            cell.style = styles[index]
            if index in sheet.times:
                # A real date cell sorts and filters as a time; Excel has no time zones.
                cell.value = local_datetime(value)
            else:
                set_value(cell, value)
            if index in sheet.scores:
                colour_score(cell, value)
                if value is None:
                    cell.value = sheet.no_score
            row.append(cell)
        worksheet.append(row)


def _table(sheet: Sheet, name: str) -> Table:
    """Mark the sheet's range as an Excel table whose first row is the header (with filters)."""
    # A table needs a data row; an empty sheet's range takes in the blank row below its header.
    last = get_column_letter(len(sheet.table[0]))
    table = Table(displayName=name, ref=f"A1:{last}{max(len(sheet.table), 2)}", headerRowCount=1)
    # Write-only sheets do not read the columns from the header cells: Excel wants them listed,
    # named exactly as the header cells say.
    table.tableColumns = [
        TableColumn(id=number, name=str(title))
        for number, title in enumerate(sheet.table[0], start=1)
    ]
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    return table


def _style(sheet: Sheet, index: int) -> str:
    """Return the named style of a column."""
    if index in sheet.times:
        return TIME
    return WRAPPED if index in sheet.wrapped else PLAIN


def set_value(cell: Cell, value: Any) -> None:
    """Store a value; text always as text, never as a formula."""
    if not isinstance(value, str):
        cell.value = value
        return
    # openpyxl makes any text starting with "=" a formula and refuses control characters. An
    # answer is text: it is cleaned and its type forced to string, and the quote prefix keeps
    # Excel from reading it as a formula when someone edits the cell.
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value) or None  # "" is an empty cell
    if looks_like_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def colour_score(cell: Cell, score: float | None) -> None:
    """Fill a mean-score cell with its traffic-light colour and show one decimal."""
    colour = traffic_light(score)
    cell.fill = PatternFill("solid", fgColor=_argb(hex_colour(colour)))
    cell.font = Font(color=_argb(TEXT_ON[colour]))
    cell.number_format = SCORE_FORMAT


def local_datetime(iso: str) -> datetime:
    """Return an ISO time with offset as the naive local time Excel stores."""
    return datetime.fromisoformat(iso).replace(tzinfo=None)


def _argb(hex_code: str) -> str:
    """Return "#43a047" as Excel's "FF43A047"."""
    return "FF" + hex_code.removeprefix("#").upper()


def _size_columns(worksheet: Any, sheet: Sheet) -> None:
    """Set each column's width to its longest line, within MIN_WIDTH and MAX_WIDTH."""
    for index in range(len(sheet.table[0])):
        if index in sheet.times:
            longest = max(TIME_WIDTH, _width(sheet.table[0][index]))
        else:
            longest = max(_width(row[index]) for row in sheet.table)
        width = max(MIN_WIDTH, min(MAX_WIDTH, longest + 2))
        worksheet.column_dimensions[get_column_letter(index + 1)].width = width


def _width(value: object) -> int:
    """Return the length of a value's longest line, as Excel shows it."""
    if value is None:
        return 0
    return max((len(line) for line in str(value).splitlines()), default=0)
