"""The authorization matrix's world: two towns, each with everything an endpoint can point at.

Town A is the in-scope town of every area actor (its supervisor, a team over its village, a
surveyor of that team and the tablet enrolled for them, its school). Within town A, some things
are still not every actor's: the school-line team over the same village (its leader, surveyor,
tablet and visit list) is not the government-line leader's to manage, and the children who are
not the school's students (and the household where none of them lives) are not the school's to
see; `hidden` names their strings per actor. Town B is out of scope for
all of them; every name, address, file name and photo of town B carries `marker` (越界标记 and a
random token), so that a leak shows up as that string in any response: JSON, GeoJSON, a tile's
bytes, an XLSX's sheet XML, a GPX/KML, a PDF's text.

Objects are made the way the app makes them: the services (log in, enrollment codes, imports,
notices, visit lists, exports), the built-in forms, and model rows where a tablet or a trigger
would have made them (conflicts, duplicate candidates).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import service as accounts
from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.passwords import hash_password
from server.accounts.scope import Scope, scope_of
from server.attachments import service as attachments
from server.campaigns.models import Campaign
from server.cases import jobs as case_jobs
from server.cases import service as cases
from server.cases.models import Case, SupportPlan
from server.cases.notices import NoticeSettings
from server.devices import service as devices
from server.forms import service as forms
from server.imports import service as imports
from server.imports.models import RosterReferral
from server.maps import tasks
from server.people import id_number
from server.people.models import Child, Household
from server.people.protection import child_subject, roster_subject
from server.places.models import Town, Village
from server.reports import jobs as report_jobs
from server.reports import service as reports
from server.schools.models import School
from server.sync import push as pushing
from server.sync.models import Conflict, DuplicateCandidate
from survey_forms import builtin
from tests.conftest import TEST_PASSWORD

ROSTER = ["姓名", "性别", "公民身份号码", "出生日期", "区镇", "村(社区)", "户号", "户主姓名"]
REGISTER = ["姓名", "性别", "身份证件号", "学籍号", "学校名称", "学校标识码", "年级", "班级", "在校状态"]
SQUARE = "MULTIPOLYGON((({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0})))"
TODAY = dt.date.today()


def square(x0: float, y0: float, size: float = 0.02) -> str:
    return "SRID=4326;" + SQUARE.format(x0=x0, y0=y0, x1=round(x0 + size, 6), y1=round(y0 + size, 6))


def point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon} {lat})"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ (web mercator) tile holding a point."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return z, x, y


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


@dataclass
class Side:
    """One town and what lives in it."""

    town: Town
    village: Village
    school: School
    team: Team
    households: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    cases: dict = field(default_factory=dict)
    notices: dict = field(default_factory=dict)
    conflicts: dict = field(default_factory=dict)
    duplicates: dict = field(default_factory=dict)
    devices: dict = field(default_factory=dict)
    imports: dict = field(default_factory=dict)
    exports: dict = field(default_factory=dict)
    attachments: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)  # enrollment codes for the QR: issuer -> (id, code)


@dataclass
class World:
    marker: str  # in every name of town B
    a_marker: str  # in town A's names, to see that the in-scope answers are not empty
    a: Side
    b: Side
    actors: dict  # actor name -> headers
    people: dict  # actor name -> Person (persons only)
    campaign: Campaign
    line_team: Team | None = None  # town A's school-line team over the same village
    line_people: dict = field(default_factory=dict)  # its leader and surveyor
    line_device: str = ""  # the tablet of its surveyor
    referral: int = 0  # a town-B roster row held for the bureau
    b_claimed_number: str = ""  # a town-B child's ID number, which a town-A roster names
    hidden: dict = field(default_factory=dict)  # actor -> strings of town A that actor may not receive
    register_imports: list = field(default_factory=list)
    cross_duplicate: int = 0  # a pair of an A child and a B child with the same ID number
    idle_device: str = ""  # a tablet of a town-B surveyor who has no team now
    enrollment_code: str = ""  # an unused code (POST /devices/enroll)
    tablet_token: str = ""  # town A's tablet's token (its OpenRosa URL carries it)
    form_upload: bytes = b""  # a new XLSForm version (POST /forms)
    forbidden: tuple = ()  # strings that no actor scoped to town A may ever receive

    def headers(self, actor: str) -> dict:
        return dict(self.actors[actor])


def _person(session: Session, role: str, username: str, full_name: str, password_hash: str, *, town=None,
            school=None, line=None) -> Person:
    person = Person(username=username, full_name=full_name, role=role, line=line, password_hash=password_hash,
                    town_code=town.code if town else None, school_id=school.id if school else None)
    session.add(person)
    session.flush()
    return person


def _join(session: Session, team: Team, person: Person) -> None:
    session.execute(team_members.insert().values(team_id=team.id, person_id=person.id))


def _token(session: Session, person: Person) -> dict:
    token, _access, _person = accounts.log_in(session, person.username, TEST_PASSWORD, dt.timedelta(hours=8))
    return {"Authorization": f"Bearer {token}"}


def _enroll(session: Session, issuer: Person, surveyor: Person, name: str):
    code, _row = devices.issue_code(session, issuer, scope_of(session, issuer), surveyor.id, dt.timedelta(hours=4))
    return devices.enroll(session, code, name, "test", dt.timedelta(days=30))


def _child(session: Session, vault, household: Household, name: str, number: str, birth: dt.date, **fields) -> Child:
    child_id = uuid.uuid4()
    child = Child(id=child_id, household_id=household.id, village_code=household.village_code, name=name,
                  gender="F" if int(number[16]) % 2 == 0 else "M", birth_date=birth,
                  id_number_cipher=vault.encrypt(number, child_subject(child_id)),
                  id_number_lookup=vault.lookup(number), **fields)
    session.add(child)
    session.flush()
    return child


def _import(session: Session, vault, kind: str, filename: str, content: bytes, person: Person,
            as_of: dt.date | None = None) -> int:
    """Upload through the service and run the job's work here (no worker: it is the same code)."""
    imp = imports.create_import(session, kind=kind, filename=filename, content=content, person=person, as_of=as_of)
    imports.process_import(session, vault, imp.id, imports.Progress(lambda **_values: None))
    session.flush()
    return imp.id


