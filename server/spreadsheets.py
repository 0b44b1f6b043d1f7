"""Text written into a spreadsheet stays text (CSV injection, OWASP).

A roster cell `=HYPERLINK("http://…","点此")` that the report of bad rows copies back would be
a live formula (or link) in the clerk's Excel; a cell beginning with `+ - @`, a tab or a
carriage return is read as one too. Every spreadsheet the product writes goes through here.
Pure: no Flask, no SQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    """A CSV cell: text that a spreadsheet would take for a formula gets a leading apostrophe
    (Excel hides it and shows the text); numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_cell(sheet, value):
    """An XLSX cell for a write-only sheet: every string is a string cell, never a formula
    (openpyxl writes a string beginning with `=` as a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def xlsx_row(sheet, values: Iterable) -> list:
    return [xlsx_cell(sheet, v) for v in values]


def keep_text(cells: Iterable) -> None:
    """Make the strings of a (normal workbook's) appended row text cells, never formulas."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def csv_bytes(rows: Iterable[Iterable], encoding: str = "utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return out.getvalue().encode(encoding)
