"""Issue 12: a town's roster touches only its town's children; the rest goes to the city bureau.

The attack: a town supervisor uploaded a one-row roster naming their own village and another
town's child's ID number. The county-wide match moved that child into the uploader's village,
with its full ID number and guardian's phone readable by the uploader and gone (404) for its own
town; and the import's summary said whether the number was on file at all.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from server.audit.models import AuditEvent
from server.demo import files
from server.people import id_number
from server.people.models import Child
from server.places.models import Town
from tests.imports.conftest import file_bytes

# What an import's answer says that depends on time or on the file's bytes, not on what it did.
_INCIDENTAL = ("timings", "seconds", "same_file_as_import_id", "matched_with_register_import_id")


def _rows_by_town(county):
    table = files.roster_table(county, bad_rows=False)
    towns = {}
    for row in table.rows:
        towns.setdefault(row[6], []).append(row)
    return table.header, towns


def _summary(shown):
    return {k: v for k, v in shown["summary"].items() if k not in _INCIDENTAL}


def _answer(client, headers, shown):
    """All that the uploading town is told about its import."""
    problems = client.get(f"/api/v1/imports/{shown['id']}/problems", headers=headers).json
    report = client.get(f"/api/v1/imports/{shown['id']}/report?format=csv", headers=headers).data
    return _summary(shown), shown["progress"], shown["problems_preview"], problems["items"], report


def test_a_towns_roster_cannot_take_another_towns_child_nor_tell_whether_a_number_exists(
        county, upload, city, client, session, make_person, login):
    header, by_town = _rows_by_town(county)
    upload(city, "roster", file_bytes(header, [r for rows in by_town.values() for r in rows]))
    name_a, name_b = list(by_town)[:2]
    town_a = session.scalar(select(Town).where(Town.name == name_a))
    town_b = session.scalar(select(Town).where(Town.name == name_b))
    sup_a = login(make_person("town_supervisor", town=town_a))
    sup_b = login(make_person("town_supervisor", town=town_b))
    victim_row = by_town[name_b][0]
    victim = session.scalar(select(Child).where(Child.name == victim_row[0], Child.birth_date.is_not(None))
                            .where(Child.village_code.like(town_b.code[:9] + "%")))
    home_b = victim.village_code

    # The attacker's row: their own village and household, the other town's child's number.
    own = list(by_town[name_a][0])
    stolen = [victim_row[0], victim_row[1], victim_row[2], victim_row[3], "汉族", own[5], name_a, own[7], own[8],
              own[9], own[10], "子", "冒领人", "13900000000"]
    # (with the town's whole roster, as a town sends it: no child of its own goes missing)
    taken = upload(sup_a, "roster", file_bytes(header, [*by_town[name_a], stolen]))

    session.expire_all()
    assert session.get(Child, victim.id).village_code == home_b
    assert client.get(f"/api/v1/children/{victim.id}", headers=sup_a).status_code == 404
    mine = client.get(f"/api/v1/children/{victim.id}", headers=sup_b)
    assert mine.status_code == 200 and mine.json["guardian_phone"] != "13900000000"
    assert taken["summary"]["children_referred"] == 1
    assert taken["summary"]["children_created"] == taken["summary"]["children_updated"] == 0

    # The same row with a number on file nowhere: the town is told exactly the same.
    born = dt.date.fromisoformat(victim_row[3]) if "-" in victim_row[3] else victim.birth_date
    fresh_number = id_number.make(victim_row[2][:6], born, 997 if victim_row[2][16] in "13579" else 996)
    fresh = [*stolen[:2], fresh_number, *stolen[3:]]
    unknown = upload(sup_a, "roster", file_bytes(header, [*by_town[name_a], fresh]))
    assert _answer(client, sup_a, unknown) == _answer(client, sup_a, taken)
    assert session.scalar(select(Child).where(Child.id_number_lookup == client.application.extensions[
        "notoneless.vault"].lookup(fresh_number))) is None

    # The town does not see the bureau's list of held rows.
    assert client.get("/api/v1/imports/referrals", headers=sup_a).status_code == 403

    held = client.get("/api/v1/imports/referrals?status=held", headers=city).json
    assert held["total"] == 2
    claim = next(r for r in held["items"] if r["import_id"] == taken["id"])
    new = next(r for r in held["items"] if r["import_id"] == unknown["id"])
    assert claim["child_id"] == str(victim.id) and claim["child_village_code"] == home_b
    assert new["child_id"] is None and "*" in new["id_number"]

    # The bureau decides: the claimed child moves (the family did move), the other row is dropped.
    moved = client.post(f"/api/v1/imports/referrals/{claim['id']}/decision", headers=city,
                        json={"decision": "move", "note": "户籍已迁入"})
    assert moved.status_code == 200 and moved.json["status"] == "moved"
    dropped = client.post(f"/api/v1/imports/referrals/{new['id']}/decision", headers=city,
                          json={"decision": "dismiss"})
    assert dropped.status_code == 200 and dropped.json["status"] == "dismissed"
    again = client.post(f"/api/v1/imports/referrals/{new['id']}/decision", headers=city,
                        json={"decision": "move"})
    assert again.status_code == 409 and again.json["code"] == "import.referral_decided"
    session.expire_all()
    assert session.get(Child, victim.id).village_code == own_village(session, own)
    assert client.get(f"/api/v1/children/{victim.id}", headers=sup_a).status_code == 200
    assert client.get(f"/api/v1/children/{victim.id}", headers=sup_b).status_code == 404
    decisions = session.execute(select(AuditEvent.subject_id, AuditEvent.detail["decision"].astext)
                                .where(AuditEvent.subject_type == "roster_referral", AuditEvent.action == "change")
                                .order_by(AuditEvent.id)).all()
    assert decisions == [(str(claim["id"]), "move"), (str(new["id"]), "dismiss")]
    assert client.post(f"/api/v1/imports/referrals/{claim['id']}/decision", headers=sup_a,
                       json={"decision": "move"}).status_code == 403


def own_village(session, row):
    from server.places.models import Village

    return session.scalar(select(Village.code).join(Town).where(Town.name == row[6], Village.name == row[7]))


def test_a_towns_roster_still_updates_its_own_children_and_a_city_roster_matches_county_wide(
        county, upload, city, client, session, make_person, login):
    header, by_town = _rows_by_town(county)
    upload(city, "roster", file_bytes(header, [r for rows in by_town.values() for r in rows]))
    name_a, name_b = list(by_town)[:2]
    town_a = session.scalar(select(Town).where(Town.name == name_a))
    sup_a = login(make_person("town_supervisor", town=town_a))

    row = list(by_town[name_a][0])
    row[12] = "新监护人"
    shown = upload(sup_a, "roster", file_bytes(header, [row]))
    assert shown["summary"]["children_updated"] == 1 and shown["summary"]["children_referred"] == 0

    # The city's roster moves a child across towns itself (the bureau speaks for the county).
    b_row = by_town[name_b][0]
    moved = [*b_row[:6], name_a, *row[7:10], *b_row[10:]]
    shown = upload(city, "roster", file_bytes(header, [moved]))
    assert shown["summary"]["children_updated"] == 1 and "children_referred" not in shown["summary"]
