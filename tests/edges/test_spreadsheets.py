"""Spreadsheets the product writes keep text as text (issue 13 item 3)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from server.demo import files
from server.reports import service as reports
from tests.imports.conftest import file_bytes

HOSTILE = ['=HYPERLINK("http://evil.example/","点此核对")', "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def _formulas_in(xlsx: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        return [name for name in book.namelist()
                if name.startswith("xl/worksheets/") and (b"<f>" in book.read(name) or b"<f " in book.read(name))]


def test_the_import_report_writes_a_roster_formula_as_text(county, upload, city, client):
    rows = [["王小明", "男", "not-a-number", value, "汉", "地址", "海安", "村", "1组", f"H{i}", "王大", "子",
             "王大", "13800000000"] for i, value in enumerate(HOSTILE)]
    shown = upload(city, "roster", file_bytes(files.ROSTER_HEADER, rows))
    assert shown["status"] == "done"

    as_csv = client.get(f"/api/v1/imports/{shown['id']}/report?format=csv", headers=city)
    cells = [c for r in csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"), newline="")) for c in r]
    starts = [c for c in cells if c.lstrip("'").startswith(tuple("=+-@\t\r"))]
    assert starts and all(c.startswith("'") for c in starts), starts

    as_xlsx = client.get(f"/api/v1/imports/{shown['id']}/report?format=xlsx", headers=city)
    assert _formulas_in(as_xlsx.data) == []
    shown_cells = [c for r in load_workbook(io.BytesIO(as_xlsx.data)).active.iter_rows() for c in r]
    hyperlink = [c for c in shown_cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert hyperlink and all(c.data_type == "s" for c in hyperlink)


@pytest.mark.parametrize("name", HOSTILE)
def test_the_rates_export_writes_a_place_name_as_text(name):
    row = {f: 0 for f in ("code", *reports.COUNT_FIELDS, *reports.rates.TARGETS)} | {"name": name, "code": "1"}
    xlsx = reports.build_xlsx({"rows": [row], "total": row | {"name": "合计"}})
    assert _formulas_in(xlsx) == []
    sheet = load_workbook(io.BytesIO(xlsx)).active
    cell = sheet.cell(row=2, column=2)
    assert cell.value.strip() == name.strip() and cell.data_type == "s"  # XML keeps \r as \n