JPEG = b"\xff\xd8\xff\xe0"  # what makes the bytes a photo to the upload check


def build(session: Session, vault, attachments_dir: str, max_attachment: int) -> World:
    token = secrets.token_hex(4)
    marker, a_marker = f"越界标记{token}", f"本镇标记{token}"
    pw = hash_password(TEST_PASSWORD)
    seq = iter(range(100, 999))

    # The active campaign first: the trigger that opens a case for an out-of-school child uses it.
    session.execute(Campaign.__table__.update().values(active=False))
    campaign = Campaign(name="矩阵测试", school_year=2027, publicity_start=dt.date(2027, 4, 20),
                        survey_start=dt.date(2027, 5, 21), persuasion_start=dt.date(2027, 6, 10),
                        enforcement_start=dt.date(2027, 7, 1), enforcement_end=dt.date(2027, 7, 10), active=True)
    session.add(campaign)
    forms.publish_builtin(session)

    sides = {}
    for key, town_code, x0, y0, label in (("a", "320685801000", 120.40, 32.50, a_marker),
                                          ("b", "320685802000", 120.60, 32.60, marker)):
        town = Town(code=town_code, name=f"{'甲' if key == 'a' else '乙'}镇{label}", kind="town")
        session.add(town)
        session.flush()
        village = Village(code=town_code[:9] + "201", town_code=town.code, name=f"{label}村",
                          boundary=square(x0, y0), centroid=point(x0 + 0.01, y0 + 0.01))
        # School names are public facts (GET /schools lists every school): no marker there.
        school = School(code=f"21000008{'01' if key == 'a' else '02'}", name=f"{'甲' if key == 'a' else '乙'}镇中心小学",
                        town_code=town.code, stage="primary")
        session.add_all([village, school])
        session.flush()
        team = Team(name=f"{label}工作组", town_code=town.code, line="government")
        session.add(team)
        session.flush()
        session.execute(team_villages.insert().values(team_id=team.id, village_code=village.code))
        side = Side(town, village, school, team)
        side.people["supervisor"] = _person(session, "town_supervisor", f"sup_{key}_{token}", f"{label}督导", pw,
                                            town=town)
        side.people["team_leader"] = _person(session, "team_leader", f"lead_{key}_{token}", f"{label}组长", pw,
                                             line="government")
        side.people["surveyor"] = _person(session, "surveyor", f"surv_{key}_{token}", f"{label}调查员", pw,
                                          line="government")
        side.people["school"] = _person(session, "school", f"school_{key}_{token}", f"{label}学校账号", pw,
                                        school=school)
        team.leader_id = side.people["team_leader"].id
        _join(session, team, side.people["team_leader"])
        _join(session, team, side.people["surveyor"])

        hh = side.households
        hh["home"] = Household(village_code=village.code, household_number=f"{key.upper()}001",
                               head_name=f"{label}户主", address=f"{label}路1号",
                               location=point(x0 + 0.005, y0 + 0.005), location_approximate=False,
                               survey_status="visited")
        # A surveyed point outside the village polygon (and outside every other village).
        hh["astray"] = Household(village_code=village.code, household_number=f"{key.upper()}002",
                                 head_name=f"{label}偏户", address=f"{label}路2号",
                                 location=point(x0 + 0.10, y0 + 0.01), location_approximate=False,
                                 survey_status="visited")
        session.add_all(hh.values())
        session.flush()

        def number(birth):
            return id_number.make("320685", birth, next(seq))

        kids = side.children
        born = dt.date(2015, 3, 1)
        kids["pupil"] = _child(session, vault, hh["home"], f"{label}辍学生", number(born), born,
                               enrollment_status="dropped_out", school_id=school.id, school_name=school.name,
                               guardian_name=f"{label}监护人", guardian_phone="13800000000")
        kids["other"] = _child(session, vault, hh["home"], f"{label}在读生", number(dt.date(2016, 4, 2)),
                               dt.date(2016, 4, 2), enrollment_status="enrolled")
        # The same name and birth date in the same household: a possible duplicate.
        kids["twin"] = _child(session, vault, hh["home"], f"{label}在读生", number(dt.date(2016, 4, 2)),
                              dt.date(2016, 4, 2), enrollment_status="enrolled")
        # An out-of-school child whose case was closed: POST /cases/open opens a new one.
        kids["reopen"] = _child(session, vault, hh["home"], f"{label}再辍学", number(dt.date(2014, 1, 5)),
                                dt.date(2014, 1, 5), enrollment_status="dropped_out")
        kids["astray"] = _child(session, vault, hh["astray"], f"{label}偏户子", number(dt.date(2017, 6, 6)),
                                dt.date(2017, 6, 6), enrollment_status="suspected_out_of_school")
        session.flush()
        for name, child in kids.items():
            case = session.scalar(select(Case).where(Case.child_id == child.id))
            if case is not None:
                side.cases[name] = case
        closed = side.cases.pop("reopen")
        closed.status, closed.closed_at, closed.exemption_reason = "exempted", dt.datetime.now(dt.UTC), "deceased"
        session.add(SupportPlan(case_id=side.cases["pupil"].id, measures=[f"{label}资助"],
                                responsible_name=f"{label}负责人", created_by=side.people["supervisor"].id))
        sides[key] = side

    a, b = sides["a"], sides["b"]
    city = _person(session, "city", f"city_{token}", "市教体局", pw)
    inactive = _person(session, "town_supervisor", f"gone_{token}", "离任督导", pw, town=a.town)
    session.flush()

    # A child of town A with the ID number of town B's pupil (a migrant registered twice).
    b_pupil = b.children["pupil"]
    a.children["namesake"] = _child(session, vault, a.households["home"], "同号儿童",
                                    vault.decrypt(b_pupil.id_number_cipher, child_subject(b_pupil.id)),
                                    b_pupil.birth_date, enrollment_status="enrolled")

    # Conflicts and duplicate candidates, as a tablet's push leaves them.
    now = dt.datetime.now(dt.UTC).isoformat()
    for side, label in ((a, a_marker), (b, marker)):
        kid = side.children["other"]
        side.conflicts["name"] = Conflict(
            id=uuid.uuid4(), record_type="child", record_id=kid.id, village_code=side.village.code,
            field="guardian_name", values=[{"value": f"{label}甲", "device_id": None, "captured_at": now},
                                           {"value": f"{label}乙", "device_id": None, "captured_at": now}])
        pair = sorted([kid.id, side.children["twin"].id])
        side.duplicates["twins"] = DuplicateCandidate(child_a=pair[0], child_b=pair[1],
                                                      village_code=side.village.code,
                                                      reason="same_name_birth_household")
        session.add_all([side.conflicts["name"], side.duplicates["twins"]])
    pair = sorted([a.children["namesake"].id, b_pupil.id])
    cross = DuplicateCandidate(child_a=pair[0], child_b=pair[1], village_code=a.village.code, reason="same_id_number")
    session.add(cross)
    session.flush()

    # Attachments: certificate photos referred to by each town's pupil.
    for side, label in ((a, a_marker), (b, marker)):
        body = JPEG + f"证明照片 {label} {secrets.token_hex(8)}".encode()
        sha = hashlib.sha256(body).hexdigest()
        attachments.store(session, attachments_dir, sha, body, city.id, None, max_attachment)
        side.children["pupil"].certificate_photo = f"sha256:{sha}"
        side.attachments["certificate"] = sha
    session.flush()

    # Notices, rendered as the job renders them.
    for side in (a, b):
        notice = cases.issue_notice(session, Scope(True), side.people["supervisor"], side.cases["pupil"].id,
                                    {"kind": "return"}, TODAY, NoticeSettings(county="矩阵县", prefix="矩阵教"))
        case_jobs.render_notice_in(session, notice["id"], "测试教育体育局")
        side.notices["return"] = notice["id"]

    # Visit lists.
    for side in (a, b):
        tasks.generate(session, Scope(True), side.team.id, None)

    # Tablets: the in-scope actor's, town B's, and one of a town-B surveyor who left every team.
    tablet, tablet_token = _enroll(session, city, a.people["surveyor"], f"{a_marker}平板")
    a.devices["tablet"] = tablet.id
    b_device, _ = _enroll(session, b.people["supervisor"], b.people["surveyor"], f"{marker}平板")
    b.devices["tablet"] = b_device.id
    idle = _person(session, "surveyor", f"idle_{token}", f"{marker}待岗调查员", pw, line="government")
    _join(session, b.team, idle)
    session.flush()
    idle_device, _ = _enroll(session, b.people["supervisor"], idle, f"{marker}待岗平板")
    session.execute(team_members.delete().where(team_members.c.person_id == idle.id))
    enrollment_code, _ = devices.issue_code(session, city, Scope(True), a.people["surveyor"].id,
                                            dt.timedelta(hours=4))

    # 双线控辍: town A's school-line team over the same village, its leader, surveyor and tablet.
    line_label = f"另线{token}"
    line_team = Team(name=f"{line_label}工作组", town_code=a.town.code, line="school")
    session.add(line_team)
    session.flush()
    session.execute(team_villages.insert().values(team_id=line_team.id, village_code=a.village.code))
    line_people = {
        "leader": _person(session, "team_leader", f"lline_{token}", f"{line_label}组长", pw, line="school"),
        "surveyor": _person(session, "surveyor", f"sline_{token}", f"{line_label}调查员", pw, line="school"),
    }
    line_team.leader_id = line_people["leader"].id
    for member in line_people.values():
        _join(session, line_team, member)
    session.flush()
    line_device, _ = _enroll(session, a.people["supervisor"], line_people["surveyor"], f"{line_label}平板")
    tasks.generate(session, Scope(True), line_team.id, None)

    # A visit photo each tablet uploaded and pushed with a household survey: the submission is
    # the only record that refers to it.
    for side, label, device in ((a, a_marker, tablet), (b, marker, b_device)):
        body = JPEG + f"走访照片 {label} {secrets.token_hex(8)}".encode()
        sha = hashlib.sha256(body).hexdigest()
        attachments.store(session, attachments_dir, sha, body, device.person_id, device.id, max_attachment)
        household = side.households["astray"]
        receipt, = pushing.push(session, device, side.people["surveyor"], scope_of(session, side.people["surveyor"]),
                                vault, [{
                                    "submission_id": str(uuid.uuid4()), "device_seq": 1,
                                    "form_id": "household_survey", "form_version": "2026.1",
                                    "captured_at": dt.datetime.now(dt.UTC).isoformat(), "location": None,
                                    "record": {"type": "household", "id": str(household.id), "base_version": 1,
                                               "household_id": None, "village_code": side.village.code,
                                               "fields": {"notes": f"{label}照片"}},
                                    "attachments": [f"sha256:{sha}"]}], 10)
        assert receipt["status"] == "applied", receipt
        side.attachments["submitted"] = sha

    # Enrollment codes for the QR endpoint: one per issuer of town A (and the city), one of town B.
    for issuer_name, issuer, side, surveyor in (("city", city, a, a.people["surveyor"]),
                                                ("town_supervisor", a.people["supervisor"], a, a.people["surveyor"]),
                                                ("team_leader", a.people["team_leader"], a, a.people["surveyor"]),
                                                ("town_supervisor", b.people["supervisor"], b, b.people["surveyor"])):
        code, row = devices.issue_code(session, issuer, scope_of(session, issuer), surveyor.id, dt.timedelta(hours=4))
        side.codes[issuer_name] = (row.id, code)

    # Imports: each town supervisor's rosters (the second leaves a child out: missing from the
    # roster), and two school registers from the bureau (a student gone between them).
    for side, label, region in ((a, a_marker, "320685"), (b, marker, "320685")):
        sup = side.people["supervisor"]
        k1 = {"name": f"{label}名单甲", "birth": dt.date(2016, 9, 9)}
        k2 = {"name": f"{label}名单乙", "birth": dt.date(2017, 2, 2)}
        for k in (k1, k2):
            k["id"] = id_number.make(region, k["birth"], next(seq))
        rows = [[k["name"], "男" if int(k["id"][16]) % 2 else "女", k["id"], k["birth"].isoformat(), side.town.name,
                 side.village.name, f"{label}户", f"{label}户主"] for k in (k1, k2)]
        bad = [f"{label}坏行", "男", "123", "不是日期", side.town.name, f"{label}无此村", "X", f"{label}户主"]
        side.imports["roster"] = _import(session, vault, "roster", f"{label}名单.csv", csv_bytes(ROSTER, rows + [bad]),
                                         sup)
        # Children new to the county: the town's rows wait for the bureau, which takes them.
        for referral in session.scalars(select(RosterReferral).where(RosterReferral.import_id == side.imports["roster"])):
            imports.decide_referral(session, vault, city, referral.id, "move", None)
        side.imports["roster_later"] = _import(session, vault, "roster", f"{label}名单二.csv",
                                               csv_bytes(ROSTER, rows[:1]), sup)
        # A child of no school with a history: the later roster left them out.
        side.children["listed"] = session.scalar(select(Child).where(Child.name == k2["name"]))
    register_rows = []
    for side, label in ((a, a_marker), (b, marker)):
        born = dt.date(2018, 1, 1)
        number = id_number.make("320685", born, next(seq))
        register_rows.append([f"{label}学籍生", "男" if int(number[16]) % 2 else "女", number, "G" + number,
                              side.school.name, side.school.code, "3", "1班", "在读"])
    born = dt.date(2018, 2, 2)
    staying = id_number.make("320685", born, next(seq))
    stay = [f"{a_marker}留校生", "男" if int(staying[16]) % 2 else "女", staying, "G" + staying, a.school.name,
            a.school.code, "3", "1班", "在读"]
    first = _import(session, vault, "register", "学籍一.csv", csv_bytes(REGISTER, register_rows + [stay]), city,
                    dt.date(2027, 3, 1))
    later = _import(session, vault, "register", "学籍二.csv", csv_bytes(REGISTER, [stay]), city, dt.date(2027, 4, 1))

    # A row of town B's roster held for the bureau, as the job leaves one (a number none of the
    # town's children has).
    held_number = id_number.make("320685", dt.date(2016, 6, 6), next(seq))
    referral = RosterReferral(import_id=b.imports["roster"], line=9, id_number_lookup=vault.lookup(held_number),
                              id_number_cipher=vault.encrypt(held_number, roster_subject(b.imports["roster"])), name=f"{marker}待定儿童",
                              gender="F" if int(held_number[16]) % 2 == 0 else "M", birth_date=dt.date(2016, 6, 6),
                              village_code=b.village.code, head_name=f"{marker}户主")
    session.add(referral)
    session.flush()

    # Exports of the rates: one by each role that may export, and one by town B's supervisor.
    for side, person in ((a, city), (a, a.people["supervisor"]), (a, a.people["team_leader"]),
                         (b, b.people["supervisor"])):
        export = reports.request_export(session, person, "village", None)
        report_jobs.build_export_in(session, export.id, TODAY)
        side.exports[person.role if person is not city else "city"] = export.id
    session.info.pop("outbox_jobs", None)  # the jobs ran here: nothing to deliver to a worker

    actors = {
        "anonymous": {},
        "city": _token(session, city),
        "town_supervisor": _token(session, a.people["supervisor"]),
        "team_leader": _token(session, a.people["team_leader"]),
        "surveyor": _token(session, a.people["surveyor"]),
        "school": _token(session, a.people["school"]),
        "inactive": _token(session, inactive),
        "tablet": {"Authorization": f"Bearer {tablet_token}"},
    }
    inactive.active = False
    session.flush()

    upload = dataclasses.replace(builtin.FOLLOWUP_VISIT, version="2099.1").to_xlsx()
    world = World(
        marker=marker, a_marker=a_marker, a=a, b=b, actors=actors,
        people={"city": city, "inactive": inactive, "town_supervisor": a.people["supervisor"],
                "team_leader": a.people["team_leader"], "surveyor": a.people["surveyor"], "school": a.people["school"]},
        campaign=campaign, register_imports=[first, later], cross_duplicate=cross.id,
        line_team=line_team, line_people=line_people, line_device=str(line_device.id), referral=referral.id,
        b_claimed_number=vault.decrypt(b.children["other"].id_number_cipher, child_subject(b.children["other"].id)),
        idle_device=str(idle_device.id), enrollment_code=enrollment_code, form_upload=upload,
        tablet_token=tablet_token,
    )
    b_ids = [b.village.code, *(str(h.id) for h in b.households.values()), *(str(c.id) for c in b.children.values()),
             *b.attachments.values()]
    world.forbidden = (marker, *b_ids)
    # The school sees its students (town A's pupil) only: no other child of town A, nor the
    # household where none of its students lives. The government-line leader manages its own
    # team only: nothing of the school-line team's people or tablet reaches it.
    others = [c for name, c in a.children.items() if name != "pupil"]
    world.hidden = {
        "school": (*(str(c.id) for c in others), *(c.name for c in others),
                   str(a.households["astray"].id), a.households["astray"].head_name),
        "team_leader": (line_label,),
    }
    return world
