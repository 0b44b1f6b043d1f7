"""Visit lists: tier order, walking routes, GPX/KML, delivery to tablets and closing by survey."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from server.accounts.models import team_members
from server.maps import routing

# A 4 x 4 block of houses 100 m apart (about 0.001 degrees), visited in a shuffled order.
GRID = [(120.40 + 0.00107 * (i % 4), 32.50 + 0.0009 * (i // 4)) for i in range(16)]


@pytest.mark.parametrize("use_ortools", [True, False])
def test_the_route_is_shorter_than_the_input_order(use_ortools):
    points = GRID[:]
    random.Random(3).shuffle(points)
    start = (120.3995, 32.4995)
    order = routing.order_route(start, points, use_ortools=use_ortools)
    assert sorted(order) == list(range(len(points)))
    walked = routing.route_length(start, points, order)
    given = routing.route_length(start, points, range(len(points)))
    assert walked < given * 0.6
    # a snake through a 4 x 4 grid of ~100 m cells from a corner: 15 steps of ~100 m
    assert walked < 1700


def test_ortools_is_used_when_installed():
    assert routing.pywrapcp is not None


def test_gcj02_shifts_points_in_china_only():
    lon, lat = routing.wgs84_to_gcj02(120.46, 32.53)
    # the shift near Hai'an is a few hundred metres to the east-south-east
    assert 100 < routing.distance_m((120.46, 32.53), (lon, lat)) < 800
    assert lon > 120.46
    assert routing.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def _team_of(session, person):
    return session.scalar(select(team_members.c.team_id).where(team_members.c.person_id == person.id))


def test_a_visit_list_puts_out_of_school_first_then_priority_groups_then_unsurveyed(client, login, world, session):
    team = _team_of(session, world.surveyor_a1)
    response = client.post(f"/api/v1/teams/{team}/tasks/generate", headers=login(world.supervisor_a),
                           json={"start": {"lat": 32.50, "lon": 120.40}})
    assert response.status_code == 200, response.json
    hh = world.households
    assert [(t["household_id"], t["priority"], t["reason"], t["route_order"]) for t in response.json] == [
        (str(hh["a1_out"].id), 1, "out_of_school", 1),
        (str(hh["a1_left"].id), 2, "left_behind", 2),
        (str(hh["a1_new"].id), 3, "unsurveyed", 3),
    ]
    # regenerating changes nothing: same tasks, same versions
    again = client.post(f"/api/v1/teams/{team}/tasks/generate", headers=login(world.supervisor_a), json={})
    assert [(t["id"], t["version"]) for t in again.json] == [(t["id"], t["version"]) for t in response.json]
    listed = client.get(f"/api/v1/teams/{team}/tasks", headers=login(world.surveyor_a1))
    assert [t["id"] for t in listed.json] == [t["id"] for t in response.json]


def test_only_managers_in_scope_generate_lists(client, login, world, session):
    team = _team_of(session, world.surveyor_a1)
    assert client.post(f"/api/v1/teams/{team}/tasks/generate", headers=login(world.surveyor_a1),
                       json={}).status_code == 403
    other = client.post(f"/api/v1/teams/{team}/tasks/generate", headers=login(world.supervisor_b), json={})
    assert other.status_code == 404
    assert client.get(f"/api/v1/teams/{team}/tasks.gpx", headers=login(world.supervisor_b)).status_code == 404


def test_gpx_and_kml_exports_follow_the_route(client, login, world, session):
    team = _team_of(session, world.surveyor_a1)
    headers = login(world.supervisor_a)
    tasks = client.post(f"/api/v1/teams/{team}/tasks/generate", headers=headers, json={}).json
    gpx = client.get(f"/api/v1/teams/{team}/tasks.gpx", headers=headers)
    assert gpx.status_code == 200 and gpx.mimetype == "application/gpx+xml"
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    points = ET.fromstring(gpx.data).findall("g:rte/g:rtept", ns)
    # only surveyed points: 赵三's point is its village's centre, no door to walk to
    surveyed = [t for t in tasks if not t["location_approximate"]]
    assert len(surveyed) == len(tasks) - 1
    assert [(float(p.get("lon")), float(p.get("lat"))) for p in points] == [(t["lon"], t["lat"]) for t in surveyed]
    assert points[0].find("g:name", ns).text.startswith("1. 王大")
    kml = client.get(f"/api/v1/teams/{team}/tasks.kml", headers=headers)
    marks = ET.fromstring(kml.data).findall(".//{http://www.opengis.net/kml/2.2}Placemark")
    assert len(marks) == len(surveyed) + 1  # the route line and one mark per surveyed household


def test_tasks_reach_tablets_read_only_and_close_when_the_survey_arrives(client, login, world, session, enroll,
                                                                         forms):
    tablet = enroll([world.a1])
    team = _team_of(session, tablet.surveyor)
    generated = client.post(f"/api/v1/teams/{team}/tasks/generate", headers=login(world.supervisor_a), json={}).json
    changes, cursor, _ = tablet.pull_all()
    tasks = {c["record"]["id"]: c["record"] for c in changes if c["op"] == "upsert" and c["record"]["type"] == "task"}
    assert set(tasks) == {t["id"] for t in generated}
    record = tasks[generated[0]["id"]]
    assert record["household_id"] == str(world.households["a1_out"].id)
    assert record["fields"] == {"team_id": team, "priority": 1, "reason": "out_of_school", "route_order": 1,
                                "status": "open"}
    # tablets never write tasks
    sub = tablet.submission("household", world.households["a1_left"].id, {"notes": "已走访"},
                            base_version=world.households["a1_left"].version, village_code=world.a1.code)
    task_sub = dict(sub, submission_id=sub["submission_id"][:-1] + "0", record=dict(sub["record"], type="task"))
    receipts = tablet.push(task_sub)
    assert receipts[0]["status"] == "rejected"
    # the household survey of 李二 closes the team's task for that household
    (receipt,) = tablet.push(sub)
    assert receipt["status"] in ("applied", "merged"), receipt
    changes, _, _ = tablet.pull_all(cursor)
    done = [c["record"] for c in changes if c["op"] == "upsert" and c["record"]["type"] == "task"]
    assert [(r["household_id"], r["fields"]["status"], r["version"]) for r in done] == [
        (str(world.households["a1_left"].id), "done", 2)]


def test_a_town_rebuild_is_queued_after_commit_and_the_job_builds_every_team_list(app, client, login, world, session,
                                                                                    redis_conn):
    from server import jobs
    from server.maps.jobs import regenerate_town_tasks

    with app.app_context():
        q = jobs.queue("maps")
        q.empty()
    response = client.post(f"/api/v1/towns/{world.town_a.code}/tasks/generate", headers=login(world.supervisor_a))
    assert response.status_code == 202 and response.json["teams"] >= 1
    assert q.count == 1 and "regenerate_town_tasks" in q.jobs[0].description
    other = client.post(f"/api/v1/towns/{world.town_a.code}/tasks/generate", headers=login(world.supervisor_b))
    assert other.status_code == 404
    q.empty()
    with app.app_context():
        counts = regenerate_town_tasks(world.town_a.code)
        assert regenerate_town_tasks(world.town_a.code) == counts  # safe to run twice
    team = _team_of(session, world.surveyor_a1)
    assert counts[team] == 3
    listed = client.get(f"/api/v1/teams/{team}/tasks", headers=login(world.supervisor_a)).json
    assert [t["reason"] for t in listed] == ["out_of_school", "left_behind", "unsurveyed"]
