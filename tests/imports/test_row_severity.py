"""Issue 15, item 9: errors and warnings told apart, the ID number authoritative.

A roster row whose ID number is valid but whose birth-date or gender cell disagrees with it (or
cannot be read, or names a day that does not exist) used to be dropped, and the child was then in
no campaign at all. It is imported with the number's birth date and gender and reported as a
warning naming the row, the column, what the file said, what was imported, and where the child
lives; a row left out is an error. An impossible date is called impossible.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from server.imports import rows, service, values
from server.imports.headers import map_columns
from server.people import id_number
from server.people.models import Child
from server.people.protection import IdNumberVault
from tests.imports.conftest import file_bytes

HEADER = ["姓名", "性别", "公民身份号码", "出生日期", "区镇", "村(社区)", "户号"]


def _number(born: dt.date, male: bool, k: int) -> str:
    return id_number.make("320685", born, 100 + 2 * k + (1 if male else 0))


@pytest.mark.parametrize("cell", ["2015-02-30", "2015-13-01", "20151301", "2015年2月30日", "2015/2/29",
                                  "2015-00-10", "2015-02-30 08:00"])
def test_a_readable_spelling_of_a_day_that_does_not_exist_is_impossible(cell):
    with pytest.raises(values.ImpossibleDate):
        values.date(cell)


@pytest.mark.parametrize("cell", ["明年春天", "2015-03", "15/3/4", "2015-3-4-1", "--"])
def test_an_unreadable_date_is_not_called_impossible(cell):
    with pytest.raises(ValueError) as raised:
        values.date(cell)
    assert not isinstance(raised.value, values.ImpossibleDate)


def test_the_parser_imports_a_disagreeing_row_with_the_numbers_facts_and_a_located_warning():
    places = rows.PlaceIndex.build([("320685100000", "城东镇")], [("320685100201", "320685100000", "新桥村")])
    parser = rows.RosterParser(map_columns(["姓名", "性别", "公民身份号码", "出生日期", "村(社区)代码"], "roster"),
                               places)
    number = _number(dt.date(2015, 3, 4), True, 1)

    row, problems = parser.parse(7, ["张三", "女", number, "2015/4/3", "320685100201"])

    assert row is not None and (row.birth_date, row.gender) == (dt.date(2015, 3, 4), "M")
    assert [(p.line, p.column, p.code, p.severity, p.value, p.imported_value) for p in problems] == [
        (7, "birth_date", "id_number.birth_date_mismatch", "warning", "2015/4/3", "2015-03-04"),
        (7, "gender", "id_number.gender_mismatch", "warning", "女", "男"),
    ]
    # The file named the village by its code only: the bureau reads the place's names.
    assert {(p.name, p.town, p.village) for p in problems} == {("张三", "城东镇", "新桥村")}
    assert "出生日期列为 2015-04-03，身份证号为 2015-03-04" in problems[0].message
    assert "性别列为 女，身份证号为 男" in problems[1].message

    # The same cells beside a broken number are errors: the row stays out.
    broken = number[:17] + ("0" if number[17] != "0" else "1")
    row, problems = parser.parse(8, ["李四", "女", broken, "2015-02-30", "320685100201"])
    assert row is None
    assert {(p.column, p.code, p.severity) for p in problems} == {
        ("id_number", "id_number.check_digit", "error"), ("birth_date", "date.impossible", "error"),
        ("id_number", "id_number.gender_mismatch", "error")}


def test_a_problem_stored_before_severities_reads_as_an_error_without_a_place():
    old = {"line": 3, "column": "id_number", "header": "公民身份号码", "code": "id_number.check_digit",
           "message": "身份证号校验码错误", "value": "320685************"}
    shown = service.problem_shown("city", old)
    assert shown["severity"] == "error"
    assert (shown["name"], shown["town"], shown["village"], shown["imported_value"]) == (None, None, None, None)


@pytest.fixture
def place(county):
    village = county.villages[0]
    town = next(t for t in county.towns if t.code == village.town_code)
    return town.name, village.name


def _the_file(place):
    town, village = place
    born = dt.date(2015, 3, 4)
    n = [_number(born, k % 2 == 0, k) for k in range(9)]
    broken = n[6][:17] + ("0" if n[6][17] != "0" else "1")
    return n, [
        ["甲", "男", n[0], "2015/4/3", town, village, "S-1"],     # 2 birth date disagrees
        ["乙", "男", n[1], "2015-03-04", town, village, "S-2"],   # 3 gender disagrees (n[1] is a girl's)
        ["丙", "女", n[2], "2016-01-01", town, village, "S-3"],   # 4 both disagree
        ["丁", "女", n[3], "2015-02-30", town, village, "S-4"],   # 5 impossible date
        ["戊", "男", n[4], "明年春天", town, village, "S-5"],      # 6 unreadable date
        ["己", "", n[5], "2015-03-04", town, village, "S-6"],      # 7 gender blank
        ["庚", "男", broken, "2015-13-01", town, village, "S-7"],  # 8 broken number, impossible date
        ["辛", "女", n[7], "2015-03-04", town, "无此村", "S-8"],    # 9 unknown village
        ["壬", "男", n[8], "2015-03-04", town, village, "S-9"],    # 10 clean
        ["癸", "男", n[0], "2015-03-04", town, village, "S-10"],   # 11 甲's number again
    ]


def test_warned_rows_are_imported_with_the_id_numbers_facts_and_errors_are_told_apart(
        county, place, upload, city, client, session, vault: IdNumberVault):
    numbers, lines = _the_file(place)
    shown = upload(city, "roster", file_bytes(HEADER, lines))

    summary = shown["summary"]
    assert (summary["rows"], summary["rows_ok"], summary["rows_bad"], summary["rows_warned"]) == (10, 7, 3, 6)
    assert (summary["errors"], summary["warnings"], summary["problems"]) == (4, 7, 11)
    assert summary["children_created"] == 7 and summary["mode"] == "full"
    assert shown["progress"]["rows_bad"] == 3 and shown["progress"]["rows_ok"] == 7

    def child(number):
        return session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(number)))

    for k in range(6):  # 甲 … 己: in the campaign, with the number's birth date and gender
        found = child(numbers[k])
        assert found is not None, k
        assert (found.birth_date, found.gender) == (dt.date(2015, 3, 4), "M" if k % 2 == 0 else "F")
    assert child(numbers[7]) is None  # 辛: no such village
    assert session.scalar(select(func.count()).select_from(Child)) == 7

    page = client.get(f"/api/v1/imports/{shown['id']}/problems?page_size=100", headers=city).json
    assert (page["total"], page["errors"], page["warnings"]) == (11, 4, 7)
    town, village = place
    found = [(p["line"], p["column"], p["code"], p["severity"], p["value"], p["imported_value"])
             for p in page["items"]]
    assert found == [
        (2, "birth_date", "id_number.birth_date_mismatch", "warning", "2015/4/3", "2015-03-04"),
        (3, "gender", "id_number.gender_mismatch", "warning", "男", "女"),
        (4, "birth_date", "id_number.birth_date_mismatch", "warning", "2016-01-01", "2015-03-04"),
        (4, "gender", "id_number.gender_mismatch", "warning", "女", "男"),
        (5, "birth_date", "date.impossible", "warning", "2015-02-30", "2015-03-04"),
        (6, "birth_date", "date.invalid", "warning", "明年春天", "2015-03-04"),
        (7, "gender", "row.missing_value", "warning", None, "女"),
        (8, "id_number", "id_number.check_digit", "error", found[7][4], None),
        (8, "birth_date", "date.impossible", "error", "2015-13-01", None),
        (9, "village", "place.unknown_village", "error", "无此村", None),
        (11, "id_number", "id_number.duplicate_in_file", "error", found[10][4], None),
    ]
    assert "*" in found[7][4] and "*" in found[10][4]  # numbers masked
    by_line = {(p["line"], p["column"]): p for p in page["items"]}
    # Every problem names its row, its column (as the file heads it) and where the child lives.
    assert all(p["header"] for p in page["items"])
    assert [(p["name"], p["town"], p["village"]) for p in page["items"]][:7] == [
        ("甲", town, village), ("乙", town, village), ("丙", town, village), ("丙", town, village),
        ("丁", town, village), ("戊", town, village), ("己", town, village)]
    assert (by_line[(9, "village")]["name"], by_line[(9, "village")]["village"]) == ("辛", "无此村")
    # Impossible is not unreadable, and a warning says what was imported.
    assert "日期不存在" in by_line[(5, "birth_date")]["message"]
    assert "已按身份证号导入为 2015-03-04" in by_line[(5, "birth_date")]["message"]
    assert "日期无法识别" in by_line[(6, "birth_date")]["message"]
    assert "日期不存在" in by_line[(8, "birth_date")]["message"]
    assert "与第 2 行相同" in by_line[(11, "id_number")]["message"]  # a warned row still counts as seen

    warnings = client.get(f"/api/v1/imports/{shown['id']}/problems?severity=warning", headers=city).json
    assert warnings["total"] == 7 and {p["severity"] for p in warnings["items"]} == {"warning"}
    errors = client.get(f"/api/v1/imports/{shown['id']}/problems?severity=error&page_size=2", headers=city).json
    assert (errors["total"], len(errors["items"])) == (4, 2) and errors["items"][0]["line"] == 8
    bad = client.get(f"/api/v1/imports/{shown['id']}/problems?severity=fatal", headers=city)
    assert bad.status_code == 422 and bad.json["code"] == "request.invalid"
    assert {e["field"] for e in bad.json["errors"]} == {"severity"}

    # The preview leads with the rows left out.
    assert [p["severity"] for p in shown["problems_preview"]] == ["error"] * 4 + ["warning"] * 7

    report = client.get(f"/api/v1/imports/{shown['id']}/report?format=csv&severity=warning", headers=city)
    assert report.status_code == 200
    assert "warnings.csv" in report.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert table[0][6:] == ["级别", "已按身份证号导入为", "姓名", "区镇", "村(社区)"]
    assert [(int(r[0]), r[6], r[7], r[8]) for r in table[1:3]] == [
        (2, "警告（已导入，请核实）", "2015-03-04", "甲"), (3, "警告（已导入，请核实）", "女", "乙")]
    assert len(table) == 8


def test_a_town_column_left_out_is_filled_from_the_resolved_village(county, upload, city, client):
    village = county.villages[1]
    town = next(t for t in county.towns if t.code == village.town_code)
    number = _number(dt.date(2014, 9, 9), True, 30)
    shown = upload(city, "roster", file_bytes(["姓名", "性别", "公民身份号码", "村(社区)代码"],
                                              [["子鼠", "女", number, village.code]]))
    assert shown["summary"]["children_created"] == 1
    (problem,) = client.get(f"/api/v1/imports/{shown['id']}/problems", headers=city).json["items"]
    assert (problem["code"], problem["severity"], problem["name"], problem["town"], problem["village"]) == (
        "id_number.gender_mismatch", "warning", "子鼠", town.name, village.name)


def test_a_register_row_whose_gender_disagrees_with_its_number_is_kept_with_a_warning(
        county, upload, city, client):
    number = _number(dt.date(2014, 5, 6), False, 40)
    header = ["姓名", "性别", "身份证件号", "学籍号", "学校名称", "学校标识码", "年级", "班级", "在校状态"]
    school = county.schools[0]
    shown = upload(city, "register", file_bytes(header, [["丑牛", "男", number, "G1", school.name, school.code,
                                                          "三年级", "1班", "在读"]]))
    assert shown["summary"]["students"] == 1 and shown["summary"]["warnings"] == 1
    (problem,) = client.get(f"/api/v1/imports/{shown['id']}/problems", headers=city).json["items"]
    assert (problem["line"], problem["column"], problem["severity"], problem["value"], problem["imported_value"],
            problem["name"]) == (2, "gender", "warning", "男", "女", "丑牛")
