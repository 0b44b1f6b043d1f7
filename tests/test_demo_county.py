"""The demo county is realistic where a user would look: places tile, points fall inside,
ID numbers are valid, both lines cover every village, and it is the same for the same seed."""

import collections
import datetime as dt

import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import func, select, text

from server.accounts.models import Person
from server.cases.models import Case, CaseEvent
from server.demo import files, generator
from server.demo.tablets import BEIJING
from server.people import id_number
from server.people.models import Child, Household
from server.places.models import Village
from server.sync.models import Submission
from server.visits.models import Visit


@pytest.fixture(scope="module")
def county():
    return generator.generate("medium", seed=11)


def test_same_seed_same_county_other_seed_other_county():
    a, b = generator.generate("tiny", seed=3), generator.generate("tiny", seed=3)
    assert [c.id_number for c in a.children] == [c.id_number for c in b.children]
    assert [h.id for h in a.households] == [h.id for h in b.households]
    c = generator.generate("tiny", seed=4)
    assert [x.id_number for x in c.children] != [x.id_number for x in a.children]


def test_villages_tile_their_towns_and_the_county(county):
    assert len(county.villages) == generator.SIZES["medium"].villages
    union = shapely.union_all([v.polygon for v in county.villages])
    assert union.symmetric_difference(county.outline).area < 1e-6 * county.outline.area + 1e-9
    total = sum(v.polygon.area for v in county.villages)
    assert total == pytest.approx(county.outline.area, rel=1e-6)  # no overlaps
    for v in county.villages:
        town = next(t for t in county.towns if t.code == v.town_code)
        assert town.polygon.buffer(1e-9).contains(v.polygon)
        assert v.code.startswith(v.town_code[:9]) and len(v.code) == 12
        assert v.polygon.contains(v.centroid)


def test_households_stand_inside_their_village(county):
    polygons = {v.code: v.polygon for v in county.villages}
    assert all(polygons[h.village_code].contains(Point(h.lon, h.lat)) for h in county.households)
    numbers = collections.Counter((h.village_code, h.household_number) for h in county.households)
    assert max(numbers.values()) == 1


def test_children_have_valid_unique_id_numbers_matching_their_birth_and_gender(county):
    numbers = [c.id_number for c in county.children]
    assert len(set(numbers)) == len(numbers)
    for c in county.children:
        check = id_number.check(c.id_number, birth_date=c.birth_date, gender=c.gender)
        assert check.ok and not check.warnings, (c.id_number, check)


def test_registers_cover_about_98_5_percent(county):
    in_register = sum(1 for c in county.children if c.school_code) / len(county.children)
    assert 0.97 <= in_register <= 0.995
    reasons = collections.Counter(c.out_of_school_reason for c in county.children if not c.school_code)
    assert len(reasons) >= 5  # a realistic mix, not a single reason
    assert len(county.children) / len(county.households) == pytest.approx(1.33, abs=0.08)


def test_both_lines_cover_every_village(county):
    covered = collections.defaultdict(set)
    for team in county.teams:
        for code in team.village_codes:
            covered[code].add(team.line)
    assert all(covered[v.code] == {"government", "school"} for v in county.villages)
    roles = collections.Counter(p.role for p in county.people)
    assert roles["city"] == 1 and roles["town_supervisor"] == len(county.towns)
    assert roles["school"] == len(county.schools)


def test_roster_and_register_files_in_the_bureau_formats(tmp_path):
    county = generator.generate("tiny", seed=5)
    roster, register = files.write_all(county, tmp_path, "csv")
    head = roster.read_bytes()[:3]
    assert head == b"\xef\xbb\xbf"  # BOM: Excel on Windows reads it as UTF-8
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["姓名", "性别", "公民身份号码"]
    assert len(lines) == len(county.children) + 1
    assert register.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[2] == "身份证件号"


def test_loaded_county_answers_through_the_api(client, tiny_county, login, session):
    city = session.scalar(select(Person).where(Person.username == "city"))
    headers = login(city)
    towns = client.get("/api/v1/towns", headers=headers).json
    assert sum(t["counts"]["households"] for t in towns) == len(tiny_county.households)
    assert sum(t["counts"]["children"] for t in towns) == len(tiny_county.children)
    out = sum(1 for c in tiny_county.children if not c.school_code)
    assert sum(t["counts"]["out_of_school"] for t in towns) == out
    surveyor = session.scalar(select(Person).where(Person.role == "surveyor"))
    villages = client.get("/api/v1/villages", headers=login(surveyor)).json
    team = next(t for t in tiny_county.teams if surveyor.username in t.members)
    assert sorted(v["code"] for v in villages) == sorted(team.village_codes)
    households = client.get("/api/v1/households?page_size=1", headers=headers).json
    assert households["items"][0]["location"]["approximate"] is True


