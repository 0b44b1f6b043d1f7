"""Issue 12 item 5: every read of a child's or a household's personal data by a person leaves one
audit row, and no endpoint can answer with personal fields without one.

The walk makes every GET of the authorization matrix (which covers the app's URL map) as every
kind of person, on the matrix world's town A, and looks for town A's personal values (children's
and guardians' names, heads' names, addresses, a phone) in each answer, however it is encoded
(JSON, GeoJSON, PDF, XLSX, GPX/KML). An endpoint that answers with one must be in PERSONAL_READS
and must have written exactly one audit row for that request; one that is not in the table must
answer with none of them. A new endpoint that shows a child's name therefore fails here until it
is decorated with `server.audit.reads.personal_read` (or audited as an export) and listed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from server.audit.models import AuditEvent
from tests.authz.matrix import MATRIX
from tests.authz.reading import readable

V = "/api/v1"
PERSON_ACTORS = ("city", "town_supervisor", "team_leader", "surveyor", "school")

# Every endpoint that answers a person with personal fields, and the action of its audit row.
PERSONAL_READS = {
    ("GET", f"{V}/households"): "read",
    ("GET", f"{V}/children"): "read",
    ("GET", f"{V}/children/<uuid:child_id>"): "read_child",
    ("GET", f"{V}/cases"): "read",
    ("GET", f"{V}/cases/<int:case_id>"): "read",
    ("GET", f"{V}/conflicts"): "read",
    ("GET", f"{V}/duplicates"): "read",
    ("GET", f"{V}/imports"): "read",
    ("GET", f"{V}/imports/<int:import_id>"): "read",
    ("GET", f"{V}/imports/<int:import_id>/problems"): "read",
    ("GET", f"{V}/imports/register-not-in-roster"): "read",
    ("GET", f"{V}/imports/suspected-dropouts"): "read",
    ("GET", f"{V}/imports/missing-from-roster"): "read",
    ("GET", f"{V}/imports/children/<uuid:child_id>/history"): "read",
    ("GET", f"{V}/imports/referrals"): "read",
    ("GET", f"{V}/maps/households"): "read",
    ("GET", f"{V}/maps/children"): "read",
    ("GET", f"{V}/maps/households/outside"): "read",
    ("GET", f"{V}/maps/households/<uuid:household_id>"): "read",
    ("GET", f"{V}/maps/households/without-gps"): "read",
    ("POST", f"{V}/maps/search"): "read",
    ("GET", f"{V}/teams/<int:team_id>/tasks"): "read",
    ("GET", f"{V}/reports/semester-check"): "read",
    ("GET", f"{V}/reports/accounted-for"): "read",
    # Downloads, recorded as exports (or the attachment's own read) by their services.
    ("GET", f"{V}/imports/<int:import_id>/report"): "export",
    ("GET", f"{V}/teams/<int:team_id>/tasks.<any(gpx, kml):fmt>"): "export",
    ("GET", f"{V}/teams/<int:team_id>/tasks.<any(pdf, xlsx):fmt>"): "export",
    ("GET", f"{V}/notices/<int:notice_id>/pdf"): "export",
    ("GET", f"{V}/notices/batch"): "export",
    ("GET", f"{V}/reports/out-of-school-register.xlsx"): "export",
    ("GET", f"{V}/attachments/<sha256>"): "read_attachment",
}
READ_ACTIONS = ("read", "read_child")


def _personal_values(world) -> list[str]:
    a = world.a
    values = [c.name for c in a.children.values()]
    values += [c.guardian_name for c in a.children.values() if c.guardian_name]
    values += [h.head_name for h in a.households.values()] + [h.address for h in a.households.values()]
    return sorted(set(values))


def _events_of(session, person_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.person_id == person_id).order_by(AuditEvent.id)))


def test_the_table_names_endpoints_the_app_has_and_every_marked_route_is_in_it(app):
    rules = {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods}
    assert set(PERSONAL_READS) <= rules, sorted(set(PERSONAL_READS) - rules)
    marked = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = getattr(getattr(view, "view_class", None), method.lower(), None)
            if getattr(handler, "personal_read", None):
                marked.add((method, rule.rule))
    assert marked == {k for k, action in PERSONAL_READS.items() if action in READ_ACTIONS}


def test_every_answer_with_personal_fields_is_one_audited_read(client, world, session):
    personal = _personal_values(world)
    a_ids = {str(c.id): c for c in world.a.children.values()} | {str(h.id): h for h in world.a.households.values()}
    checked, unaudited, unlisted = 0, [], []
    for entry in MATRIX:
        if entry.method != "GET" or entry.rule.startswith(f"{V}/openrosa/"):
            # An OpenRosa URL answers as its tablet, whoever holds it: a tablet's read, as a
            # pull is (test_tablets_pulls_and_tiles_write_no_read), not a person's.
            continue
        action = PERSONAL_READS.get(entry.key)
        for probe in entry.probes:
            if probe.out_of_scope:
                continue
            for actor in PERSON_ACTORS:
                if entry.expected(actor, probe) != 200:
                    continue
                person = world.people[actor]
                before = len(_events_of(session, person.id))
                url = probe.url(world, actor)
                response = client.get(url, headers=world.headers(actor))
                assert response.status_code == 200, (url, actor, response.status_code)
                text = readable(response.get_data())
                session.expire_all()
                new = _events_of(session, person.id)[before:]
                where = f"GET {url} as {actor}"
                shows = [v for v in personal if v in text]
                checked += 1
                if action is None:
                    if shows:
                        unlisted.append(f"{where}: shows {shows[:3]}")
                    continue
                if len(new) != 1 or new[0].action != action:
                    unaudited.append(f"{where}: {[(e.action, e.subject_type) for e in new]}")
                    continue
                event = new[0]
                if action not in READ_ACTIONS:
                    continue
                assert event.endpoint == f"GET {entry.rule}", where
                assert isinstance(event.filters, dict) and isinstance(event.record_count, int), where
                assert event.remote_addr is not None, where
                # The ids it names were in the answer, and a record whose personal values the
                # answer showed next to its id is among them.
                ids = {str(i) for i in event.record_ids or []}
                assert ids <= {i for i in ids if i in text}, f"{where}: names ids it did not show"
                for record_id, record in a_ids.items():
                    label = getattr(record, "name", None) or record.head_name
                    if record_id in text and f'"{label}"' in text and "/imports/<int:import_id>" not in entry.rule:
                        assert record_id in ids, f"{where}: showed {label} ({record_id}) but did not record it"
    assert not unlisted, "answers with personal fields from endpoints not in PERSONAL_READS:\n  " + "\n  ".join(unlisted)
    assert not unaudited, "personal reads without exactly one audit row:\n  " + "\n  ".join(unaudited)
    assert checked > 100


def test_a_list_read_records_its_filters_count_and_ids_and_the_bureau_finds_it_by_child(client, world, session):
    pupil = world.a.children["pupil"]
    school = world.people["school"]
    response = client.get(f"{V}/children", headers=world.headers("school"),
                          query_string={"village": world.a.village.code, "status": ["dropped_out", "enrolled"]})
    assert response.status_code == 200
    shown = {item["id"] for item in response.json["items"]}
    assert str(pupil.id) in shown
    event = session.scalar(select(AuditEvent).where(AuditEvent.person_id == school.id).order_by(AuditEvent.id.desc()))
    assert (event.action, event.subject_type, event.subject_id) == ("read", "child", "list")
    assert event.endpoint == f"GET {V}/children"
    assert event.filters["village"] == world.a.village.code and event.filters["status"] == ["dropped_out", "enrolled"]
    assert event.record_count == len(shown) and {str(i) for i in event.record_ids} == shown

    # The bureau asks who saw this child: the list read is there, with what it held.
    trail = client.get(f"{V}/audit-events", headers=world.headers("city"),
                       query_string={"record_id": str(pupil.id), "action": "read"}).json
    mine = [e for e in trail["items"] if e["person"]["id"] == school.id]
    assert len(mine) == 1 and mine[0]["endpoint"] == f"GET {V}/children"
    assert mine[0]["record_count"] == len(shown) and str(pupil.id) in mine[0]["record_ids"]
    assert mine[0]["filters"]["village"] == world.a.village.code
    by_endpoint = client.get(f"{V}/audit-events", headers=world.headers("city"),
                             query_string={"endpoint": f"GET {V}/children", "person_id": school.id}).json
    assert by_endpoint["total"] == 1
    # A child the answer did not hold is not found through it.
    other = client.get(f"{V}/audit-events", headers=world.headers("city"),
                       query_string={"record_id": str(uuid.uuid4()), "action": "read"}).json
    assert other["total"] == 0


def test_tablets_pulls_and_tiles_write_no_read(client, world, session):
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    assert client.get(f"{V}/sync/changes?limit=1000", headers=world.headers("tablet")).status_code == 200
    assert client.get(f"{V}/openrosa/{world.tablet_token}/entity-lists/children.csv").status_code == 200
    tile = next(p for e in MATRIX if e.rule.startswith(f"{V}/tiles/") for p in e.probes if p.name == "in")
    assert client.get(tile.url(world, "city"), headers=world.headers("city")).status_code == 200
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_five_reads_by_a_school_are_five_rows_in_the_trail(client, world):
    """The finding: a school listed its town's children, mapped them, opened a household, the
    cases and a pupil's history, and the bureau's trail showed nothing of it."""
    school = world.people["school"]
    pupil, home = world.a.children["pupil"], world.a.households["home"]
    reads = [f"{V}/children?town={world.a.town.code}&page_size=500", f"{V}/maps/children",
             f"{V}/maps/households/{home.id}", f"{V}/cases", f"{V}/imports/children/{pupil.id}/history"]
    for url in reads:
        assert client.get(url, headers=world.headers("school")).status_code == 200, url
    trail = client.get(f"{V}/audit-events", headers=world.headers("city"),
                       query_string={"person_id": school.id, "action": "read", "page_size": 100}).json
    assert trail["total"] == 5
    assert sorted(e["endpoint"] for e in trail["items"]) == sorted([
        f"GET {V}/children", f"GET {V}/maps/children", f"GET {V}/maps/households/<uuid:household_id>",
        f"GET {V}/cases", f"GET {V}/imports/children/<uuid:child_id>/history"])
    for entry in trail["items"]:
        assert entry["person"]["role"] == "school" and entry["remote_addr"] and entry["record_count"] >= 1
        assert str(pupil.id) in entry["record_ids"] or str(home.id) in entry["record_ids"], entry
