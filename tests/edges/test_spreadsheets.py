"""Spreadsheets the product writes keep text as text (issue 13 item 3)."""

from __future__ import annotations

import csv
import datetime as dt
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
    row = {f: 0 for f in ("code", *reports.COUNT_FIELDS, *reports.rates.TARGETS)} | {
        "name": name, "code": "1", "town_name": name}
    report = {"by": "village", "school_year": 2027, "rows": [row], "total": row | {"name": "合计"}}
    xlsx = reports.build_xlsx(report, name, name, dt.date(2027, 7, 2))
    assert _formulas_in(xlsx) == []
    sheet = load_workbook(io.BytesIO(xlsx)).active
    for cell in (sheet.cell(row=5, column=1), sheet.cell(row=5, column=3)):  # the town, the village
        assert cell.value.strip() == name.strip() and cell.data_type == "s"  # XML keeps \r as \n
    assert sheet["A1"].data_type == "s" and sheet["A2"].data_type == "s"


@pytest.mark.parametrize("name", HOSTILE)
def test_the_register_writes_names_as_text(name):
    line = {"number": 1, "town_name": name, "village_name": name, "group_name": name, "household_number": name,
            "name": name, "gender": "男", "birth_date": dt.date(2015, 1, 1), "id_number": "320685************",
            "guardian_name": name, "phone": name, "status": "辍学", "dropout_reason": f"其他：{name}",
            "case_step": "劝返中", "due_on": None, "overdue": False}
    xlsx = reports.register_xlsx([line], name, name, dt.date(2027, 7, 2))
    assert _formulas_in(xlsx) == []
    sheet = load_workbook(io.BytesIO(xlsx)).active
    names = [c for c in sheet[4] if isinstance(c.value, str) and c.value.strip() == name.strip()]
    assert len(names) == 7 and all(c.data_type == "s" for c in names)
