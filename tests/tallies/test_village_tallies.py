"""The kept village tallies give exactly what counting every child gives, after every kind of
write, and recount only the villages that changed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, text

from server.accounts.scope import Scope
from server.cases.models import Case
from server.maps import queries as map_queries
from server.people.models import Child
from server.reports import queries as report_queries
from server.reports import service as reports
from server.tallies import queries as tally_queries
from server.tallies import service as tallies

EVERYWHERE = Scope(everywhere=True)
BORN = (dt.date(2010, 9, 1), dt.date(2020, 8, 31))


def _live_map(session):
    return {r.code: {k: getattr(r, k) for k in ("households", "surveyed", "children", "out_of_school", "returned")}
            for r in session.execute(map_queries.village_counts_select(EVERYWHERE))}


def _live_rates(session, by):
    return report_queries.counts(session, EVERYWHERE, *BORN, by)


def _kept_rates(session, by):
    return reports._counts(session, EVERYWHERE, *BORN, by, None)


@pytest.fixture
def county(app, session, make_town, make_village, make_household, make_child):
    town = make_town()
    a, b = make_village(town), make_village(town)
    homes = [make_household(a), make_household(a), make_household(b)]
    kids = [make_child(homes[0], enrollment_status="enrolled"),
            make_child(homes[0], enrollment_status="suspected_out_of_school", disability=True),
            make_child(homes[1], enrollment_status="dropped_out", birth_date=dt.date(2012, 5, 1)),
            make_child(homes[2], enrollment_status="enrolled", disability=True)]
    session.flush()
    with app.test_request_context():
        yield {"a": a, "b": b, "homes": homes, "kids": kids}


def _same(session):
    kept_map = tallies.map_tallies(session)
    assert kept_map == _live_map(session)
    for by in ("village", "town", "city"):
        assert _kept_rates(session, by) == _live_rates(session, by)


def test_the_tallies_equal_the_counts_after_every_kind_of_write(county, session):
    _same(session)  # counted from nothing
    _same(session)  # read back as kept
    homes, kids = county["homes"], county["kids"]
    session.execute(text("UPDATE households SET survey_status = 'visited' WHERE id = :id"), {"id": homes[0].id})
    _same(session)
    session.execute(text("UPDATE children SET enrollment_status = 'dropped_out' WHERE id = :id"), {"id": kids[0].id})
    _same(session)
    # a case that ends returned changes the map's and the rates' "returned" without its child's row
    case = session.scalar(select_case(kids[2].id))
    if case is None:
        session.add(Case(child_id=kids[2].id, village_code=county["a"].code, status="returned",
                         opened_from="dropped_out"))
    else:
        case.status = "returned"
    session.flush()
    _same(session)
    # a household that moves takes its children to the other village (a trigger)
    session.execute(text("UPDATE households SET village_code = :v WHERE id = :id"),
                    {"v": county["b"].code, "id": homes[1].id})
    _same(session)
    session.execute(delete(Case).where(Case.child_id == kids[3].id))
    session.execute(delete(Child).where(Child.id == kids[3].id))
    _same(session)


def select_case(child_id):
    from sqlalchemy import select
    return select(Case).where(Case.child_id == child_id).limit(1)


def test_a_read_recounts_only_the_villages_that_changed(county, session, monkeypatch):
    tallies.map_tallies(session)
    counted = []
    original = tally_queries.map_counts
    monkeypatch.setattr(tally_queries, "map_counts",
                        lambda s, codes: counted.append(codes) or original(s, codes))
    tallies.map_tallies(session)
    assert counted == []  # nothing changed: nothing counted
    session.execute(text("UPDATE households SET survey_status = 'visited' WHERE id = :id"),
                    {"id": county["homes"][2].id})
    tallies.map_tallies(session)
    assert counted == [[county["b"].code]]


def test_the_api_answers_the_same_from_kept_tallies(county, client, session, make_person, login):
    headers = login(make_person("city"))
    first = json.loads(client.get("/api/v1/maps/villages", headers=headers).data)
    assert "features" in first, first
    rates = client.get("/api/v1/reports/rates?by=village", headers=headers).json
    session.execute(text("UPDATE children SET enrollment_status = 'enrolled' WHERE id = :id"),
                    {"id": county["kids"][1].id})
    second = json.loads(client.get("/api/v1/maps/villages", headers=headers).data)
    after = client.get("/api/v1/reports/rates?by=village", headers=headers).json

    def village(fc, code):
        return next(f["properties"] for f in fc["features"] if f["id"] == code)

    code = county["a"].code
    assert village(second, code)["out_of_school"] == village(first, code)["out_of_school"] - 1
    row = next(r for r in after["rows"] if r["code"] == code)
    before = next(r for r in rates["rows"] if r["code"] == code)
    assert row["enrolled"] == before["enrolled"] + 1


def test_a_change_log_made_anew_recounts_every_village(county, session):
    """A reloaded database numbers its log from the start again: numbers kept from the old log
    would hide the changes made below them."""
    tallies.map_tallies(session)
    kept_seq, _ = tally_queries.watermark(session)
    session.execute(text("TRUNCATE change_log"))
    session.execute(text("ALTER SEQUENCE change_seq RESTART WITH 1"))
    session.execute(text("UPDATE children SET enrollment_status = 'dropped_out' WHERE id = :id"),
                    {"id": county["kids"][0].id})  # village a, numbered far below the kept number
    session.execute(text(f"ALTER SEQUENCE change_seq RESTART WITH {kept_seq + 10}"))
    session.execute(text("UPDATE households SET survey_status = 'visited' WHERE id = :id"),
                    {"id": county["homes"][2].id})  # village b, above it
    _same(session)


def test_each_database_keeps_its_own_tallies(county, session):
    from server.jobs import redis_connection

    tallies.map_tallies(session)
    keys = [k.decode() for k in redis_connection().scan_iter("*tallies:*")]
    assert keys and all(f":{session.get_bind().engine.url.database}:" in k for k in keys)


def test_a_scope_reads_and_recounts_only_its_own_villages(county, session, make_town, make_village,
                                                          make_household, make_child, monkeypatch):
    """Kept per village: a town's rates check and recount its villages only, however much the
    rest of the county changed, and each scope's numbers stay those of counting its rows."""
    other = make_village(make_town())
    away = make_child(make_household(other), enrollment_status="enrolled")
    session.flush()
    town_codes = [county["a"].code, county["b"].code]
    tallies.rate_tallies(session, *BORN)  # every village kept
    counted = []
    original = tally_queries.rate_counts
    monkeypatch.setattr(tally_queries, "rate_counts",
                        lambda s, codes, *born: counted.append(codes) or original(s, codes, *born))
    session.execute(text("UPDATE children SET enrollment_status = 'dropped_out' WHERE id = :id"), {"id": away.id})
    session.execute(text("UPDATE children SET enrollment_status = 'enrolled' WHERE id = :id"),
                    {"id": county["kids"][1].id})
    town = tallies.rate_tallies(session, *BORN, town_codes)
    assert counted == [[county["a"].code]]  # the other town's change is not this town's work
    assert set(town) == set(town_codes)
    everywhere = tallies.rate_tallies(session, *BORN)
    assert counted == [[county["a"].code], [other.code]]  # village a was kept by the town's read
    assert {code: everywhere[code] for code in town_codes} == town
    assert everywhere[other.code]["dropped_out"] == 1
    _same(session)


