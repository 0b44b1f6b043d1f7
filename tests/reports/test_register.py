"""登记造册: the register of out-of-school children as an XLSX, scoped, masked and audited."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.cases.models import Case
from server.people import id_number
from tests.authz.reading import readable

URL = "/api/v1/reports/out-of-school-register.xlsx"


@pytest.fixture
def county(make_town, make_village, make_household, make_child, make_school, make_person, campaign, pinned_today):
    town = make_town(name="城东镇")
    village = make_village(town, name="红星村")
    school = make_school(town)
    # Households out of 组/号 order, so that the register's order is its own doing.
    later = make_household(village, group_name="10组", household_number="002", phone="13911112222")
    first = make_household(village, group_name="2组", household_number="015")
    numbers = {k: id_number.make("320685", dt.date(2014, 5, i), 100 + 2 * i) for i, k in enumerate(
        ("dropout", "never", "suspected", "pupil", "elsewhere"), start=1)}
    kids = {
        "dropout": make_child(first, name="王小明", number=numbers["dropout"], birth_date=dt.date(2014, 5, 1),
                              gender="M", enrollment_status="dropped_out", dropout_reason="working",
                              guardian_name="王大明", guardian_phone="13800001111", school_id=school.id),
        "never": make_child(later, name="李小红", number=numbers["never"], birth_date=dt.date(2014, 5, 2),
                            enrollment_status="never_enrolled", dropout_reason="other",
                            dropout_reason_note="在家照顾弟妹", guardian_name="李大红"),
        "suspected": make_child(first, name="张小三", number=numbers["suspected"], birth_date=dt.date(2014, 5, 3),
                                enrollment_status="suspected_out_of_school"),
        "pupil": make_child(first, name="赵在读", number=numbers["pupil"], birth_date=dt.date(2014, 5, 4),
                            enrollment_status="enrolled", school_id=school.id),
        "too_old": make_child(first, name="钱超龄", birth_date=dt.date(2005, 1, 1), enrollment_status="dropped_out"),
        "elsewhere": make_child(make_household(make_village(make_town(name="角斜镇"))), name="孙外镇",
                                number=numbers["elsewhere"], birth_date=dt.date(2014, 5, 5),
                                enrollment_status="dropped_out"),
    }
    return {"town": town, "village": village, "school": school, "kids": kids, "numbers": numbers,
            "supervisor": make_person("town_supervisor", town=town), "city": make_person("city"),
            "leader": make_person("team_leader", villages=[village]),
            "school_account": make_person("school", school=school), "surveyor": make_person("surveyor")}


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data)).active


def _lines(sheet) -> list[dict]:
    header = [c.value for c in sheet[3]]
    rows = []
    for row in sheet.iter_rows(min_row=4):
        if not isinstance(row[0].value, int):
            break
        rows.append(dict(zip(header, [c.value for c in row], strict=True)))
    return rows


def test_the_towns_register_lists_its_out_of_school_children_in_household_order(client, login, county, session):
    response = client.get(URL, headers=login(county["supervisor"]))
    sheet = _sheet(response)
    assert "out-of-school-register-2027-07-02.xlsx" in response.headers["Content-Disposition"]
    assert sheet["A1"].value == "2027年控辍保学 适龄儿童少年失学辍学登记册" and sheet["A1"].font.bold
    assert "范围：城东镇" in sheet["A2"].value and "统计日期：2027年7月2日" in sheet["A2"].value
    assert "在册：3人" in sheet["A2"].value
    assert [c.value for c in sheet[3]] == ["序号", "区镇", "村（社区）", "组", "户号", "姓名", "性别", "出生日期",
                                           "公民身份号码", "监护人", "联系电话", "在校状态", "辍学原因", "个案环节",
                                           "办理期限"]
    assert sheet.freeze_panes == "G4" and sheet.column_dimensions["I"].width == 21

    lines = _lines(sheet)
    # 2组 before 10组; neither the enrolled child, the one past school age nor another town's.
    assert [r["姓名"] for r in lines] == ["王小明", "张小三", "李小红"]
    dropout, suspected, never = lines
    assert dropout == {
        "序号": 1, "区镇": "城东镇", "村（社区）": "红星村", "组": "2组", "户号": "015", "姓名": "王小明", "性别": "男",
        "出生日期": dt.datetime(2014, 5, 1), "公民身份号码": county["numbers"]["dropout"][:6] + "*" * 12,
        "监护人": "王大明", "联系电话": "13800001111", "在校状态": "辍学", "辍学原因": "外出务工",
        "个案环节": "已确认未入学/辍学", "办理期限": dt.datetime(2027, 6, 30)}
    assert sheet.cell(4, 8).number_format == "yyyy年m月d日"
    # The case was due at the end of 劝返复学 (30 June): overdue on 2 July, marked.
    assert sheet.cell(4, 15).fill.fgColor.rgb.endswith("FFC7CE")
    assert (suspected["在校状态"], suspected["个案环节"], suspected["办理期限"]) == ("疑似未入学/辍学", "未立案（待核实）", "—")
    # No guardian's phone: the household's.
    assert (never["在校状态"], never["辍学原因"], never["联系电话"]) == ("未入学", "其他：在家照顾弟妹", "13911112222")

    # No clear ID number anywhere in the file.
    text = readable(response.data)
    assert all(number not in text for number in county["numbers"].values())
    assert county["numbers"]["dropout"][:6] + "*" * 12 in text


def test_the_register_counts_what_the_rates_count_as_out_of_school(client, login, county):
    headers = login(county["city"])
    lines = _lines(_sheet(client.get(URL, headers=headers)))
    rates = client.get("/api/v1/reports/rates?by=city", headers=headers).json
    assert len(lines) == rates["total"]["out_of_school"] == 4  # and 孙外镇 of the other town
    town = _lines(_sheet(client.get(f"{URL}?town={county['town'].code}", headers=headers)))
    assert [r["姓名"] for r in town] == ["王小明", "张小三", "李小红"]
    village = _lines(_sheet(client.get(f"{URL}?village={county['village'].code}", headers=headers)))
    assert len(village) == 3


def test_a_school_gets_its_own_students_with_the_phone_masked_and_no_reason(client, login, county):
    sheet = _sheet(client.get(URL, headers=login(county["school_account"])))
    header = [c.value for c in sheet[3]]
    assert "辍学原因" not in header and "个案环节" in header
    assert county["school"].name in sheet["A2"].value
    [line] = _lines(sheet)
    assert line["姓名"] == "王小明" and line["联系电话"] == "138******11"
    assert line["公民身份号码"] == county["numbers"]["dropout"][:6] + "*" * 12


def test_a_team_leader_gets_its_villages_and_a_surveyor_none(client, login, county):
    lines = _lines(_sheet(client.get(URL, headers=login(county["leader"]))))
    assert [r["姓名"] for r in lines] == ["王小明", "张小三", "李小红"]
    assert client.get(URL, headers=login(county["surveyor"])).json["code"] == "auth.forbidden"
    assert client.get(URL).status_code == 401


def test_another_towns_register_is_empty_and_names_nothing_of_it(client, login, county, make_town, make_village):
    other = make_town(name="外镇名称")
    make_village(other)
    response = client.get(f"{URL}?town={other.code}", headers=login(county["supervisor"]))
    sheet = _sheet(response)
    assert _lines(sheet) == [] and "在册：0人" in sheet["A2"].value
    assert "外镇名称" not in readable(response.data) and "孙外镇" not in readable(response.data)


@pytest.mark.parametrize(("query", "field"), [("town=12", "town"), ("village=abc", "village"),
                                              ("town=３２０６８５００１０００", "town"), ("village=", "village")])
def test_a_bad_filter_is_named_not_a_500(client, login, county, query, field):
    response = client.get(f"{URL}?{query}", headers=login(county["supervisor"]))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["code"] == "request.invalid"
    assert field in {e["field"] for e in response.json["errors"]}


def test_the_download_is_an_audited_export_naming_every_child(client, login, county, session):
    person = county["supervisor"]
    client.get(f"{URL}?town={county['town'].code}", headers=login(person))
    session.expire_all()
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.person_id == person.id,
                                                       AuditEvent.action == "export")).all()
    kids = county["kids"]
    assert (event.subject_type, event.subject_id, event.record_count) == ("out_of_school_register",
                                                                          county["town"].code, 3)
    assert set(event.record_ids) == {kids["dropout"].id, kids["never"].id, kids["suspected"].id}
    assert event.filters == {"town": county["town"].code}
    assert event.endpoint == "GET /api/v1/reports/out-of-school-register.xlsx"


def test_a_case_moved_on_shows_its_step_and_the_towns_deadline(client, login, county, session):
    case = session.scalar(select(Case).where(Case.child_id == county["kids"]["dropout"].id))
    headers = login(county["supervisor"])
    for body in ({"to": "persuading"}, {"to": "escalated", "deadline": "2027-07-20"}):
        moved = client.post(f"/api/v1/cases/{case.id}/transitions", headers=headers, json=body)
        assert moved.status_code == 200, moved.json
    sheet = _sheet(client.get(URL, headers=headers))
    first = _lines(sheet)[0]
    assert (first["个案环节"], first["办理期限"]) == ("已报区镇政府（限期）", dt.datetime(2027, 7, 20))
    assert sheet.cell(4, 15).fill.fill_type is None  # not overdue on 2 July