def test_disabled_children_are_a_realistic_share_some_taught_at_home_some_out_of_school(county):
    disabled = [c for c in county.children if c.disability]
    assert 0.01 <= len(disabled) / len(county.children) <= 0.02
    assert all(c.disability_type and c.disability_level in (1, 2, 3, 4) for c in disabled)
    home = [c for c in disabled if c.home_teaching]
    assert home and all(c.school_code for c in home)  # 送教上门: on the special school's register
    out = [c for c in disabled if not c.school_code]
    assert out and 0.75 <= 1 - len(out) / len(disabled) < 1  # the third rate near its 90% target
    tiny = generator.generate("tiny", seed=7)
    kinds = {("home" if c.home_teaching else "school" if c.school_code else "out") for c in tiny.children
             if c.disability}
    assert kinds == {"home", "school", "out"}  # even the tiny county shows the three


# --- the field week ---------------------------------------------------------------------------------

TODAY = dt.date.today()


@pytest.fixture
def week(session, vault):
    """The small demo county as a field week leaves it (forms published, as `demo load` does)."""
    from server.demo import field_week, loader
    from server.forms import service as forms_service
    from tests.conftest import TEST_PASSWORD

    small = generator.generate("small", seed=7)
    loader.load(session, small, vault, TEST_PASSWORD)
    forms_service.publish_builtin(session)
    result = field_week.play(session, small, vault, TODAY)
    session.flush()
    return small, result


def _as(client, session, login, username):
    from tests.conftest import TEST_PASSWORD

    person = session.scalar(select(Person).where(Person.username == username))
    return login(person, TEST_PASSWORD)


def test_surveyed_households_stand_at_gps_points_in_their_village_a_few_outside(week, session, client, login):
    small, result = week
    rows = session.execute(select(
        Household.id, Household.location_approximate, Household.location_accuracy_m, Household.survey_status,
        func.ST_X(Household.location), func.ST_Y(Household.location),
        func.ST_Contains(Village.boundary, Household.location), func.ST_DWithin(Household.location, Village.centroid, 1e-6),
    ).join(Village, Village.code == Household.village_code)).all()
    surveyed = [r for r in rows if not r.location_approximate]
    assert 0.75 <= len(surveyed) / len(rows) <= 0.95
    assert all(r.survey_status in ("visited", "confirmed") and 1 <= r.location_accuracy_m <= 50 for r in surveyed)
    assert all(r.survey_status == "not_visited" and r[7] for r in rows if r.location_approximate)
    # Scattered, not stacked: (almost) every surveyed household has a point of its own.
    assert len({(round(r[4], 6), round(r[5], 6)) for r in surveyed}) == len(surveyed)
    outside = [r for r in surveyed if not r[6]]
    assert 1 <= len(outside) <= max(2, 0.03 * len(surveyed)) and len(outside) == result["households_outside_village"]
    listed = client.get("/api/v1/maps/households/outside", headers=_as(client, session, login, "city")).json
    assert {item["id"] for item in listed} == {str(r.id) for r in outside}
    # Through the tablets' path: each surveyed household has a version, a submission and field states.
    assert session.scalar(select(func.count()).select_from(Submission)
                          .where(Submission.record_type == "household")) >= len(surveyed)
    versions = dict(session.execute(select(Household.id, Household.version)).all())
    assert all(versions[r.id] >= 2 for r in surveyed)


def test_all_three_rates_have_values_with_disabled_children_home_taught_and_out_of_school(week, session, client,
                                                                                          login):
    report = client.get("/api/v1/reports/rates?by=town", headers=_as(client, session, login, "city")).json
    total = report["total"]
    for name in ("enrollment_rate", "retention_rate", "disabled_enrollment_rate"):
        assert isinstance(total["rates"][name] if "rates" in total else total[name], float), (name, total)
    statuses = collections.Counter(session.scalars(select(Child.enrollment_status).where(Child.disability)))
    assert statuses["home_teaching"] >= 1
    # Some found out of school: a case opened for them (it may since have ended returned).
    opened_from = session.scalars(select(Case.opened_from).join(Child, Child.id == Case.child_id)
                                  .where(Child.disability)).all()
    assert opened_from and set(opened_from) <= {"never_enrolled", "dropped_out"}


