"""Visit lists in the workbench: the teams, the background build with its progress, the route
with and without surveyed points, and the list as PDF, XLSX, GPX and KML (addresses, never ID
numbers)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from rq import SimpleWorker
from sqlalchemy import select

from server import jobs
from server.accounts.models import Team
from server.jobs.models import OutboxJob
from server.maps import builds, tasks
from server.maps.jobs import build_team_tasks
from server.people.protection import child_subject
from tests.maps.conftest import point, square


@dataclass
class Field:
    team: int
    leader: object
    supervisor: object
    other_supervisor: object
    surveyor: object
    hh: dict
    numbers: list


@pytest.fixture
def field(make_town, make_village, make_household, make_child, make_person, session, vault):
    town, other = make_town(), make_town()
    v1 = make_village(town, wkt=square(120.40, 32.50), name="东风村")
    v2 = make_village(town, wkt=square(120.42, 32.50), name="红旗村")

    def house(village, key, *, gps=None, approximate=False, group=None, number=None, status="visited", **fields):
        return key, make_household(village, location=point(*gps) if gps else None, location_approximate=approximate,
                                   survey_status=status, group_name=group, household_number=number, **fields)

    hh = dict([
        # out of school: two with surveyed points, three without (one at the village centre only)
        house(v1, "far", gps=(120.419, 32.519), group="1组", number="1", head_name="王远",
              address="东风村1组1号", phone="13800000001"),
        house(v1, "near", gps=(120.408, 32.508), group="1组", number="2", head_name="李近",
              address="东风村1组2号", phone="13800000002"),
        house(v1, "g10n3", gps=(120.41, 32.51), approximate=True, group="10组", number="3", head_name="赵十",
              address="东风村10组3号", phone="13800000003"),
        house(v1, "g2n15", group="2组", number="15", head_name="钱十五", address="东风村2组15号"),
        house(v1, "g2n9", group="2", number="9号", head_name="孙九", address="东风村2组9号", phone="13800000009"),
        # a priority group, and a household nobody surveyed yet, in the other village
        house(v2, "left", gps=(120.425, 32.505), group="3组", number="7", head_name="周留",
              address="红旗村3组7号"),
        house(v2, "new", group="4组", number="1", head_name="吴新", address="红旗村4组1号", status="not_visited"),
    ])
    for key in ("far", "near", "g10n3", "g2n15", "g2n9"):
        make_child(hh[key], name=f"{hh[key].head_name}之子", enrollment_status="dropped_out")
    make_child(hh["left"], name="周小留", enrollment_status="enrolled", left_behind=True)
    leader = make_person("team_leader", villages=[v1, v2])
    team = session.scalar(select(Team.id).where(Team.leader_id == leader.id))
    numbers = [vault.decrypt(c.id_number_cipher, child_subject(c.id)) for h in hh.values() for c in _children(session, h)]
    return Field(team, leader, make_person("town_supervisor", town=town), make_person("town_supervisor", town=other),
                 make_person("surveyor", villages=[v1]), hh, numbers)


def _children(session, household):
    from server.people.models import Child

    return session.scalars(select(Child).where(Child.household_id == household.id)).all()


EXPECTED = ["near", "far", "g2n9", "g2n15", "g10n3", "left", "new"]


def _order(field, listed):
    by_id = {str(h.id): k for k, h in field.hh.items()}
    return [by_id[t["household_id"]] for t in listed]


def _work(app):
    with app.app_context():
        q = jobs.queue("maps")
        SimpleWorker([q], connection=q.connection).work(burst=True)


def test_a_list_is_built_in_the_background_with_progress_the_page_polls(app, client, login, field, session,
                                                                        redis_conn):
    with app.app_context():
        jobs.queue("maps").empty()
    headers = login(field.leader)
    assert client.get(f"/api/v1/teams/{field.team}/tasks/build", headers=headers).json["status"] == "idle"
    asked = client.post(f"/api/v1/teams/{field.team}/tasks/build", headers=headers)
    assert asked.status_code == 202, asked.json
    assert asked.json["status"] == "queued" and asked.json["tasks_open"] == 0
    # a second click while it waits queues nothing more
    again = client.post(f"/api/v1/teams/{field.team}/tasks/build", headers=login(field.supervisor))
    assert again.status_code == 202 and again.json["status"] == "queued"
    with app.app_context():
        assert jobs.queue("maps").count == 1
    assert client.get(f"/api/v1/teams/{field.team}/tasks/build", headers=headers).json["status"] == "queued"

    _work(app)  # a real RQ worker, in burst mode

    status = client.get(f"/api/v1/teams/{field.team}/tasks/build", headers=headers).json
    assert status["status"] == "done", status
    assert (status["phase"], status["done"], status["total"], status["tasks_open"]) == ("done", 7, 7, 7)
    assert status["started_at"] and status["finished_at"] and status["error"] is None
    assert session.scalar(select(OutboxJob.id).where(OutboxJob.function == builds.JOB)) is None
    listed = client.get(f"/api/v1/teams/{field.team}/tasks", headers=headers).json
    assert _order(field, listed) == EXPECTED
    # a new build can be asked for once this one is done
    assert client.post(f"/api/v1/teams/{field.team}/tasks/build", headers=headers).json["status"] == "queued"
    with app.app_context():
        jobs.queue("maps").empty()


def test_the_job_reports_its_phases_and_is_safe_to_run_twice(app, client, login, field, session, redis_conn):
    seen = []
    assert tasks.build(session, field.team, None, lambda *step: seen.append(step)) == 7
    phases = [p for p, _d, _t in seen]
    assert phases[0] == "reading" and phases[-1] == "saving" and "routing" in phases
    routing = [(d, t) for p, d, t in seen if p == "routing"]
    assert routing[0] == (0, 7) and routing[-1] == (7, 7)
    assert [d for d, _t in routing] == sorted(d for d, _t in routing)  # it only goes forward

    with app.app_context():
        assert build_team_tasks(field.team, "t1") == 7
        first = client.get(f"/api/v1/teams/{field.team}/tasks", headers=login(field.leader)).json
        assert build_team_tasks(field.team, "t1") == 7
    second = client.get(f"/api/v1/teams/{field.team}/tasks", headers=login(field.leader)).json
    assert [(t["id"], t["version"], t["route_order"]) for t in second] == [
        (t["id"], t["version"], t["route_order"]) for t in first]
    with app.app_context():
        state = builds.read(app, field.team)
    assert (state["status"], state["token"], state["done"]) == ("done", "t1", "7")


def test_the_route_walks_surveyed_points_and_orders_the_rest_by_group_and_number(client, login, field):
    headers = login(field.supervisor)
    # start beside 李近: the walk goes to her first, then to 王远 at the village's far corner
    built = client.post(f"/api/v1/teams/{field.team}/tasks/generate", headers=headers,
                        json={"start": {"lon": 120.4005, "lat": 32.5005}}).json
    assert _order(field, built) == EXPECTED
    assert [t["route_order"] for t in built] == list(range(1, 8))
    # 赵十's point is the village's centre: not a place the walk goes to, so it is ordered by 组/号
    assert [(t["lon"] is None, t["location_approximate"]) for t in built][:5] == [
        (False, False), (False, False), (True, False), (True, False), (False, True)]


def test_without_any_surveyed_point_the_list_is_in_group_and_number_order():
    from types import SimpleNamespace as Row

    rows = [Row(id=f"h{i}", village_code=v, priority="unsurveyed", group_name=g, household_number=n, address=a,
                lon=lon, lat=lat, location_approximate=True, vulnerable=False, disabled=False, left_behind=False,
                migrant=False)
            for i, (v, g, n, a, lon, lat) in enumerate([
                ("B", "1组", "1", None, None, None), ("A", "12组", "2", None, 120.41, 32.51),
                ("A", "3组", "10", None, None, None), ("A", "3组", "2", None, 120.41, 32.51),
                ("A", None, None, None, None, None),
                # the roster's 户号 numbers registrations; the address's 号 is the door: 28 before 104
                ("C", "1组", "0010010005", "江苏省海安市民利社区1组104号", None, None),
                ("C", "1组", "0010010007", "江苏省海安市民利社区1组28号", None, None)])]
    planned = tasks.plan(rows, (120.0, 32.0))
    assert [t["household_id"] for t in planned] == ["h4", "h3", "h2", "h1", "h0", "h6", "h5"]
    assert tasks.door("1组", "0010010007", "江苏省海安市民利社区1组28号") == ("1组", "28")
    assert tasks.group_number(*tasks.door("2", "9号", None)) == "2组9号"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _no_id_numbers(text: str, numbers: list[str]):
    assert numbers and not any(n in text for n in numbers)
    assert not re.search(r"\d{15,18}", text)  # nor anything shaped like one


def test_the_pdf_lists_group_number_address_head_phone_and_reason(client, login, field):
    headers = login(field.leader)
    client.post(f"/api/v1/teams/{field.team}/tasks/generate", headers=headers, json={})
    response = client.get(f"/api/v1/teams/{field.team}/tasks.pdf", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="team-' in response.headers["Content-Disposition"]
    text = _pdf_text(response.data)
    assert "控辍保学入户走访清单" in text and "东风村、红旗村" in text
    for header in ("组/号", "地址", "户主", "联系电话", "走访原因"):
        assert header in text
    for expected in ("2组9号", "东风村2组9号", "孙九", "13800000009", "疑似失学辍学", "留守儿童", "未走访",
                     "10组3号", "赵十"):
        assert expected in text, expected
    # in route order: 孙九 (2组9号) before 钱十五 (2组15号) before 赵十 (10组)
    assert text.index("孙九") < text.index("钱十五") < text.index("赵十")
    _no_id_numbers(text, field.numbers)


def test_the_xlsx_has_the_same_columns_as_cells(client, login, field):
    headers = login(field.supervisor)
    client.post(f"/api/v1/teams/{field.team}/tasks/generate", headers=headers, json={})
    response = client.get(f"/api/v1/teams/{field.team}/tasks.xlsx", headers=headers)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0].startswith("控辍保学入户走访清单")
    header = rows[2]
    assert header == ["序号", "村（社区）", "组/号", "地址", "户主", "联系电话", "走访原因", "定位", "走访情况"]
    body = rows[3:10]
    assert body[2] == [3, "东风村", "2组9号", "东风村2组9号", "孙九", "13800000009", "疑似失学辍学", "无", None]
    assert body[0][:8] == [1, "东风村", "1组2号", "东风村1组2号", "李近", "13800000002", "疑似失学辍学", "有"]
    assert [r[6] for r in body] == ["疑似失学辍学"] * 5 + ["留守儿童", "未走访"]
    assert sheet.freeze_panes == "D4"
    _no_id_numbers(" ".join(str(v) for r in rows for v in r if v is not None), field.numbers)


def test_gpx_and_kml_carry_the_addresses(client, login, field):
    headers = login(field.leader)
    client.post(f"/api/v1/teams/{field.team}/tasks/generate", headers=headers, json={})
    gpx = client.get(f"/api/v1/teams/{field.team}/tasks.gpx", headers=headers)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    route = ET.fromstring(gpx.data).find("g:rte", ns)
    points = route.findall("g:rtept", ns)
    # the three households with a surveyed point, in route order, each with its address
    assert [p.find("g:name", ns).text for p in points] == [
        "1. 李近（东风村1组2号）", "2. 王远（东风村1组1号）", "6. 周留（红旗村3组7号）"]
    assert points[0].find("g:desc", ns).text == "地址：东风村1组2号；原因：疑似失学辍学；电话：13800000002"
    assert "另有4户尚无定位" in route.find("g:desc", ns).text
    kml = client.get(f"/api/v1/teams/{field.team}/tasks.kml", headers=headers)
    k = "{http://www.opengis.net/kml/2.2}"
    marks = [m for m in ET.fromstring(kml.data).iter(f"{k}Placemark") if m.find(f"{k}Point") is not None]
    assert [m.find(f"{k}address").text for m in marks] == ["东风村1组2号", "东风村1组1号", "红旗村3组7号"]
    assert "地址：红旗村3组7号；原因：留守儿童" == marks[2].find(f"{k}description").text
    for body in (gpx.data, kml.data):
        _no_id_numbers(body.decode(), field.numbers)


def test_teams_are_listed_with_their_villages_in_scope(client, login, field):
    listed = client.get("/api/v1/visit-lists", headers=login(field.supervisor))
    assert listed.status_code == 200
    (team,) = [t for t in listed.json if t["id"] == field.team]
    assert [v["name"] for v in team["villages"]] == ["东风村", "红旗村"]
    assert team["manages"] is True and team["leader_name"] == field.leader.full_name
    assert [t["id"] for t in client.get("/api/v1/visit-lists", headers=login(field.other_supervisor)).json] == []
    mine = client.get("/api/v1/visit-lists", headers=login(field.surveyor)).json
    assert [t["manages"] for t in mine] == [False]
    # building, polling and printing are for who manages the team
    for path in ("tasks/build", "tasks.pdf", "tasks.xlsx"):
        assert client.get(f"/api/v1/teams/{field.team}/{path}", headers=login(field.other_supervisor)).status_code == 404
        assert client.get(f"/api/v1/teams/{field.team}/{path}", headers=login(field.surveyor)).status_code == 403
    assert client.post(f"/api/v1/teams/{field.team}/tasks/build",
                       headers=login(field.other_supervisor)).status_code == 404
    assert client.post("/api/v1/teams/999999/tasks/build", headers=login(field.supervisor)).status_code == 404
