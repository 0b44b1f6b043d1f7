"""Spreadsheets formatted as a county sends them: a title with the campaign and the date, a
header that stays on screen and on every printed page, column widths, real number formats
(percentages and dates, not floats and ISO strings) and the misses marked. Pure: no Flask, no SQL.

Every string goes through server/spreadsheets.py (text stays text, never a formula).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from server import spreadsheets

BEIJING = ZoneInfo("Asia/Shanghai")
PERCENT = "0.00%"
DATE = "yyyy年m月d日"
# Excel's own "bad" style (light red fill, dark red text): what a clerk recognises as a miss.
MISS_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
# Song (宋体), the face of official tables; Excel and LibreOffice map it to the CJK serif they have.
FONT = "宋体"
MISS_FONT = Font(name=FONT, color="9C0006", bold=True)
HEADER_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
EMPTY = "—"


def beijing_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Beijing: a report built at 01:00 Beijing time (17:00 UTC) bears that day."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(BEIJING).date()


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    kind: str = "text"  # text, int, percent, date


@dataclass(frozen=True)
class Table:
    title: str
    lines: tuple[str, ...]  # under the title: scope, date, targets
    columns: tuple[Column, ...]
    rows: list[dict]
    # (row, column key) -> whether the cell is a miss (marked red)
    miss: Callable[[dict, str], bool] | None = None
    bold_rows: frozenset[int] = frozenset()  # indexes into rows (a total)
    notes: tuple[str, ...] = ()  # under the table: definitions
    frozen_columns: int = 0  # columns kept on screen when scrolling right (names)


FORMATS = {"percent": PERCENT, "date": DATE, "int": "0", "text": "General"}


class _Styles:
    """The body cells' styles, one named style per (kind, empty, bold, miss) registered once in
    the workbook. Setting font, border, fill and format cell by cell made openpyxl index each
    one: the full demo county's register (1,255 children, 19,000 cells) took 0.9-1.8 s, nearly
    all of it style bookkeeping; with named styles about 0.45 s."""

    def __init__(self, workbook):
        self.workbook, self.names = workbook, {}

    def name(self, kind: str, empty: bool, bold: bool, miss: bool) -> str:
        key = (kind, empty, bold, miss)
        if key not in self.names:
            style = NamedStyle(name="notoneless-" + "-".join(str(k) for k in key), border=BOX,
                               font=MISS_FONT if miss else Font(name=FONT, bold=bold),
                               number_format="General" if empty else FORMATS[kind])
            if miss:
                style.fill = MISS_FILL
            if empty:
                style.alignment = Alignment(horizontal="center")
            self.workbook.add_named_style(style)
            self.names[key] = style.name
        return self.names[key]


def _set(cell, value, kind: str, styles: _Styles, bold: bool, miss: bool) -> None:
    empty = value is None or value == ""
    if empty:
        cell.value = EMPTY if kind in ("percent", "int", "date") else None
    else:
        cell.value = value
        spreadsheets.keep_text([cell])
    cell.style = styles.name(kind, empty, bold, miss)


def write(sheet: Worksheet, table: Table) -> None:
    """Lay `table` out on `sheet`: title, lines, header (frozen), rows, notes."""
    width = len(table.columns)
    last = get_column_letter(width)
    sheet.append([table.title])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(name=FONT, bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 30
    spreadsheets.keep_text([sheet["A1"]])
    for line in table.lines:
        sheet.append([line])
        row = sheet.max_row
        sheet.merge_cells(f"A{row}:{last}{row}")
        sheet.cell(row, 1).alignment = Alignment(horizontal="left")
        sheet.cell(row, 1).font = Font(name=FONT)
        spreadsheets.keep_text([sheet.cell(row, 1)])

    header_row = sheet.max_row + 1
    for i, column in enumerate(table.columns, start=1):
        cell = sheet.cell(header_row, i, column.header)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    sheet.row_dimensions[header_row].height = 32

    styles = _Styles(sheet.parent)
    for index, row in enumerate(table.rows):
        r = header_row + 1 + index
        bold = index in table.bold_rows
        for i, column in enumerate(table.columns, start=1):
            miss = table.miss is not None and table.miss(row, column.key)
            _set(sheet.cell(r, i), row.get(column.key), column.kind, styles, bold, miss)

    # The header and the name columns stay on screen, and the header heads every printed page.
    sheet.freeze_panes = sheet.cell(header_row + 1, table.frozen_columns + 1).coordinate
    sheet.print_title_rows = f"{header_row}:{header_row}"
    if table.rows:
        sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + len(table.rows)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    if table.notes:
        sheet.append([])
    for note in table.notes:
        sheet.append([note])
        row = sheet.max_row
        sheet.merge_cells(f"A{row}:{last}{row}")
        sheet.cell(row, 1).font = Font(name=FONT, size=9, color="595959")
        spreadsheets.keep_text([sheet.cell(row, 1)])


def book(sheets: Iterable[tuple[str, Table]]) -> bytes:
    """An XLSX of one sheet per (sheet name, table)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, table in sheets:
        write(workbook.create_sheet(name), table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