def test_cases_open_before_their_deadlines_with_visits_some_overdue_some_returned(week, session, client, login):
    small, result = week
    cases = session.scalars(select(Case)).all()
    assert len(cases) == result["cases"] >= 6
    for case in cases:
        opened = case.opened_at.astimezone(BEIJING).date()
        assert opened < TODAY
        if case.deadline is not None:
            assert opened < case.deadline
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
        assert events[0].to_status == "identified" and events[0].at == case.opened_at
        assert [e.at for e in events] == sorted(e.at for e in events)  # the steps in the order taken
    statuses = collections.Counter(c.status for c in cases)
    assert statuses["escalated"] >= 2 and statuses["returned"] >= 1 and statuses["persuading"] >= 1
    headers = _as(client, session, login, "city")
    overdue = client.get("/api/v1/cases?overdue=true", headers=headers).json
    assert overdue["total"] >= 1 and all(c["deadline"] < TODAY.isoformat() for c in overdue["items"])
    on_time = client.get("/api/v1/cases?overdue=false&status=escalated", headers=headers).json
    assert on_time["total"] >= 1
    # Visits, as the team's tablet recorded them, consistent with the steps.
    for case in cases:
        visits = session.scalars(select(Visit).where(Visit.child_id == case.child_id)
                                 .order_by(Visit.visit_date)).all()
        if case.status == "identified":
            assert visits == []
            continue
        assert visits and all(v.visitors and v.outcome and v.device_id for v in visits)
        assert visits[0].visit_date >= case.opened_at.astimezone(BEIJING).date()
        if case.status == "escalated":
            assert visits[-1].next_step == "report_to_town" and visits[-1].deadline == case.deadline
        if case.status == "returned":
            assert visits[-1].outcome == "persuaded" and case.return_date >= visits[-1].visit_date
            assert case.closed_at is not None and case.return_school_id is not None
    shown = client.get(f"/api/v1/cases/{cases[0].id}", headers=headers)
    assert shown.status_code == 200


def test_conflicts_and_duplicate_pairs_wait_for_the_first_towns_supervisor(week, session, client, login):
    small, result = week
    headers = _as(client, session, login, "town01")
    conflicts = client.get("/api/v1/conflicts?status=open", headers=headers).json
    assert conflicts["total"] == result["conflicts_opened"] >= 3
    first = small.towns[0].code[:9]
    for item in conflicts["items"]:
        assert item["record"]["village_code"].startswith(first)
        values = item["values"]
        assert len(values) == 2 and values[0]["value"] != values[1]["value"]
        assert len({v["device_id"] for v in values}) == 2 and all(v["device_id"] for v in values)
    duplicates = client.get("/api/v1/duplicates?status=open", headers=headers).json
    assert duplicates["total"] == result["duplicate_pairs"] >= 2
    assert {d["reason"] for d in duplicates["items"]} == {"same_name_birth_household", "same_id_number"}
    # Another town's supervisor has none of this work.
    other = _as(client, session, login, "town02")
    assert client.get("/api/v1/conflicts?status=open", headers=other).json["total"] == 0
    assert client.get("/api/v1/duplicates?status=open", headers=other).json["total"] == 0


def test_the_field_week_is_the_same_for_the_same_seed_and_played_once(session, vault):
    from server.demo import field_week, loader
    from server.forms import service as forms_service
    from tests.conftest import TEST_PASSWORD

    forms_service.publish_builtin(session)
    seen = []
    for _ in range(2):
        nested = session.begin_nested()
        tiny = generator.generate("tiny", seed=7)
        loader.load(session, tiny, vault, TEST_PASSWORD)
        result = field_week.play(session, tiny, vault, TODAY)
        points = session.execute(select(Household.id, func.ST_AsText(Household.location), Household.survey_status)
                                 .order_by(Household.id)).all()
        statuses = session.execute(select(Child.id_number_lookup, Child.enrollment_status, Child.disability)
                                   .order_by(Child.id_number_lookup)).all()
        seen.append((result, points, statuses))
        # the planner's statistics taken as the week left the county (the loader's were taken
        # before the children arrived): reltuples is ANALYZE's count, kept transactionally
        estimated, counted = session.execute(text(
            "SELECT reltuples, (SELECT count(*) FROM children) FROM pg_class WHERE relname = 'children'")).one()
        assert counted and estimated == counted, (estimated, counted)
        if len(seen) == 2:
            with pytest.raises(field_week.AlreadyPlayed):
                field_week.play(session, tiny, vault, TODAY)
        nested.rollback()
    assert seen[0] == seen[1]