def test_case_outcomes_of_some_villages_are_those_of_the_county(county, session):
    # kids[2] (dropped out) has the case its status opened; two others' cases ended returned
    for kid in (county["kids"][1], county["kids"][3]):
        session.add(Case(child_id=kid.id, village_code=kid.village_code, status="returned",
                         opened_from="dropped_out", closed_at=dt.datetime.now(dt.UTC)))
    session.flush()
    whole = tally_queries.case_outcomes(session, *BORN)
    for codes in ([county["a"].code], [county["b"].code], [county["a"].code, county["b"].code]):
        assert tally_queries.case_outcomes(session, *BORN, codes) == {c: v for c, v in whole.items() if c in codes}
    assert whole[county["a"].code]["returned_all"] == 1 and whole[county["b"].code]["returned_all"] == 1


def test_a_case_is_kept_in_its_childs_village(county, session):
    """case_outcomes finds a town's cases by their own village: the database keeps it equal to
    the child's, when a case is written and when the child's household moves."""
    from sqlalchemy import select

    a, b, kid = county["a"].code, county["b"].code, county["kids"][0]
    case = Case(child_id=kid.id, village_code=b, status="returned", opened_from="dropped_out",
                closed_at=dt.datetime.now(dt.UTC))
    session.add(case)
    session.flush()
    village_of_case = select(Case.village_code).where(Case.id == case.id)
    assert session.scalar(village_of_case) == a  # written with another village: the child's
    assert tally_queries.case_outcomes(session, *BORN, [a])[a]["returned_all"] == 1
    session.execute(text("UPDATE households SET village_code = :v WHERE id = :id"),
                    {"v": b, "id": county["homes"][0].id})
    assert session.scalar(village_of_case) == b
    moved = tally_queries.case_outcomes(session, *BORN, [a, b])
    assert moved[b]["returned_all"] == 1 and moved.get(a, {}).get("returned_all", 0) == 0
    assert moved == {c: v for c, v in tally_queries.case_outcomes(session, *BORN).items() if c in (a, b)}
