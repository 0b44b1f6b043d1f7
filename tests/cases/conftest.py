import datetime as dt

import pytest

from server.campaigns.models import Campaign
from server.campaigns.queries import deactivate_all

TODAY = dt.date(2027, 7, 2)  # in 督察整改: the 劝返复学 deadline (30 June) has passed


@pytest.fixture
def pinned_today(app):
    app.config["CASES_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("CASES_TODAY", None)


@pytest.fixture
def campaign(session):
    deactivate_all(session)
    c = Campaign(name="2027年控辍保学", school_year=2027, publicity_start=dt.date(2027, 4, 20),
                 survey_start=dt.date(2027, 5, 21), persuasion_start=dt.date(2027, 6, 10),
                 enforcement_start=dt.date(2027, 7, 1), enforcement_end=dt.date(2027, 7, 10), active=True)
    session.add(c)
    session.flush()
    return c


@pytest.fixture
def town_cases(make_town, make_village, make_household, make_child, make_school, make_person, campaign,
               pinned_today):
    """A town with a dropout, a never-enrolled child, an enrolled child and a suspected one."""
    town = make_town()
    village = make_village(town)
    other_town_village = make_village(make_town())
    school = make_school(town)
    home = make_household(village)
    kids = {
        "dropout": make_child(home, name="王小明", enrollment_status="dropped_out", school_id=school.id,
                              guardian_name="王大明"),
        "never": make_child(home, name="王小红", enrollment_status="never_enrolled"),
        "enrolled": make_child(home, enrollment_status="enrolled"),
        "suspected": make_child(home, enrollment_status="suspected_out_of_school"),
        "elsewhere": make_child(make_household(other_town_village), enrollment_status="dropped_out"),
    }
    people = {
        "supervisor": make_person("town_supervisor", town=town),
        "leader": make_person("team_leader", villages=[village]),
        "school": make_person("school", school=school),
        "other_school": make_person("school", school=make_school(town)),
        "city": make_person("city"),
    }
    return {"town": town, "village": village, "school": school, "kids": kids, "people": people}
