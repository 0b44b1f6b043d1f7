"""The three rates: formulas on hand-computed numbers, then the same through SQL and XLSX."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from server.reports import jobs, rates


def test_rates_by_hand():
    c = rates.Counts(school_age=10, enrolled=7, legitimately_absent=2, out_of_school=1, returned=1, dropped_out=2,
                     disabled_school_age=2, disabled_enrolled=1, disabled_legitimately_absent=0)
    values = rates.rates(c)
    assert values["enrollment_rate"] == pytest.approx(7 / 8)  # 7 / (10 − 2)
    assert rates.enrolled_at_start(c) == 8  # 7 now − 1 brought back + 2 who left
    assert values["retention_rate"] == pytest.approx(0.75)  # 1 − 2 / 8
    assert values["disabled_enrollment_rate"] == pytest.approx(0.5)
    assert rates.meets_targets(values) == {"enrollment_rate": False, "retention_rate": False,
                                           "disabled_enrollment_rate": False}
    full = rates.rates(rates.Counts(school_age=3, enrolled=3))
    assert rates.meets_targets(full) == {"enrollment_rate": True, "retention_rate": True,
                                         "disabled_enrollment_rate": None}
    assert rates.enrollment_rate(0, 2, 2) is None  # nobody expected: no rate, not 0% or 100%


@pytest.fixture
def county(make_town, make_village, make_household, make_child, make_school, make_person, campaign, pinned_today):
    town = make_town()
    village = make_village(town)
    school = make_school(town)
    home = make_household(village)
    for _ in range(2):
        make_child(home, enrollment_status="enrolled", school_id=school.id)
    make_child(home, enrollment_status="enrolled", school_id=school.id, disability=True)
    make_child(home, enrollment_status="home_teaching", disability=True)  # 送教上门 counts as enrolled
    make_child(home, enrollment_status="sick_deferral")
    dropout = make_child(home, name="辍学生", enrollment_status="dropped_out")
    make_child(home, enrollment_status="never_enrolled")
    make_child(home, enrollment_status="suspended")  # unresolved: expected in school, not counted in it
    make_child(home, enrollment_status="not_school_age")
    make_child(home, enrollment_status="enrolled", birth_date=dt.date(2005, 1, 1))  # too old
    make_child(make_household(make_village(make_town())), enrollment_status="dropped_out")  # another town
    return {"town": town, "school": school, "dropout": dropout,
            "supervisor": make_person("town_supervisor", town=town), "school_account": make_person("school", school=school)}


def test_the_town_report_by_hand(client, login, county, session):
    headers = login(county["supervisor"])
    report = client.get("/api/v1/reports/rates?by=town", headers=headers).json
    assert report["school_year"] == 2027
    [row] = report["rows"]
    assert {k: row[k] for k in ("school_age", "enrolled", "legitimately_absent", "out_of_school", "returned",
                                "dropped_out", "disabled_school_age", "disabled_enrolled")} == {
        "school_age": 8, "enrolled": 4, "legitimately_absent": 1, "out_of_school": 2, "returned": 0,
        "dropped_out": 1, "disabled_school_age": 2, "disabled_enrolled": 2}
    assert row["enrollment_rate"] == pytest.approx(4 / 7)
    assert row["retention_rate"] == pytest.approx(1 - 1 / 5)
    assert row["disabled_enrollment_rate"] == 1.0
    assert row["meets_targets"]["disabled_enrollment_rate"] is True

    # The dropout is persuaded back: enrolled and returned go up, the year's dropout stays counted.
    # Both out-of-school children got a case as their status was written, due at the end of 劝返复学.
    assert report["cases"] == {"open": 2, "overdue": 2, "returned": 0, "exempted": 0}
    cases = client.get("/api/v1/cases", headers=headers).json["items"]
    case = next(c for c in cases if c["child_name"] == "辍学生")
    # The child was in no school: the town names the one it is back in, which then confirms.
    named = client.post(f"/api/v1/cases/{case['id']}/return-school", headers=headers,
                        json={"school_id": county["school"].id})
    assert named.status_code == 200 and named.json["return_school_id"] == county["school"].id
    back = client.post(f"/api/v1/cases/{case['id']}/transitions", headers=login(county["school_account"]),
                       json={"to": "returned", "school_id": county["school"].id, "return_date": "2027-07-01"})
    assert back.status_code == 200, back.json
    after = client.get("/api/v1/reports/rates?by=city", headers=headers).json
    assert (after["total"]["enrolled"], after["total"]["returned"], after["total"]["dropped_out"]) == (5, 1, 1)
    assert after["total"]["enrollment_rate"] == pytest.approx(5 / 7)
    assert after["total"]["retention_rate"] == pytest.approx(0.8)
    assert after["cases"] == {"open": 1, "overdue": 1, "returned": 1, "exempted": 0}

    by_school = client.get("/api/v1/reports/rates?by=school", headers=headers).json
    assert sum(r["school_age"] for r in by_school["rows"]) == 8
    assert next(r for r in by_school["rows"] if r["code"] == county["school"].code)["enrolled"] == 4


def _export(client, session, headers, body, day=dt.date(2027, 7, 2)):
    asked = client.post("/api/v1/reports/exports", json=body, headers=headers)
    assert asked.status_code == 202 and asked.json["status"] == "queued"
    url = f"/api/v1/reports/exports/{asked.json['id']}/xlsx"
    assert client.get(url, headers=headers).json["code"] == "reports.not_ready"
    assert jobs.build_export_in(session, asked.json["id"], day) == "done"
    assert jobs.build_export_in(session, asked.json["id"], day) == "done"  # twice: no change
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return url, load_workbook(io.BytesIO(response.data)).active


def test_the_village_xlsx_is_formatted_as_a_county_sends_it(client, login, county, session):
    headers = login(county["supervisor"])
    url, sheet = _export(client, session, headers, {"by": "village"})
    title = sheet["A1"].value
    assert "2027年控辍保学" in title and "分村" in title and sheet["A1"].font.bold
    assert "A1" in {str(r).split(":")[0] for r in sheet.merged_cells.ranges}
    assert f"范围：{county['town'].name}" in sheet["A2"].value and "统计日期：2027年7月2日" in sheet["A2"].value
    assert "2027学年" in sheet["A2"].value and "入学率100%" in sheet["A3"].value

    header = [c.value for c in sheet[4]]
    assert header[:4] == ["区镇", "代码", "村（社区）", "适龄儿童少年"]
    assert header[-3:] == ["入学率", "巩固率", "残疾儿童少年入学率"]
    # The header and the town, code and name columns stay on screen; the header heads each page.
    assert sheet.freeze_panes == "D5"
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.column_dimensions["A"].width == 14 and sheet.column_dimensions["C"].width == 18

    village = sheet[5]
    values = dict(zip(header, [c.value for c in village], strict=True))
    assert values["区镇"] == county["town"].name
    assert (values["适龄儿童少年"], values["在读（含送教上门）"], values["依规未入学"]) == (8, 4, 1)
    cells = dict(zip(header, village, strict=True))
    for name in ("入学率", "巩固率", "残疾儿童少年入学率"):
        assert cells[name].number_format == "0.00%" and isinstance(cells[name].value, int | float), name
    assert cells["入学率"].value == pytest.approx(4 / 7)
    # Misses marked: 57% and 80% are below their targets, the disabled children's 100% is not.
    assert cells["入学率"].fill.fgColor.rgb.endswith("FFC7CE")
    assert cells["巩固率"].fill.fgColor.rgb.endswith("FFC7CE")
    assert cells["残疾儿童少年入学率"].fill.fill_type is None
    assert cells["适龄儿童少年"].number_format == "0"

    total = next(r for r in sheet.iter_rows() if r[2].value == "合计")
    assert total[0].font.bold and total[3].value == 8
    assert any("巩固率 = 1 − 学年内辍学" in (r[0].value or "") for r in sheet.iter_rows(min_row=6))
    # Another person cannot fetch someone's export.
    other = client.get(url, headers=login(county["school_account"]))
    assert other.status_code == 403


def test_the_town_xlsx_has_no_town_column_and_an_empty_rate_shows_a_dash(client, login, county, session,
                                                                          make_person):
    _url, sheet = _export(client, session, login(make_person("city")), {"by": "town"})
    assert "分区镇" in sheet["A1"].value and "范围：全市" in sheet["A2"].value
    header = [c.value for c in sheet[4]]
    assert header[:3] == ["代码", "区镇", "适龄儿童少年"]
    assert sheet.freeze_panes == "C5"
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=5) if r[1].value}
    ours = rows[county["town"].name]
    assert ours[-1].value == 1.0 and ours[-1].number_format == "0.00%" and ours[-1].fill.fill_type is None
    # The other town has no disabled child: no rate, a dash, not 0% nor a miss.
    other = next(r for name, r in rows.items() if name not in (county["town"].name, "合计"))
    assert other[-1].value == "—" and other[-1].fill.fill_type is None


def test_the_rates_json_names_each_villages_town(client, login, county):
    report = client.get("/api/v1/reports/rates?by=village", headers=login(county["supervisor"])).json
    [row] = report["rows"]
    assert (row["town_code"], row["town_name"]) == (county["town"].code, county["town"].name)
    town_rows = client.get("/api/v1/reports/rates?by=town", headers=login(county["supervisor"])).json["rows"]
    assert "town_name" not in town_rows[0]


def test_a_report_bears_the_date_in_beijing():
    from server.reports import sheets

    # 17:30 UTC on 27 May is 01:30 on 28 May in Beijing.
    assert sheets.beijing_today(dt.datetime(2026, 5, 27, 17, 30, tzinfo=dt.UTC)) == dt.date(2026, 5, 28)
    assert sheets.beijing_today(dt.datetime(2026, 5, 27, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 5, 27)
    assert sheets.chinese_date(dt.date(2026, 5, 28)) == "2026年5月28日"
