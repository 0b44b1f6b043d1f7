"""Reading files and cells as bureaus write them: header variants, encodings, date spellings."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from server.imports import headers, reading, values


@pytest.mark.parametrize("header, field", [
    ("身份证号", "id_number"), ("公民身份号码", "id_number"), ("身份证件号", "id_number"),
    ("证件号码", "id_number"), ("村(社区)", "village"), ("村（社区）", "village"), ("村居", "village"),
    ("村", "village"), (" *姓名 ", "name"), ("户主姓名（必填）", "head_name"), ("\ufeff姓名", "name"),
])
def test_roster_header_variants_name_the_same_column(header, field):
    columns = headers.map_columns([header], "roster")
    assert columns.positions == {field: 0}


def test_register_headers_and_unknown_columns_are_reported():
    columns = headers.map_columns(["学生姓名", "身份证件号", "全国学籍号", "学校标识码", "年级", "学籍状态",
                                   "备注"], "register")
    assert set(columns.positions) == {"name", "id_number", "student_number", "school_code", "grade", "status"}
    assert columns.unknown == ["备注"]


@pytest.mark.parametrize("cell, expected", [
    ("男", "M"), ("女", "F"), ("M", "M"), ("f", "F"), ("1", "M"), ("2", "F"), (1, "M"), (2.0, "F"),
])
def test_gender_spellings(cell, expected):
    assert values.gender(cell) == expected


@pytest.mark.parametrize("cell", ["未知", "3", "X"])
def test_unknown_gender_is_refused(cell):
    with pytest.raises(ValueError):
        values.gender(cell)


@pytest.mark.parametrize("cell", [
    "2013-04-02", "2013/4/2", "20130402", "2013年4月2日", "2013.04.02", 20130402,
    dt.datetime(2013, 4, 2), dt.date(2013, 4, 2), 41366, "２０１３-04-02", "2013-04-02 00:00:00",
])
def test_date_spellings(cell):
    assert values.date(cell) == dt.date(2013, 4, 2)


@pytest.mark.parametrize("cell", ["2013-02-30", "13/4/2", "四月二日", "", None])
def test_impossible_or_unreadable_dates_are_refused(cell):
    with pytest.raises(ValueError):
        values.date(cell)


@pytest.mark.parametrize("cell, grade", [
    ("一年级", 1), ("六年级", 6), ("七年级", 7), ("初三", 9), ("9", 9), (3, 3), ("小学三年级", 3), ("8年级", 8),
])
def test_grade_spellings(cell, grade):
    assert values.grade(cell) == grade


def test_register_statuses():
    assert [values.register_status(s) for s in ("在读", "休学", "转出", "毕业", "辍学")] == [
        "attending", "suspended", "transferred_out", "graduated", "dropped_out"]
    with pytest.raises(ValueError):
        values.register_status("借读中")


ROSTER_TEXT = "姓名,性别,公民身份号码,村(社区)\n张三,男,320685201304020011,东村\n\n李四,女,320685201304020027,西村\n"


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("gb18030", "gb18030"),
])
def test_csv_encodings_are_detected(encoding, expected):
    table = reading.read_table("roster.csv", ROSTER_TEXT.encode(encoding), "roster")
    assert table.encoding == expected
    rows = list(table.rows)
    # Blank lines are skipped but the line numbers stay those a spreadsheet shows.
    assert [(line, cells[0]) for line, cells in rows] == [(2, "张三"), (4, "李四")]


def test_a_title_row_above_the_header_is_skipped():
    text = "海安市适龄儿童少年名单（2026年5月）,,,\n" + ROSTER_TEXT
    table = reading.read_table("roster.csv", text.encode("gb18030"), "roster")
    assert table.header_line == 2
    assert [line for line, _ in table.rows] == [3, 5]


def test_xlsx_date_cells_and_numbers():
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "公民身份号码", "出生日期", "组"])
    ws.append(["张三", "男", "320685201304020011", dt.datetime(2013, 4, 2), 3])
    out = io.BytesIO()
    wb.save(out)
    table = reading.read_table("roster.xlsx", out.getvalue(), "roster")
    (line, cells), = list(table.rows)
    assert table.file_format == "xlsx" and line == 2
    assert values.date(cells[3]) == dt.date(2013, 4, 2)
    assert values.text(cells[4]) == "3"


@pytest.mark.parametrize("content, code", [
    (b"", "import.empty_file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "import.unsupported_format"),
    (b"PK\x03\x04 not really a zip", "import.unreadable_file"),
    (b"a,b,c\n1,2,3\n", "import.no_header"),
])
def test_unreadable_files_have_a_stable_code(content, code):
    with pytest.raises(reading.FileProblem) as caught:
        reading.read_table("upload.csv", content, "roster")
    assert caught.value.code == code
