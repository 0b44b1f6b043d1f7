"""The demo county's files go through the real import path: the register's seeded bad rows are
reported row by row, and the register of a month later yields exactly the planted dropouts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from server.demo import files
from server.imports.models import SuspectedDropout


def test_the_demo_register_reports_its_seeded_bad_rows_and_lists_migrants(county, tmp_path, upload, city,
                                                                         client):
    roster = files.write_table(tmp_path / "roster.xlsx", files.roster_table(county), fmt="xlsx")
    upload(city, "roster", roster.read_bytes(), filename="roster.xlsx")
    table = files.register_table(county)
    path = files.write_table(tmp_path / "register.gb18030.csv", table, fmt="gb18030")
    shown = upload(city, "register", path.read_bytes(), filename=path.name)

    problems = client.get(f"/api/v1/imports/{shown['id']}/problems?page_size=500", headers=city).json["items"]
    assert [(p["line"], p["column"], p["code"]) for p in problems] == sorted(
        (s.line, s.column, s.code) for s in table.seeded)
    migrants = [row for row in table.rows if not row[2].startswith("320685")]
    assert migrants and shown["summary"]["not_in_roster"] >= len(migrants)
    listed = client.get("/api/v1/imports/register-not-in-roster?page_size=500", headers=city).json
    assert {m[0] for m in migrants if m[0]} <= {s["name"] for s in listed["items"]}


def test_the_later_demo_register_flags_the_planted_dropouts_and_not_the_real_transfers(
        county, tmp_path, upload, city, session, vault):
    upload(city, "roster", files.write_table(tmp_path / "r.csv", files.roster_table(county)).read_bytes())
    first = files.write_table(tmp_path / "reg.csv", files.register_table(county, bad_rows=False))
    upload(city, "register", first.read_bytes(), as_of=dt.date(2027, 5, 20))
    later = files.later_register_table(county)
    path = files.write_later_register(county, tmp_path)
    shown = upload(city, "register", path.read_bytes(), as_of=dt.date(2027, 6, 20))

    flagged = dict(session.execute(
        select(SuspectedDropout.id_number_lookup, SuspectedDropout.kind)
        .where(SuspectedDropout.register_import_id == shown["id"])).all())
    expected = {vault.lookup(n): "left_register" for n in later.gone}
    expected.update({vault.lookup(n): "transferred_out_not_received" for n in later.unreceived})
    assert later.gone and later.unreceived and later.transferred
    assert flagged == expected


def test_the_field_week_plays_on_the_imported_county_as_run_sh_loads_it(county, tmp_path, upload, city, session,
                                                                        vault):
    from server.cases.models import Case
    from server.demo import field_week
    from server.people.models import Child, Household

    upload(city, "roster", files.write_table(tmp_path / "r.csv", files.roster_table(county)).read_bytes())
    upload(city, "register", files.write_table(tmp_path / "g.csv", files.register_table(county)).read_bytes(),
           as_of=dt.date(2027, 5, 20))
    # The children on file are the import's, under ids of their own: the week finds them by ID number.
    result = field_week.play(session, county, vault, dt.date.today())
    assert result["children_surveyed"] > 0 and result["conflicts_opened"] >= 3 and result["duplicate_pairs"] >= 2
    assert session.scalar(select(Child.id).where(Child.disability, Child.enrollment_status == "home_teaching"))
    located = session.scalars(select(Household.location_approximate)).all()
    assert located.count(False) == result["households_surveyed"]
    for case in session.scalars(select(Case)):
        assert case.deadline is None or case.opened_at.date() < case.deadline
