"""The report of an import's problems, as CSV (UTF-8 with BOM, for Excel) or XLSX. Pure: no Flask,
no SQL. One line a problem; the first six columns are the report's since its first version, the
others follow them: severity, what the row was imported with, and where the child lives."""

from __future__ import annotations

import io
from collections.abc import Iterable

from server import spreadsheets
from server.imports.rows import SEVERITY_LABELS

REPORT_HEADER = ["行号", "列", "字段", "错误代码", "说明", "内容", "级别", "已按身份证号导入为", "姓名", "区镇",
                 "村(社区)"]


def _cells(problems: Iterable) -> Iterable[list]:
    for p in problems:
        yield [p.line, p.header or "", p.column or "", p.code, p.message, p.value or "",
               SEVERITY_LABELS[p.severity], p.imported_value or "", p.name or "", p.town or "", p.village or ""]


def as_csv(problems: Iterable) -> bytes:
    # The rows quote the file's own cells: a formula in the roster must not become one here.
    return spreadsheets.csv_bytes([REPORT_HEADER, *_cells(problems)])


def as_xlsx(problems: Iterable, title: str = "错误报告") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(REPORT_HEADER)
    for row in _cells(problems):
        sheet.append(spreadsheets.xlsx_row(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
