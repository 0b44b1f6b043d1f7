"""The report of bad rows, as CSV (UTF-8 with BOM, for Excel) or XLSX. Pure: no Flask, no SQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

REPORT_HEADER = ["行号", "列", "字段", "错误代码", "说明", "内容"]


def _cells(problems: Iterable) -> Iterable[list]:
    for p in problems:
        yield [p.line, p.header or "", p.column or "", p.code, p.message, p.value or ""]


def as_csv(problems: Iterable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    writer.writerows(_cells(problems))
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(problems: Iterable, title: str = "错误报告") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(REPORT_HEADER)
    for row in _cells(problems):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
