"""学籍动态监控: each register import is compared with the previous one; students who left and
appear in no register, and grade-6 graduates in no junior school's register after the new
school year starts, are flagged as suspected dropouts with the evidence."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from server.imports import jobs as import_jobs
from server.imports.models import SuspectedDropout
from server.people.models import Child
from tests.imports.conftest import file_bytes
from tests.imports.test_cross_match import REGISTER, ROSTER, person


@pytest.fixture
def schools(session, make_town, make_village, make_school):
    town = make_town(name="城西镇")
    village = make_village(town, name="南塘村")
    other = make_village(town, name="北塘村")
    return town, village, other, make_school(town, "primary", name="城西小学"), \
        make_school(town, "primary", name="城西第二小学"), make_school(town, "junior", name="城西初级中学")


def row(k, school, grade, status):
    return [k["name"], k["gender"], k["id"], "G" + k["id"], school.name, school.code, str(grade), "1班", status]


def signals(client, headers, **query):
    answer = client.get("/api/v1/imports/suspected-dropouts", query_string={"page_size": 100, **query},
                        headers=headers)
    assert answer.status_code == 200, answer.json
    return {item["name"]: item for item in answer.json["items"]}


def test_a_student_who_left_mid_year_and_is_in_no_other_register_is_flagged(
        schools, upload, city, client, session, vault, app, make_person, login):
    town, village, other, primary, second, junior = schools
    p1, p2, p3, p4, p5 = (person(n, dt.date(2017 - i, 3, 1), 31 + i) for i, n in enumerate("子丑寅卯辰"))
    upload(city, "roster", file_bytes(ROSTER, [[p1["name"], p1["gender"], p1["id"], p1["birth"].isoformat(),
                                                 town.name, village.name, "H1", "户主"]]))
    march = [row(p1, primary, 3, "在读"), row(p2, primary, 4, "在读"), row(p3, primary, 5, "在读"),
             row(p4, junior, 8, "在读"), row(p5, primary, 2, "在读")]
    april = [row(p1, primary, 3, "转出"),  # left, and no school received them
             # p2 simply gone from the export
             row(p3, primary, 5, "在读"), row(p4, junior, 8, "在读"),
             row(p5, primary, 2, "转出"), row(p5, second, 2, "在读")]  # a transfer that arrived
    first = upload(city, "register", file_bytes(REGISTER, march), as_of=dt.date(2027, 3, 1))
    later = upload(city, "register", file_bytes(REGISTER, april), as_of=dt.date(2027, 4, 1))

    assert later["previous_import_id"] == first["id"]
    assert later["summary"]["suspected_dropouts"] == {"left_register": 1, "transferred_out_not_received": 1,
                                                      "not_handed_over": 0}
    found = signals(client, city)
    assert {name: s["kind"] for name, s in found.items()} == {
        p1["name"]: "transferred_out_not_received", p2["name"]: "left_register"}
    evidence = found[p1["name"]]["evidence"]
    assert evidence["previous_school_name"] == primary.name and evidence["previous_grade"] == 3
    assert evidence["now_statuses"] == ["transferred_out"] and evidence["previous_as_of"] == "2027-03-01"
    assert found[p1["name"]]["detected_on"] == "2027-04-01"
    # The roster child is linked (village, record) and its status follows the register.
    child = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(p1["id"])))
    assert found[p1["name"]]["child_id"] == str(child.id) and found[p1["name"]]["village_code"] == village.code
    assert child.enrollment_status == "transferred_out"

    # The list goes through scope: a team of the other village does not see the child.
    outsider = login(make_person("surveyor", villages=[other]))
    assert p1["name"] not in signals(client, outsider)

    # Running the job again (a retried RQ job) adds nothing.
    with app.app_context():
        import_jobs.run_import(later["id"])
    assert session.scalar(select(func.count()).select_from(SuspectedDropout)) == 2


def test_grade_six_graduates_in_no_junior_register_after_september_are_not_handed_over(
        schools, upload, city, client):
    _town, _village, _other, primary, _second, junior = schools
    g1, g2, g3, g4 = (person(n, dt.date(2014, 5, 1 + i), 41 + i) for i, n in enumerate("甲乙丙丁"))
    june = [row(g1, primary, 6, "在读"), row(g2, primary, 6, "在读"), row(g3, junior, 9, "在读"),
            row(g4, primary, 5, "在读")]
    july = [row(g1, primary, 6, "毕业"), row(g2, primary, 6, "毕业"), row(g3, junior, 9, "毕业"),
            row(g4, primary, 5, "在读")]
    september = [row(g1, junior, 7, "在读"), row(g4, primary, 6, "在读")]  # g2 never arrived

    upload(city, "register", file_bytes(REGISTER, june), as_of=dt.date(2027, 6, 20))
    before_school_year = upload(city, "register", file_bytes(REGISTER, july), as_of=dt.date(2027, 7, 15))
    # Graduating in July is not dropping out, and the new school year has not started yet.
    assert sum(before_school_year["summary"]["suspected_dropouts"].values()) == 0
    new_year = upload(city, "register", file_bytes(REGISTER, september), as_of=dt.date(2027, 9, 15))

    assert new_year["summary"]["school_year_started"] is True
    found = signals(client, city, register_import=new_year["id"])
    # g3 finished compulsory education; g1 is in a junior school; g4 moved up a grade.
    assert {name: s["kind"] for name, s in found.items()} == {g2["name"]: "not_handed_over"}
    assert found[g2["name"]]["evidence"]["previous_status"] == "graduated"
    assert found[g2["name"]]["evidence"]["school_year_started"] is True
    assert signals(client, city, kind="not_handed_over", detected_from="2027-09-01").keys() == {g2["name"]}


def test_an_older_register_imported_late_does_not_move_statuses_back(schools, upload, city, session, vault):
    town, village, _other, primary, _second, _junior = schools
    kid = person("午", dt.date(2016, 3, 1), 51)
    upload(city, "roster", file_bytes(ROSTER, [[kid["name"], kid["gender"], kid["id"], kid["birth"].isoformat(),
                                                 town.name, village.name, "H9", "户主"]]))
    upload(city, "register", file_bytes(REGISTER, [row(kid, primary, 4, "在读")]), as_of=dt.date(2027, 5, 1))
    late_old = upload(city, "register", file_bytes(REGISTER, [row(kid, primary, 4, "休学")]),
                      as_of=dt.date(2027, 3, 1))

    assert late_old["summary"]["matched_with_register_import_id"] != late_old["id"]
    child = session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(kid["id"])))
    assert child.enrollment_status == "enrolled_unconfirmed"
