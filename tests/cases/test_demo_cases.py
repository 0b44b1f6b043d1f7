"""The demo's field results leave cases, overdue ones and rates on a fresh demo county."""

import datetime as dt

from sqlalchemy import select, update

from server.cases import demo
from server.people.models import Child


def test_demo_field_results_open_cases_some_overdue(tiny_county, session, client, login, make_person):
    today = dt.date.today()
    # The tiny county has no child outside the registers; the small and full ones do.
    ids = session.scalars(select(Child.id).order_by(Child.id).limit(12)).all()
    session.execute(update(Child).where(Child.id.in_(ids)).values(enrollment_status="suspected_out_of_school"))
    first = demo.field_results(session, today)
    assert first["cases_opened"] == first["confirmed_out_of_school"] > 0
    again = demo.field_results(session, today)  # run.sh on a reload: nothing opens twice
    assert again["cases_opened"] == 0
    headers = login(make_person("city"))
    overdue = client.get("/api/v1/cases?overdue=true", headers=headers).json
    assert overdue["total"] == first["escalated_overdue"] > 0
    report = client.get("/api/v1/reports/rates?by=town", headers=headers).json
    assert len(report["rows"]) == 2 and report["total"]["out_of_school"] > 0
    assert report["cases"]["overdue"] == first["escalated_overdue"]
