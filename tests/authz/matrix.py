"""The authorization matrix: every endpoint of the app, who may call it, and on what.

One `Entry` per (method, URL rule) of `app.url_map`; test_matrix.py fails when the app has an
endpoint this table lacks, or the table names one the app no longer has.

Reading an entry:
  who     the actors allowed on an object in their scope. Everyone else is refused: 401 when
          the request carries no person's live token (anonymous, an inactive person, a tablet on
          a person's endpoint, a person on a tablet's endpoint), 403 for a person whose role may
          not (`auth.forbidden`).
  ok      the status of an allowed request.
  probes  the requests made, each named by the scope of what it points at:
            in…      an object of town A (in scope of every area actor; in_line: of town A's
                     school-line team, which the government-line leader does not manage),
            out…     an object of town B (in scope of the city only),
            list     a listing without a filter (scoped by the caller's villages),
            global   no object: the same answer for every allowed actor (forms, campaigns, docs).
  out     what an allowed area actor gets on an out… probe: 404 (not found: the object's
          existence is not told), 422 (an id answered like an unknown one), or FILTERED (the ok
          status, with nothing of town B in it).
  except_ (actor, probe) -> status, where one actor differs from the rule.
  b_state what of town B the request could change: a write by anyone but the city must leave
          it as it was.

For every answer to an actor other than the city, no string of town B (its marker, its village
code, its household and child ids, its photos' hashes) may appear anywhere: JSON, GeoJSON, tile
bytes, the XML of an XLSX's sheets, GPX/KML, the text of a PDF or of each PDF in a zip. Nor may
what of town A is beyond the actor's line (world.hidden): for the school, every child of town A
but its own student and the household where none of its students lives; for the
government-line leader, the school-line team's people and tablet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from server.cases.models import Case, CaseEvent, Notice, SupportPlan
from server.devices.models import Device, EnrollmentCode
from server.imports import service as imports
from server.maps.models import Task
from server.people.models import Child, Household
from server.reports import jobs as report_jobs
from server.reports.models import ReportExport
from server.sync.models import Conflict, DuplicateCandidate
from tests.authz.reading import readable
from tests.authz.world import REGISTER, ROSTER, TODAY, World, csv_bytes, tile_of

ACTORS = ("anonymous", "city", "town_supervisor", "team_leader", "surveyor", "school", "inactive", "tablet")
EVERYONE = frozenset(ACTORS)  # public: no token needed
PEOPLE = frozenset({"city", "town_supervisor", "team_leader", "surveyor", "school"})
PEOPLE_AND_TABLETS = PEOPLE | {"tablet"}
TABLETS = frozenset({"tablet"})
CITY = frozenset({"city"})
GOVERNMENT = frozenset({"city", "town_supervisor"})
STAFF = frozenset({"city", "town_supervisor", "team_leader"})  # supervisors, reviewers, issuers, exporters
READERS = STAFF | {"school"}  # cases
FILTERED = "filtered"
V = "/api/v1"
UPLOAD = b"\x89PNG\r\n\x1a\n" + "矩阵上传的照片".encode()


@dataclass(frozen=True)
class Probe:
    name: str
    url: Callable[[World, str], str]
    json: Callable[[World, str], object] | None = None
    files: Callable[[World, str], dict] | None = None  # multipart form
    raw: Callable[[World, str], bytes] | None = None  # a request body of bytes
    shows: Callable[[World], str] | None = None  # what an allowed in-scope answer must contain

    @property
    def out_of_scope(self) -> bool:
        return self.name.startswith("out")


@dataclass(frozen=True)
class Entry:
    method: str
    rule: str
    who: frozenset
    ok: int
    probes: tuple[Probe, ...]
    out: int | str = 404
    except_: dict = field(default_factory=dict)
    b_state: Callable | None = None  # (session, world) -> a snapshot of town B's objects
    # (session, vault, world, actor, probe, response) -> further checks of an allowed answer; may return
    # more text that the actor receives through it (an export's sheets), checked like the answer
    after: Callable | None = None
    # Actors for whom the in-scope object is in their area but not theirs (a school and a
    # household where none of its students lives): the answer holds none of it.
    nothing_for: frozenset = frozenset()
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.rule

    def expected(self, actor: str, probe: Probe) -> int:
        if (actor, probe.name) in self.except_:
            return self.except_[(actor, probe.name)]
        if actor not in self.who:
            if actor in ("anonymous", "inactive", "tablet") or self.who <= TABLETS:
                return 401
            return 403
        if probe.out_of_scope and actor != "city":
            return self.ok if self.out == FILTERED else self.out
        return self.ok


def url(path: str) -> Callable[[World, str], str]:
    return lambda w, a: path


def P(name, url_, **kwargs) -> Probe:  # noqa: N802 - reads as a table cell
    return Probe(name, url_ if callable(url_) else url(url_), **kwargs)


# --- what town B's objects look like (compared before and after a write) -------------------------

def _case_b(session, w):
    case_id = w.b.cases["pupil"].id
    return (session.execute(select(Case.status, Case.closed_at, Case.updated_at).where(Case.id == case_id)).all(),
            session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)),
            session.scalar(select(func.count()).select_from(Notice).where(Notice.case_id == case_id)),
            session.scalar(select(func.count()).select_from(SupportPlan).where(SupportPlan.case_id == case_id)))


def _cases_b(session, w):
    return sorted(session.execute(select(Case.id, Case.status, Case.closed_at)
                                  .where(Case.village_code == w.b.village.code)).all())


def _children_b(session, w):
    return sorted(session.execute(select(Child.id, Child.name, Child.version, Child.enrollment_status,
                                         Child.guardian_name, Child.village_code)
                                  .where(Child.village_code == w.b.village.code)).all())


def _households_b(session, w):
    return sorted(session.execute(select(Household.id, Household.head_name, Household.version)
                                  .where(Household.village_code == w.b.village.code)).all())


def _people_b(session, w):
    return _children_b(session, w), _households_b(session, w)


def _conflicts_b(session, w):
    return (_children_b(session, w),
            session.execute(select(Conflict.id, Conflict.status).where(Conflict.village_code == w.b.village.code)
                            .order_by(Conflict.id)).all())


def _duplicates_b(session, w):
    ids = [w.b.duplicates["twins"].id, w.cross_duplicate]
    return (_children_b(session, w),
            session.execute(select(DuplicateCandidate.id, DuplicateCandidate.status)
                            .where(DuplicateCandidate.id.in_(ids)).order_by(DuplicateCandidate.id)).all())


def _devices_b(session, w):
    ids = [w.b.devices["tablet"], uuid.UUID(w.idle_device)]
    return session.execute(select(Device.id, Device.revoked_at).where(Device.id.in_(ids)).order_by(Device.id)).all()


def _staff_b(session, w):
    from server.accounts.models import Person, Team, team_members, team_villages

    people = [p.id for p in w.b.people.values()]
    return (session.execute(select(Person.id, Person.active, Person.password_hash).where(Person.id.in_(people))
                            .order_by(Person.id)).all(),
            session.execute(select(Team.id, Team.name, Team.leader_id).where(Team.id == w.b.team.id)).all(),
            sorted(session.scalars(select(team_members.c.person_id).where(team_members.c.team_id == w.b.team.id))),
            sorted(session.scalars(select(team_villages.c.village_code)
                                   .where(team_villages.c.team_id == w.b.team.id))))


def _codes_b(session, w):
    return session.scalar(select(func.count()).select_from(EnrollmentCode)
                          .where(EnrollmentCode.person_id == w.b.people["surveyor"].id))


def _town_jobs_b(session, w):
    from server.jobs.models import OutboxJob

    return (_tasks_b(session, w),
            session.scalar(select(func.count()).select_from(OutboxJob)
                           .where(OutboxJob.args.contains([w.b.town.code]))))


def _team_build_jobs_b(session, w):
    from server.jobs.models import OutboxJob

    return (_tasks_b(session, w),
            session.scalar(select(func.count()).select_from(OutboxJob)
                           .where(OutboxJob.function == "maps.build_team_tasks",
                                  OutboxJob.args[0].as_integer() == w.b.team.id)))


def _tasks_b(session, w):
    return sorted(session.execute(select(Task.id, Task.route_order, Task.status, Task.version)
                                  .where(Task.team_id == w.b.team.id)).all())


# --- request bodies ------------------------------------------------------------------------------

def _transition(w, a):
    if a == "school":  # a school confirms a return to itself
        return {"to": "returned", "school_id": w.a.school.id, "return_date": TODAY.isoformat()}
    return {"to": "persuading", "note": "矩阵"}


def _roster(side):
    def files(w, a):
        s = getattr(w, side)
        born = dt.date(2016, 10, 10)
        from server.people import id_number

        number = id_number.make("320685", born, 990)
        row = ["新登记", "女" if int(number[16]) % 2 == 0 else "男", number, born.isoformat(), s.town.name,
               s.village.name, "N1", "新户主"]
        return {"file": (io.BytesIO(csv_bytes(ROSTER, [row])), "roster.csv")}
    return files


def _roster_claim(w, a):
    """One row naming town A's village with the ID number of a town-B child (whose number a town
    supervisor might know from a transfer slip)."""
    b_child = w.b.children["other"]
    row = ["冒领", "女" if b_child.gender == "F" else "男", w.b_claimed_number, b_child.birth_date.isoformat(),
           w.a.town.name, w.a.village.name, "N2", "新户主"]
    return {"file": (io.BytesIO(csv_bytes(ROSTER, [row])), "roster.csv")}


def _referral_b(session, w):
    from server.imports.models import RosterReferral

    return session.execute(select(RosterReferral.status, RosterReferral.decided_by)
                           .where(RosterReferral.id == w.referral)).all()


def _register(w, a):
    from server.people import id_number

    number = id_number.make("320685", dt.date(2018, 3, 3), 991)
    row = ["新学生", "女" if int(number[16]) % 2 == 0 else "男", number, "G" + number, w.a.school.name, w.a.school.code,
           "3", "1班", "在读"]
    return {"file": (io.BytesIO(csv_bytes(REGISTER, [row])), "register.csv"), "as_of": "2027-05-01"}


def _run_roster_job(session, vault, w, actor, probe, response):
    """The upload only queues the work: run it here, so that b_state sees what the import did."""
    imports.process_import(session, vault, response.json["id"], imports.Progress(lambda **_values: None))
    session.flush()


def _build_export(session, vault, w, actor, probe, response):
    """Build the requested export as the job would, and read its sheets as a download would."""
    report_jobs.build_export_in(session, response.json["id"], TODAY)
    return readable(session.scalar(select(ReportExport.content).where(ReportExport.id == response.json["id"])))


def _push(record_side):
    def body(w, a):
        s = getattr(w, record_side)
        home = s.households["home"]
        return {"submissions": [{
            "submission_id": str(uuid.uuid4()), "device_seq": 1, "form_id": "household_survey",
            "form_version": "2026.1", "captured_at": dt.datetime.now(dt.UTC).isoformat(),
            "location": {"lat": 32.51, "lon": 120.41, "accuracy_m": 8},
            "record": {"type": "household", "id": str(home.id), "base_version": home.version,
                       "household_id": None, "village_code": s.village.code, "fields": {"head_name": "平板改名"}},
            "attachments": []}]}
    return body


def _push_receipt(session, vault, w, actor, probe, response):
    receipt, = response.json["receipts"]
    if probe.out_of_scope:
        assert receipt["status"] == "rejected", receipt
        assert [e["code"] for e in receipt["errors"]] == ["sync.out_of_scope"], receipt
    else:
        assert receipt["status"] != "rejected", receipt


def _own_export(w, a):
    return f"{V}/reports/exports/{w.a.exports.get(a, w.a.exports['city'])}"


def _tile(layer, side, z=14):
    """The tile holding the town's "home" household (world.py puts it at the village's corner + 0.005°)."""
    lon, lat = (120.405, 32.505) if side == "a" else (120.605, 32.605)
    return url("{}/tiles/{}/{}/{}/{}.mvt".format(V, layer, *tile_of(lon, lat, z)))


def _empty_tile(session, vault, w, actor, probe, response):
    """Tiles carry no names: out of scope, the tile must be empty (no cell counts town B either)."""
    if probe.out_of_scope and actor != "city":
        assert response.get_data() == b"", f"{probe.name}: {len(response.get_data())} bytes of town B"


def _shows_a(w):
    return w.a_marker


def _openrosa(path: str):
    return lambda w, a: f"{V}/openrosa/{w.tablet_token}{path}"


def _collect_submission(record_side):
    """A Collect-shaped instance of the household survey that renames a household of a side."""
    def files(w, a):
        from survey_forms.builtin import compile_builtin_forms
        from tests.openrosa.instances import instance

        home = getattr(w, record_side).households["home"]
        xform = compile_builtin_forms()["household_survey"].to_xform()
        xml = instance(xform, {"household_pick": str(home.id), "household/head_name": "平板改名",
                               "survey_status": "visited"},
                       entity={"id": str(home.id), "baseVersion": home.version, "trunkVersion": home.version,
                               "branchId": str(uuid.uuid4())})
        return {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    return files


# --- the matrix ------------------------------------------------------------------------------------

MATRIX: tuple[Entry, ...] = (
    # Pages and documents: public, declared so that a new page is a decision, not an accident.
    Entry("GET", "/api/docs", EVERYONE, 200, (P("global", "/api/docs"),)),
    Entry("GET", "/api/docs/assets/<path:filename>", EVERYONE, 200, (P("global", "/api/docs/assets/swagger-ui.css"),)),
    Entry("GET", "/api/docs/start.js", EVERYONE, 200, (P("global", "/api/docs/start.js"),)),
    Entry("GET", "/api/openapi.json", EVERYONE, 200, (P("global", "/api/openapi.json"),)),
    Entry("GET", "/static/<path:filename>", EVERYONE, 404, (P("global", "/static/app.js"),),
          note="Flask's default static route; the app has no static folder"),
    Entry("GET", f"{V}/health", EVERYONE, 200, (P("global", f"{V}/health"),)),
    # The old pages' addresses lead to the workbench
    Entry("GET", "/supervisor", EVERYONE, 301, (P("global", "/supervisor"),)),
    Entry("GET", "/supervisor/", EVERYONE, 301, (P("global", "/supervisor/"),)),
    Entry("GET", "/supervisor/<path:rest>", EVERYONE, 301, (P("global", "/supervisor/app.js"),)),
    Entry("GET", "/cases", EVERYONE, 301, (P("global", "/cases"),)),
    Entry("GET", "/cases/", EVERYONE, 301, (P("global", "/cases/"),)),
    Entry("GET", "/cases/<path:rest>", EVERYONE, 301, (P("global", "/cases/cases.js"),)),
    # The workbench: one page for every route of its own, its hashed assets; the data is the API's.
    Entry("GET", "/", EVERYONE, 302, (P("global", "/"),)),
    Entry("GET", "/workbench", EVERYONE, 302, (P("global", "/workbench"),)),
    Entry("GET", "/workbench/", EVERYONE, 200, (P("global", "/workbench/"),)),
    Entry("GET", "/workbench/<path:route>", EVERYONE, 200, (P("global", "/workbench/cases/1"),)),
    Entry("GET", "/workbench/assets/<path:filename>", EVERYONE, 404, (P("global", "/workbench/assets/none.js"),),
          note="the built assets have hashed names; an unknown one is 404 for everyone"),

    # Accounts
    Entry("POST", f"{V}/auth/login", EVERYONE, 200, (P("global", f"{V}/auth/login", json=lambda w, a: {
        "username": w.people["surveyor"].username, "password": "correct horse battery"}),)),
    Entry("POST", f"{V}/auth/logout", PEOPLE, 204, (P("global", f"{V}/auth/logout"),)),
    Entry("GET", f"{V}/me", PEOPLE, 200, (P("global", f"{V}/me"),)),
    Entry("POST", f"{V}/me/password", PEOPLE, 204, (P("global", f"{V}/me/password", json=lambda w, a: {
        "current_password": "correct horse battery", "new_password": "a longer one for 2026"}),)),
    Entry("GET", f"{V}/labels", PEOPLE, 200, (P("global", f"{V}/labels"),)),

    # Places and people
    Entry("GET", f"{V}/towns", PEOPLE, 200, (P("list", f"{V}/towns", shows=_shows_a),)),
    Entry("GET", f"{V}/villages", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/villages?town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/villages?town={w.b.town.code}"),
        P("list", f"{V}/villages")), out=FILTERED),
    Entry("GET", f"{V}/villages/<code>", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/villages/{w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/villages/{w.b.village.code}"))),
    Entry("GET", f"{V}/households", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/households?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/households?village={w.b.village.code}"),
        P("list", f"{V}/households?page_size=500")), out=FILTERED),
    Entry("GET", f"{V}/children", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/children?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/children?village={w.b.village.code}"),
        P("out_town", lambda w, a: f"{V}/children?town={w.b.town.code}"),
        P("list", f"{V}/children?page_size=500")), out=FILTERED),
    Entry("GET", f"{V}/children/<uuid:child_id>", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/children/{w.a.children['pupil'].id}", shows=_shows_a),
        P("in_not_own", lambda w, a: f"{V}/children/{w.a.children['other'].id}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/children/{w.b.children['pupil'].id}")),
        # A school's scope holds its own students only: another child is not found.
        except_={("school", "in_not_own"): 404}),
    Entry("GET", f"{V}/schools", PEOPLE, 200, (P("list", f"{V}/schools"),),
          note="schools are public facts (no personal data), listed county-wide"),

    # Campaigns and forms: county-wide, no personal data
    Entry("GET", f"{V}/campaigns", PEOPLE, 200, (P("global", f"{V}/campaigns"),)),
    Entry("POST", f"{V}/campaigns", CITY, 201, (P("global", f"{V}/campaigns", json=lambda w, a: {
        "name": "新运动", "school_year": 2028, "publicity_start": "2028-04-20", "survey_start": "2028-05-21",
        "persuasion_start": "2028-06-10", "enforcement_start": "2028-07-01", "enforcement_end": "2028-07-10"}),)),
    Entry("GET", f"{V}/campaigns/current", PEOPLE, 200, (P("global", f"{V}/campaigns/current"),)),
    Entry("PUT", f"{V}/campaigns/current/forms", CITY, 200, (P("global", f"{V}/campaigns/current/forms",
                                                               json=lambda w, a: {"form_ids": ["household_survey"]}),)),
    Entry("GET", f"{V}/forms", PEOPLE_AND_TABLETS, 200, (P("global", f"{V}/forms"),)),
    Entry("POST", f"{V}/forms", CITY, 201, (P("global", f"{V}/forms", files=lambda w, a: {
        "file": (io.BytesIO(w.form_upload), "followup.xlsx")}),)),
    Entry("GET", f"{V}/forms/<form_id>/versions/<version>", PEOPLE_AND_TABLETS, 200,
          (P("global", f"{V}/forms/child_survey/versions/2026.1"),)),
    Entry("GET", f"{V}/forms/<form_id>/versions/<version>/xform", PEOPLE_AND_TABLETS, 200,
          (P("global", f"{V}/forms/child_survey/versions/2026.1/xform"),)),
    Entry("POST", f"{V}/forms/<form_id>/versions/<version>/retire", CITY, 204,
          (P("global", f"{V}/forms/followup_visit/versions/2026.1/retire"),)),

    # Cases and notices
    Entry("GET", f"{V}/cases", READERS, 200, (
        P("in", lambda w, a: f"{V}/cases?town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/cases?town={w.b.town.code}"),
        P("out_village", lambda w, a: f"{V}/cases?village={w.b.village.code}"),
        # a search by name or whole ID number stays within scope too
        P("out_name", lambda w, a: f"{V}/cases?q={w.b.children['pupil'].name}"),
        P("out_number", lambda w, a: f"{V}/cases?q={w.b_claimed_number}"),
        P("list", f"{V}/cases?page_size=500")), out=FILTERED),
    Entry("GET", f"{V}/cases/<int:case_id>", READERS, 200, (
        P("in", lambda w, a: f"{V}/cases/{w.a.cases['pupil'].id}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/cases/{w.b.cases['pupil'].id}"))),
    Entry("POST", f"{V}/cases/<int:case_id>/transitions", READERS, 200, (
        P("in", lambda w, a: f"{V}/cases/{w.a.cases['pupil'].id}/transitions", json=_transition),
        P("out", lambda w, a: f"{V}/cases/{w.b.cases['pupil'].id}/transitions", json=_transition)),
        b_state=_case_b),
    Entry("POST", f"{V}/cases/<int:case_id>/return-school", STAFF, 200, (
        P("in", lambda w, a: f"{V}/cases/{w.a.cases['pupil'].id}/return-school",
          json=lambda w, a: {"school_id": w.a.school.id}, shows=_shows_a),
        P("out", lambda w, a: f"{V}/cases/{w.b.cases['pupil'].id}/return-school",
          json=lambda w, a: {"school_id": w.b.school.id})),
        b_state=_case_b),
    Entry("POST", f"{V}/cases/<int:case_id>/notices", GOVERNMENT, 202, (
        P("in", lambda w, a: f"{V}/cases/{w.a.cases['pupil'].id}/notices", json=lambda w, a: {"kind": "return"}),
        P("out", lambda w, a: f"{V}/cases/{w.b.cases['pupil'].id}/notices", json=lambda w, a: {"kind": "return"})),
        b_state=_case_b),
    Entry("POST", f"{V}/cases/<int:case_id>/support-plans", STAFF, 201, (
        P("in", lambda w, a: f"{V}/cases/{w.a.cases['pupil'].id}/support-plans",
          json=lambda w, a: {"measures": ["助学金"], "responsible_name": "张老师"}),
        P("out", lambda w, a: f"{V}/cases/{w.b.cases['pupil'].id}/support-plans",
          json=lambda w, a: {"measures": ["助学金"], "responsible_name": "张老师"})),
        b_state=_case_b),
    Entry("POST", f"{V}/cases/open", GOVERNMENT, 200, (P("list", f"{V}/cases/open"),), b_state=_cases_b,
          note="opens cases in the caller's villages only: town B's closed-case child stays without one"),
    Entry("GET", f"{V}/notices/<int:notice_id>/pdf", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/notices/{w.a.notices['return']}/pdf", shows=_shows_a),
        P("out", lambda w, a: f"{V}/notices/{w.b.notices['return']}/pdf"))),
    Entry("GET", f"{V}/notices/batch", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/notices/batch?town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/notices/batch?town={w.b.town.code}"),
        P("in_pdf", lambda w, a: f"{V}/notices/batch?town={w.a.town.code}&format=pdf", shows=_shows_a),
        P("list", f"{V}/notices/batch")), out=FILTERED),

    # Review: conflicts and duplicates
    Entry("GET", f"{V}/conflicts", STAFF, 200, (
        P("in", lambda w, a: f"{V}/conflicts?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/conflicts?village={w.b.village.code}"),
        P("list", f"{V}/conflicts?page_size=500")), out=FILTERED),
    Entry("POST", f"{V}/conflicts/<uuid:conflict_id>/resolve", STAFF, 200, (
        P("in", lambda w, a: f"{V}/conflicts/{w.a.conflicts['name'].id}/resolve",
          json=lambda w, a: {"value": "新监护人", "note": "矩阵"}),
        P("out", lambda w, a: f"{V}/conflicts/{w.b.conflicts['name'].id}/resolve",
          json=lambda w, a: {"value": "新监护人", "note": "矩阵"})),
        b_state=_conflicts_b),
    Entry("GET", f"{V}/duplicates", STAFF, 200, (P("list", f"{V}/duplicates?page_size=500", shows=_shows_a),)),
    Entry("POST", f"{V}/duplicates/<int:candidate_id>/merge", STAFF, 200, (
        P("in", lambda w, a: f"{V}/duplicates/{w.a.duplicates['twins'].id}/merge",
          json=lambda w, a: {"survivor": str(w.a.children["other"].id)}),
        P("out", lambda w, a: f"{V}/duplicates/{w.b.duplicates['twins'].id}/merge",
          json=lambda w, a: {"survivor": str(w.b.children["other"].id)}),
        # A town-A child with the ID number of a town-B child: the pair spans two towns.
        P("out_cross", lambda w, a: f"{V}/duplicates/{w.cross_duplicate}/merge",
          json=lambda w, a: {"survivor": str(w.a.children["namesake"].id)})),
        b_state=_duplicates_b),
    Entry("POST", f"{V}/duplicates/<int:candidate_id>/dismiss", STAFF, 200, (
        P("in", lambda w, a: f"{V}/duplicates/{w.a.duplicates['twins'].id}/dismiss"),
        P("out", lambda w, a: f"{V}/duplicates/{w.b.duplicates['twins'].id}/dismiss"),
        P("out_cross", lambda w, a: f"{V}/duplicates/{w.cross_duplicate}/dismiss")),
        b_state=_duplicates_b),

    # Tablets
    Entry("POST", f"{V}/devices/enroll", EVERYONE, 200, (P("global", f"{V}/devices/enroll", json=lambda w, a: {
        "enrollment_code": w.enrollment_code, "device_name": "新平板", "platform": "test"}),),
        note="the one-time code is the credential"),
    Entry("GET", f"{V}/devices", STAFF, 200, (P("list", f"{V}/devices", shows=_shows_a),)),
    Entry("POST", f"{V}/devices/<uuid:device_id>/revoke", STAFF, 204, (
        P("in", lambda w, a: f"{V}/devices/{w.a.devices['tablet']}/revoke"),
        P("in_line", lambda w, a: f"{V}/devices/{w.line_device}/revoke"),
        P("out", lambda w, a: f"{V}/devices/{w.b.devices['tablet']}/revoke"),
        # A town-B surveyor between teams: their tablet belongs to no area, so to the city only.
        P("out_idle", lambda w, a: f"{V}/devices/{w.idle_device}/revoke")),
        except_={("team_leader", "in_line"): 404}, b_state=_devices_b,
        note="a tablet is revoked by who manages its surveyor's teams"),
    Entry("POST", f"{V}/devices/enrollment-codes", STAFF, 201, (
        P("in", f"{V}/devices/enrollment-codes", json=lambda w, a: {"surveyor_id": w.people["surveyor"].id}),
        P("in_line", f"{V}/devices/enrollment-codes", json=lambda w, a: {"surveyor_id": w.line_people["leader"].id}),
        P("out", f"{V}/devices/enrollment-codes", json=lambda w, a: {"surveyor_id": w.b.people["surveyor"].id})),
        out=422, except_={("team_leader", "in_line"): 422}, b_state=_codes_b,
        note="a code for someone of a team you do not manage (another town's, the other line's) is answered "
             "like an unknown id: the tablet would speak for them"),
    Entry("POST", f"{V}/devices/token", TABLETS, 200, (P("global", f"{V}/devices/token"),),
          note="a tablet renews its own token; the old one works a while more"),
    Entry("GET", f"{V}/devices/surveyors", STAFF, 200, (
        P("in", lambda w, a: f"{V}/devices/surveyors?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/devices/surveyors?village={w.b.village.code}"),
        P("list", f"{V}/devices/surveyors")), out=FILTERED),

    # Sync (tablets only)
    Entry("GET", f"{V}/sync/manifest", TABLETS, 200, (P("list", f"{V}/sync/manifest", shows=_shows_a),)),
    Entry("GET", f"{V}/sync/changes", TABLETS, 200, (P("list", f"{V}/sync/changes?limit=1000", shows=_shows_a),)),
    Entry("POST", f"{V}/sync/push", TABLETS, 200, (
        P("in", f"{V}/sync/push", json=_push("a")),
        P("out", f"{V}/sync/push", json=_push("b"))),
        out=FILTERED, b_state=_people_b, after=_push_receipt,
        note="a submission outside the tablet's villages is refused in its receipt (sync.out_of_scope)"),
    Entry("POST", f"{V}/sync/repair", TABLETS, 200, (
        P("in", f"{V}/sync/repair", json=lambda w, a: {"have": {}}, shows=_shows_a),
        P("out", f"{V}/sync/repair", json=lambda w, a: {"have": {f"child:{w.b.children['pupil'].id}": 1}})),
        out=FILTERED),

    # OpenRosa (ODK Collect): the tablet's token is the path, so whoever holds the URL is the
    # tablet (as ODK Central's app users); each actor below sends its own headers, which count
    # for nothing here. What the URL gives is the tablet's villages only.
    Entry("GET", f"{V}/openrosa/<token>/formList", EVERYONE, 200, (P("global", _openrosa("/formList")),),
          note="the device's URL is its credential"),
    Entry("GET", f"{V}/openrosa/<token>/forms/<form_id>/versions/<version>/form.xml", EVERYONE, 200, (
        P("global", _openrosa("/forms/household_survey/versions/2026.1/form.xml")),)),
    Entry("GET", f"{V}/openrosa/<token>/forms/<form_id>/versions/<version>/manifest", EVERYONE, 200, (
        P("global", _openrosa("/forms/child_survey/versions/2026.1/manifest")),)),
    Entry("GET", f"{V}/openrosa/<token>/entity-lists/<name>.csv", EVERYONE, 200, (
        P("list", _openrosa("/entity-lists/households.csv"), shows=_shows_a),
        P("list_children", _openrosa("/entity-lists/children.csv"), shows=_shows_a)),
        note="the households and children of the tablet's villages, as its pull gives them"),
    Entry("GET", f"{V}/openrosa/<token>/entity-lists/<name>/integrity", EVERYONE, 200, (
        P("in", lambda w, a: f"{V}/openrosa/{w.tablet_token}/entity-lists/households/integrity"
                             f"?id={w.a.households['home'].id}"),
        P("out", lambda w, a: f"{V}/openrosa/{w.tablet_token}/entity-lists/households/integrity"
                              f"?id={w.b.households['home'].id}")), out=FILTERED,
        note="another town's household is simply gone from the tablet's list"),
    Entry("GET", f"{V}/openrosa/<token>/submission", EVERYONE, 204, (P("global", _openrosa("/submission")),)),
    Entry("POST", f"{V}/openrosa/<token>/submission", EVERYONE, 201, (
        P("in", _openrosa("/submission"), files=_collect_submission("a")),
        P("out", _openrosa("/submission"), files=_collect_submission("b"))),
        out=403, except_={("city", "out"): 403}, b_state=_people_b,
        note="an instance for a household outside the tablet's villages is refused (sync.out_of_scope)"),
    Entry("POST", f"{V}/devices/collect", STAFF, 201, (
        P("in", f"{V}/devices/collect", json=lambda w, a: {"surveyor_id": w.people["surveyor"].id,
                                                           "device_name": "ODK Collect"}),
        P("in_line", f"{V}/devices/collect", json=lambda w, a: {"surveyor_id": w.line_people["leader"].id,
                                                                "device_name": "ODK Collect"}),
        P("out", f"{V}/devices/collect", json=lambda w, a: {"surveyor_id": w.b.people["surveyor"].id,
                                                            "device_name": "ODK Collect"})),
        out=422, except_={("team_leader", "in_line"): 422}, b_state=_codes_b,
        note="as an enrollment code: only for a surveyor of a team you manage"),
    Entry("POST", f"{V}/devices/<uuid:device_id>/collect-settings", STAFF, 404, (
        P("in", lambda w, a: f"{V}/devices/{w.a.devices['tablet']}/collect-settings"),
        P("out", lambda w, a: f"{V}/devices/{w.b.devices['tablet']}/collect-settings")),
        b_state=_devices_b, note="only a Collect device gets a settings QR (these tablets are not): 404 for all"),
    Entry("PUT", f"{V}/attachments/<sha256>", STAFF | TABLETS, 201, (
        P("global", f"{V}/attachments/{hashlib.sha256(UPLOAD).hexdigest()}", raw=lambda w, a: UPLOAD),),
          note="upload only (tablets and staff); the body is checked against the address and for its type"),
    Entry("GET", f"{V}/attachments/<sha256>", STAFF, 200, (
        P("in", lambda w, a: f"{V}/attachments/{w.a.attachments['certificate']}", shows=_shows_a),
        P("in_submitted", lambda w, a: f"{V}/attachments/{w.a.attachments['submitted']}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/attachments/{w.b.attachments['certificate']}"),
        P("out_submitted", lambda w, a: f"{V}/attachments/{w.b.attachments['submitted']}")),
        note="a file is read where a record that refers to it is (the hash in the address is no key)"),

    # Imports
    Entry("POST", f"{V}/imports/roster", GOVERNMENT, 202, (
        P("in", f"{V}/imports/roster", files=_roster("a")),
        P("out", f"{V}/imports/roster", files=_roster("b")),
        # Town A's village, a town-B child's ID number: held for the bureau, the child stays put.
        P("out_id", f"{V}/imports/roster", files=_roster_claim)),
        out=FILTERED, b_state=_people_b, after=_run_roster_job,
        note="a town's roster only speaks for its town's children: rows of other towns are refused, a number "
             "none of its children has is referred to the city bureau"),
    Entry("GET", f"{V}/imports/referrals", CITY, 200, (P("list", f"{V}/imports/referrals?status=held"),),
          note="the town rosters' rows held for the bureau"),
    Entry("POST", f"{V}/imports/referrals/<int:referral_id>/decision", CITY, 200, (
        P("out", lambda w, a: f"{V}/imports/referrals/{w.referral}/decision", json=lambda w, a: {"decision": "dismiss"}),),
        b_state=_referral_b),
    Entry("POST", f"{V}/imports/register", CITY, 202, (P("global", f"{V}/imports/register", files=_register),)),
    Entry("GET", f"{V}/imports", GOVERNMENT, 200, (P("list", f"{V}/imports?page_size=100", shows=_shows_a),)),
    Entry("GET", f"{V}/imports/<int:import_id>", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/imports/{w.a.imports['roster']}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/imports/{w.b.imports['roster']}"))),
    Entry("GET", f"{V}/imports/<int:import_id>/problems", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/imports/{w.a.imports['roster']}/problems", shows=_shows_a),
        P("out", lambda w, a: f"{V}/imports/{w.b.imports['roster']}/problems"))),
    Entry("GET", f"{V}/imports/<int:import_id>/report", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/imports/{w.a.imports['roster']}/report?format=xlsx", shows=_shows_a),
        P("in_csv", lambda w, a: f"{V}/imports/{w.a.imports['roster']}/report?format=csv", shows=_shows_a),
        P("out", lambda w, a: f"{V}/imports/{w.b.imports['roster']}/report?format=xlsx"))),
    Entry("GET", f"{V}/imports/match-summary", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/imports/match-summary?town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/imports/match-summary?town={w.b.town.code}"),
        P("list", f"{V}/imports/match-summary")), out=FILTERED),
    Entry("GET", f"{V}/imports/register-not-in-roster", GOVERNMENT, 200, (
        P("list", f"{V}/imports/register-not-in-roster", shows=_shows_a),
        P("out", lambda w, a: f"{V}/imports/register-not-in-roster?register_import={w.register_imports[0]}")),
        out=FILTERED),
    Entry("GET", f"{V}/imports/suspected-dropouts", PEOPLE, 200, (
        P("list", f"{V}/imports/suspected-dropouts?page_size=500"),
        P("out", lambda w, a: f"{V}/imports/suspected-dropouts?register_import={w.register_imports[1]}")),
        out=FILTERED),
    Entry("GET", f"{V}/imports/missing-from-roster", PEOPLE, 200,
          (P("list", f"{V}/imports/missing-from-roster?page_size=500"),)),
    Entry("GET", f"{V}/imports/children/<uuid:child_id>/history", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/imports/children/{w.a.children['pupil'].id}/history"),
        P("in_not_own", lambda w, a: f"{V}/imports/children/{w.a.children['listed'].id}/history",
          shows=lambda w: "missing_from_roster"),
        P("out", lambda w, a: f"{V}/imports/children/{w.b.children['listed'].id}/history")),
        except_={("school", "in_not_own"): 404}, note="a child's history is part of its full record"),

    # Maps and visit lists
    Entry("GET", f"{V}/maps/households", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/maps/households?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/maps/households?village={w.b.village.code}"),
        P("out_bbox", f"{V}/maps/households?bbox=120.55,32.55,120.75,32.65"),
        P("list", f"{V}/maps/households")), out=FILTERED),
    Entry("GET", f"{V}/maps/children", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/maps/children?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/maps/children?village={w.b.village.code}"),
        P("list", f"{V}/maps/children")), out=FILTERED),
    Entry("GET", f"{V}/maps/villages", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/maps/villages?town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/maps/villages?town={w.b.town.code}"),
        P("list", f"{V}/maps/villages")), out=FILTERED),
    Entry("GET", f"{V}/maps/households/outside", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/maps/households/outside?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/maps/households/outside?village={w.b.village.code}"),
        P("list", f"{V}/maps/households/outside")), out=FILTERED, nothing_for=frozenset({"school"}),
        note="the stray household is no student's home: a school's list is empty"),
    Entry("GET", f"{V}/maps/households/without-gps", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/maps/households/without-gps?village={w.a.village.code}"),
        P("out", lambda w, a: f"{V}/maps/households/without-gps?village={w.b.village.code}"),
        P("list", f"{V}/maps/households/without-gps")), out=FILTERED,
        note="the world's households all have GPS points: tests/maps/test_workbench_map_api.py fills the list"),
    Entry("GET", f"{V}/maps/towns", PEOPLE, 200, (P("list", f"{V}/maps/towns", shows=_shows_a),), out=FILTERED),
    Entry("GET", f"{V}/maps/config", PEOPLE, 200, (P("global", f"{V}/maps/config"),)),
    Entry("POST", f"{V}/maps/search", PEOPLE, 200, (
        P("in", f"{V}/maps/search", json=lambda w, a: {"q": f"{w.a_marker}辍学生"}, shows=_shows_a),
        P("out", f"{V}/maps/search", json=lambda w, a: {"q": f"{w.marker}在读生"}),
        P("out_id_number", f"{V}/maps/search", json=lambda w, a: {"q": w.b_claimed_number})), out=FILTERED),
    Entry("GET", f"{V}/maps/households/<uuid:household_id>", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/maps/households/{w.a.households['home'].id}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/maps/households/{w.b.households['home'].id}"))),
    Entry("GET", f"{V}/tiles/<layer>/<int:z>/<int:x>/<int:y>.mvt", PEOPLE, 200, (
        P("in", _tile("households", "a"), shows=lambda w: str(w.a.households["home"].id)),
        P("in_children", _tile("children", "a"), shows=lambda w: str(w.a.households["home"].id)),
        P("in_villages", _tile("villages", "a", 12), shows=lambda w: w.a.village.code),
        P("out", _tile("households", "b")),
        P("out_children", _tile("children", "b")),
        P("out_villages", _tile("villages", "b", 12)),
        P("out_cells", _tile("households", "b", 10)),
        P("out_child_cells", _tile("children", "b", 10))), out=FILTERED, after=_empty_tile,
        note="tiles carry ids and village codes, never names: the check looks for town B's ids"),
    Entry("GET", f"{V}/teams/<int:team_id>/tasks", PEOPLE, 200, (
        P("in", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks", shows=_shows_a),
        P("in_line", lambda w, a: f"{V}/teams/{w.line_team.id}/tasks"),
        P("out", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks")),
        except_={("school", "in"): 404, ("school", "in_line"): 404, ("team_leader", "in_line"): 404,
                 ("surveyor", "in_line"): 404},
        note="a team's members, its town's supervisor and the city read its list; a school none"),
    Entry("GET", f"{V}/teams/<int:team_id>/tasks.<any(gpx, kml):fmt>", STAFF, 200, (
        P("in", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks.gpx", shows=_shows_a),
        P("in_kml", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks.kml", shows=_shows_a),
        P("in_line", lambda w, a: f"{V}/teams/{w.line_team.id}/tasks.gpx"),
        P("out", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks.gpx"),
        P("out_kml", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks.kml")),
        except_={("team_leader", "in_line"): 404},
        note="an export: who manages the team (its leader, its town's supervisor, the city); a surveyor's "
             "tablet gets its list by sync"),
    Entry("POST", f"{V}/teams/<int:team_id>/tasks/generate", STAFF, 200, (
        P("in", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks/generate", json=lambda w, a: {}, shows=_shows_a),
        P("in_line", lambda w, a: f"{V}/teams/{w.line_team.id}/tasks/generate", json=lambda w, a: {}),
        P("out", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks/generate", json=lambda w, a: {})),
        except_={("team_leader", "in_line"): 404}, b_state=_tasks_b),
    Entry("GET", f"{V}/visit-lists", STAFF | {"surveyor"}, 200, (P("list", f"{V}/visit-lists", shows=_shows_a),),
          out=FILTERED, note="the teams whose lists one reads, with their villages; a school none of them"),
    Entry("GET", f"{V}/teams/<int:team_id>/tasks/build", STAFF, 200, (
        P("in", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks/build"),
        P("in_line", lambda w, a: f"{V}/teams/{w.line_team.id}/tasks/build"),
        P("out", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks/build")),
        except_={("team_leader", "in_line"): 404}, note="how far the background build of a list has got"),
    Entry("POST", f"{V}/teams/<int:team_id>/tasks/build", STAFF, 202, (
        P("in", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks/build"),
        P("in_line", lambda w, a: f"{V}/teams/{w.line_team.id}/tasks/build"),
        P("out", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks/build")),
        except_={("team_leader", "in_line"): 404}, b_state=_team_build_jobs_b,
        note="no build is queued for another town's team"),
    Entry("GET", f"{V}/teams/<int:team_id>/tasks.<any(pdf, xlsx):fmt>", STAFF, 200, (
        P("in", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks.pdf", shows=_shows_a),
        P("in_xlsx", lambda w, a: f"{V}/teams/{w.a.team.id}/tasks.xlsx", shows=_shows_a),
        P("in_line", lambda w, a: f"{V}/teams/{w.line_team.id}/tasks.pdf"),
        P("out", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks.pdf"),
        P("out_xlsx", lambda w, a: f"{V}/teams/{w.b.team.id}/tasks.xlsx")),
        except_={("team_leader", "in_line"): 404},
        note="the printable list: who manages the team (its leader, its town's supervisor, the city)"),
    Entry("POST", f"{V}/towns/<code>/tasks/generate", GOVERNMENT, 202, (
        P("in", lambda w, a: f"{V}/towns/{w.a.town.code}/tasks/generate"),
        P("out", lambda w, a: f"{V}/towns/{w.b.town.code}/tasks/generate")),
        b_state=_town_jobs_b, note="no job is queued for another town"),

    # Reports
    Entry("GET", f"{V}/reports/rates", STAFF | {"school"}, 200, (
        P("in", lambda w, a: f"{V}/reports/rates?by=village&town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/reports/rates?by=village&town={w.b.town.code}"),
        P("list", f"{V}/reports/rates?by=town", shows=_shows_a)), out=FILTERED),
    Entry("GET", f"{V}/reports/monthly-dropouts", STAFF | {"school"}, 200, (P("list", f"{V}/reports/monthly-dropouts?year=2027"),)),
    Entry("GET", f"{V}/reports/semester-check", STAFF | {"school"}, 200, (
        P("list", f"{V}/reports/semester-check?start=2027-04-01"),)),
    Entry("POST", f"{V}/reports/exports", STAFF, 202, (
        P("in", f"{V}/reports/exports", json=lambda w, a: {"by": "village"}, shows=_shows_a),
        P("out", f"{V}/reports/exports", json=lambda w, a: {"by": "village", "town": w.b.town.code})),
        out=FILTERED, after=_build_export, note="the export holds what its requester may see"),
    Entry("GET", f"{V}/reports/exports/<int:export_id>", STAFF, 200, (
        P("in", _own_export),
        P("out", lambda w, a: f"{V}/reports/exports/{w.b.exports['town_supervisor']}")),
        note="an export is read by its requester (or the city)"),
    Entry("GET", f"{V}/reports/exports/<int:export_id>/xlsx", STAFF, 200, (
        P("in", lambda w, a: _own_export(w, a) + "/xlsx", shows=_shows_a),
        P("out", lambda w, a: f"{V}/reports/exports/{w.b.exports['town_supervisor']}/xlsx"))),
    Entry("GET", f"{V}/reports/out-of-school-register.xlsx", STAFF | {"school"}, 200, (
        P("in", lambda w, a: f"{V}/reports/out-of-school-register.xlsx?town={w.a.town.code}", shows=_shows_a),
        P("in_village", lambda w, a: f"{V}/reports/out-of-school-register.xlsx?village={w.a.village.code}",
          shows=_shows_a),
        P("out", lambda w, a: f"{V}/reports/out-of-school-register.xlsx?town={w.b.town.code}"),
        P("out_village", lambda w, a: f"{V}/reports/out-of-school-register.xlsx?village={w.b.village.code}"),
        P("list", f"{V}/reports/out-of-school-register.xlsx", shows=_shows_a)), out=FILTERED,
        note="登记造册: the caller's out-of-school children (a school's: its students), ID numbers masked"),
    Entry("GET", f"{V}/reports/accounted-for", STAFF, 200, (
        P("in", lambda w, a: f"{V}/reports/accounted-for?town={w.a.town.code}", shows=_shows_a),
        P("in_village", lambda w, a: f"{V}/reports/accounted-for?village={w.a.village.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/reports/accounted-for?town={w.b.town.code}"),
        P("out_team", lambda w, a: f"{V}/reports/accounted-for?team={w.b.team.id}"),
        P("list", f"{V}/reports/accounted-for", shows=_shows_a)), out=FILTERED,
        except_={("town_supervisor", "out_team"): 404, ("team_leader", "out_team"): 404},
        note="一个都不少: the caller's children by standing; the unaccounted listed, ID numbers masked"),

    # People and teams: the bureau's accounts; a town supervisor manages its own town's teams
    Entry("GET", f"{V}/staff/people", GOVERNMENT, 200, (
        P("list", f"{V}/staff/people?page_size=500", shows=_shows_a),
        P("out", lambda w, a: f"{V}/staff/people?role=surveyor&page_size=500")), out=FILTERED,
        note="a town supervisor lists its town's accounts and its teams' members only"),
    Entry("POST", f"{V}/staff/people", CITY, 201, (P("global", f"{V}/staff/people", json=lambda w, a: {
        "username": "matrix.new", "full_name": "新账号", "role": "surveyor", "line": "government",
        "town_code": w.a.town.code}),)),
    Entry("PATCH", f"{V}/staff/people/<int:person_id>", CITY, 200, (
        P("in", lambda w, a: f"{V}/staff/people/{w.a.people['surveyor'].id}", json=lambda w, a: {"phone": "13900001111"}),
        P("out", lambda w, a: f"{V}/staff/people/{w.b.people['surveyor'].id}", json=lambda w, a: {"phone": "13900001111"})),
        b_state=_staff_b),
    Entry("POST", f"{V}/staff/people/<int:person_id>/deactivate", CITY, 200, (
        P("in", lambda w, a: f"{V}/staff/people/{w.a.people['surveyor'].id}/deactivate"),
        P("out", lambda w, a: f"{V}/staff/people/{w.b.people['surveyor'].id}/deactivate")), b_state=_staff_b),
    Entry("POST", f"{V}/staff/people/<int:person_id>/reactivate", CITY, 200, (
        P("in", lambda w, a: f"{V}/staff/people/{w.a.people['surveyor'].id}/reactivate"),
        P("out", lambda w, a: f"{V}/staff/people/{w.b.people['surveyor'].id}/reactivate")), b_state=_staff_b),
    Entry("POST", f"{V}/staff/people/<int:person_id>/password", CITY, 200, (
        P("in", lambda w, a: f"{V}/staff/people/{w.a.people['surveyor'].id}/password", json=lambda w, a: {}),
        P("out", lambda w, a: f"{V}/staff/people/{w.b.people['surveyor'].id}/password", json=lambda w, a: {})),
        b_state=_staff_b),
    Entry("GET", f"{V}/staff/teams", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/staff/teams?town={w.a.town.code}", shows=_shows_a),
        P("out", lambda w, a: f"{V}/staff/teams?town={w.b.town.code}"),
        P("list", f"{V}/staff/teams", shows=_shows_a)), out=FILTERED),
    Entry("POST", f"{V}/staff/teams", CITY, 201, (P("global", f"{V}/staff/teams", json=lambda w, a: {
        "name": "新工作组", "town_code": w.a.town.code, "line": "government", "village_codes": [w.a.village.code]}),)),
    Entry("PUT", f"{V}/staff/teams/<int:team_id>/villages", CITY, 200, (
        P("in", lambda w, a: f"{V}/staff/teams/{w.a.team.id}/villages",
          json=lambda w, a: {"village_codes": [w.a.village.code]}),
        P("out", lambda w, a: f"{V}/staff/teams/{w.b.team.id}/villages", json=lambda w, a: {"village_codes": []})),
        b_state=_staff_b),
    Entry("POST", f"{V}/staff/teams/<int:team_id>/members", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/staff/teams/{w.a.team.id}/members",
          json=lambda w, a: {"person_id": w.a.people["surveyor"].id}, shows=_shows_a),
        P("out", lambda w, a: f"{V}/staff/teams/{w.b.team.id}/members",
          json=lambda w, a: {"person_id": w.a.people["surveyor"].id})),
        b_state=_staff_b, note="another town's team is not found"),
    Entry("DELETE", f"{V}/staff/teams/<int:team_id>/members/<int:person_id>", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/staff/teams/{w.a.team.id}/members/{w.a.people['surveyor'].id}"),
        P("out", lambda w, a: f"{V}/staff/teams/{w.b.team.id}/members/{w.b.people['surveyor'].id}")),
        b_state=_staff_b),
    Entry("PUT", f"{V}/staff/teams/<int:team_id>/leader", GOVERNMENT, 200, (
        P("in", lambda w, a: f"{V}/staff/teams/{w.a.team.id}/leader",
          json=lambda w, a: {"person_id": w.a.people["team_leader"].id}, shows=_shows_a),
        P("out", lambda w, a: f"{V}/staff/teams/{w.b.team.id}/leader", json=lambda w, a: {"person_id": None})),
        b_state=_staff_b),

    # The audit trail: the bureau's
    Entry("GET", f"{V}/audit-events", CITY, 200, (P("list", f"{V}/audit-events?page_size=100"),)),
)


def policy_table() -> str:
    """The matrix as a Markdown table, for a reviewer: `python -m tests.authz.matrix`."""
    short = {"anonymous": "anon", "city": "city", "town_supervisor": "town", "team_leader": "leader",
             "surveyor": "surveyor", "school": "school", "inactive": "inactive", "tablet": "tablet"}
    lines = ["| endpoint | allowed | out of scope | probes | note |", "|---|---|---|---|---|"]
    for e in MATRIX:
        allowed = "everyone" if e.who == EVERYONE else ", ".join(short[a] for a in ACTORS if a in e.who)
        has_out = any(p.out_of_scope for p in e.probes)
        out = ("filtered" if e.out == FILTERED else str(e.out)) if has_out else "-"
        special = "; ".join([f"{short[a]} on {p}: {s}" for (a, p), s in e.except_.items()]
                            + [f"{short[a]}: nothing of town A's object" for a in ACTORS if a in e.nothing_for])
        note = "; ".join(x for x in (special, e.note) if x)
        lines.append(f"| {e.method} {e.rule} | {allowed} → {e.ok} | {out} | "
                     f"{', '.join(p.name for p in e.probes)} | {note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(policy_table())
