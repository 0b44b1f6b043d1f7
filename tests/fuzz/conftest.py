"""A small seeded county for the API fuzz test, held for the whole module in one transaction.

The module's connection opens a transaction that is rolled back at the end; the app's sessions
join it through savepoints (as in tests/conftest.py's `connection`), and every generated request
runs inside a savepoint of its own that is rolled back after it (`World.isolated`), so each
example sees the same seeded county: a logout, a revoked tablet or a resolved conflict does not
leak into the next example.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Person, Team
from server.attachments import service as attachments
from server.cases import demo as cases_demo
from server.cases import jobs as cases_jobs
from server.cases.models import Case
from server.demo import files as demo_files
from server.demo import generator, loader
from server.forms import service as forms_service
from server.imports import service as imports
from server.people.models import Child, Household
from server.places.models import Town, Village
from server.reports import jobs as reports_jobs
from server.sync.models import Conflict, DuplicateCandidate
from tests.conftest import TEST_PASSWORD

KNOWN: dict[str, list] = {}  # path parameter -> values that exist in the seeded county
KNOWN_PATHS: list[dict] = []  # whole sets of path parameters that go together (a form version, a tile)
TODAY = dt.date(2027, 7, 2)  # the tiny county's campaign is in 督察整改 then; cases are overdue


@dataclass
class World:
    connection: object
    city_headers: dict
    tablet_headers: dict

    @contextlib.contextmanager
    def isolated(self):
        """Run one example in a savepoint that is rolled back afterwards, and released: a
        savepoint outlives ROLLBACK TO, so without the RELEASE every example would nest one level
        deeper and keep its transaction id locked until PostgreSQL runs out of lock slots."""
        self.connection.exec_driver_sql("SAVEPOINT fuzz_example")
        try:
            yield
        finally:
            self.connection.exec_driver_sql("ROLLBACK TO SAVEPOINT fuzz_example")
            self.connection.exec_driver_sql("RELEASE SAVEPOINT fuzz_example")


def _tile_of(lon: float, lat: float, z: int) -> dict:
    """The web-mercator tile that holds a point."""
    n = 2**z
    return {"z": z, "x": int((lon + 180) / 360 * n),
            "y": int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)}


@pytest.fixture(scope="module")
def world(app, redis_conn, tmp_path_factory):
    db = app.extensions["notoneless.db"]
    conn = db.engine.connect()
    outer = conn.begin()
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # as in tests/conftest.py's `connection`
    original = db.sessionmaker
    db.sessionmaker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    saved = {key: app.config.get(key) for key in ("ATTACHMENTS_DIR", "CASES_TODAY")}
    app.config["ATTACHMENTS_DIR"] = str(tmp_path_factory.mktemp("attachments"))
    app.config["CASES_TODAY"] = TODAY.isoformat()
    try:
        yield _seed(app, conn, tmp_path_factory.mktemp("files"))
    finally:
        KNOWN.clear()
        KNOWN_PATHS.clear()
        for key, value in saved.items():
            if value is None:
                app.config.pop(key, None)
            else:
                app.config[key] = value
        db.sessionmaker = original
        outer.rollback()
        conn.close()


def _seed(app, conn, files_dir) -> World:
    """The tiny demo county with its forms, its schools' register imported, cases, two enrolled
    tablets, a notice and an export rendered, an open conflict, a duplicate pair and a photo."""
    vault = app.extensions["notoneless.vault"]
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    county = generator.generate("tiny", seed=7)
    loader.load(session, county, vault, TEST_PASSWORD)
    forms = forms_service.publish_builtin(session)
    # The schools' register, imported (with the demo's bad rows, so its problems page has some).
    register = demo_files.write_table(files_dir / "register.csv", demo_files.register_table(county, seed=7))
    imported = imports.create_import(session, kind="register", filename="register.csv",
                                     content=register.read_bytes(), person=None, as_of=TODAY)
    imports.process_import(session, vault, imported.id, imports.Progress(lambda **_: None))
    # The tiny county's children are all in a register: make some suspected, and let the demo's
    # field results confirm a third of them, open their cases and escalate one past its deadline.
    suspected = select(Child.id).order_by(Child.birth_date, Child.id).limit(9).scalar_subquery()
    session.execute(update(Child).where(Child.id.in_(suspected))
                    .values(enrollment_status="suspected_out_of_school", school_id=None, school_name=None))
    cases_demo.field_results(session, TODAY)
    photo = b"\x89PNG\r\n\x1a\n fuzz attachment"
    photo_sha = hashlib.sha256(photo).hexdigest()
    city = session.scalar(select(Person.id).where(Person.role == "city").order_by(Person.id).limit(1))
    attachments.store(session, app.config["ATTACHMENTS_DIR"], photo_sha, photo, city, None,
                      app.config["ATTACHMENT_MAX_BYTES"])
    children = session.execute(select(Child.id, Child.village_code).order_by(Child.village_code, Child.id)).all()
    (first, village), (second, _) = children[0], children[1]
    now = dt.datetime.now(dt.UTC).isoformat()
    conflict = Conflict(record_type="child", record_id=first, village_code=village, field="guardian_name",
                        values=[{"value": "王甲", "device_id": None, "captured_at": now},
                                {"value": "王乙", "device_id": None, "captured_at": now}])
    duplicate = DuplicateCandidate(child_a=min(first, second), child_b=max(first, second), village_code=village,
                                   reason="same_name_birth_household")
    session.add_all([conflict, duplicate])
    session.flush()
    surveyors = list(session.scalars(select(Person.id).where(Person.username.in_(["t01g01.s1", "t01s01.s1"]))
                                     .order_by(Person.username)))
    case_ids = list(session.scalars(select(Case.id).where(Case.closed_at.is_(None)).order_by(Case.id).limit(5)))
    KNOWN.update({
        "child_id": [str(first), str(second)],
        "household_id": [str(v) for v in session.scalars(select(Household.id).order_by(Household.id).limit(3))],
        "case_id": case_ids,
        "code": list(session.scalars(select(Village.code).order_by(Village.code).limit(2)))
        + list(session.scalars(select(Town.code).order_by(Town.code).limit(2))),
        "team_id": list(session.scalars(select(Team.id).order_by(Team.id).limit(3))),
        "conflict_id": [str(conflict.id)],
        "candidate_id": [duplicate.id],
        "import_id": [imported.id],
        "sha256": [photo_sha],
    })
    KNOWN_PATHS.extend([{"form_id": f.form_id, "version": f.version} for f in forms])
    lon, lat = session.execute(text("SELECT ST_X(centroid), ST_Y(centroid) FROM villages ORDER BY code LIMIT 1")).one()
    KNOWN_PATHS.extend({"layer": layer, **_tile_of(lon, lat, z)} for layer in ("households", "children", "villages")
                       for z in (10, 14))
    session.commit()  # (a savepoint of the module's transaction)
    session.close()

    client = app.test_client()

    def call(method, path, expect, headers=None, **kwargs):
        response = client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        assert response.status_code == expect, (path, response.status_code, response.get_data(as_text=True))
        return response.json

    city = {"Authorization": f"Bearer {call('POST', '/auth/login', 200, json={'username': 'city', 'password': TEST_PASSWORD})['token']}"}
    tablets = []
    for surveyor in surveyors:
        code = call("POST", "/devices/enrollment-codes", 201, city, json={"surveyor_id": surveyor})
        enrolled = call("POST", "/devices/enroll", 200, json={
            "enrollment_code": code["enrollment_code"], "device_name": f"模糊测试平板{surveyor}", "platform": "test"})
        tablets.append(enrolled)
    notice = call("POST", f"/cases/{case_ids[0]}/notices", 202, city, json={"kind": "return"})
    export = call("POST", "/reports/exports", 202, city, json={"by": "town"})
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    cases_jobs.render_notice_in(session, notice["id"], "测试县教育体育局")
    reports_jobs.build_export_in(session, export["id"], TODAY)
    session.commit()
    session.close()
    KNOWN.update({
        "device_id": [t["device_id"] for t in tablets],
        # A Collect device's URL carries its token; the fuzzer's OpenRosa calls use it too.
        "token": [call("POST", "/devices/collect", 201, city, json={
            "surveyor_id": surveyors[0], "device_name": "模糊测试Collect"})["server_url"].rsplit("/", 1)[1]],
        "code_id": [code["id"]],
        "notice_id": [notice["id"]],
        "export_id": [export["id"]],
    })
    return World(conn, city, {"Authorization": f"Bearer {tablets[0]['token']}"})
