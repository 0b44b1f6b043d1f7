"""Load a generated demo county into the database in one transaction, with COPY for the bulk."""

from __future__ import annotations

import datetime as dt

from shapely import wkt
from sqlalchemy.orm import Session

from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.passwords import hash_password
from server.campaigns.models import Campaign
from server.demo import queries
from server.demo.generator import DemoCounty
from server.people.protection import IdNumberVault, child_subject

# Wiped by --replace, children first so that foreign keys hold; PostGIS's tables are untouched.
# TRUNCATE fires no row triggers: the sync layer's log and history go with the records.
DEMO_TABLES = ["audit_events", "access_tokens", "team_villages", "team_members", "teams", "people",
               "children", "households", "campaigns", "schools", "villages", "towns",
               "change_log", "scope_hashes", "record_versions", "field_states", "conflicts", "tombstones",
               "duplicate_candidates"]


class NotEmptyError(RuntimeError):
    pass


def _ewkt(geometry) -> str:
    return "SRID=4326;" + wkt.dumps(geometry, rounding_precision=7)


def campaign_dates(school_year: int) -> dict:
    """The plan's phase dates, in the spring of the school year (calendar year Y+1)."""
    y = school_year + 1
    return {
        "publicity_start": dt.date(y, 4, 20), "survey_start": dt.date(y, 5, 21),
        "persuasion_start": dt.date(y, 6, 10), "enforcement_start": dt.date(y, 7, 1),
        "enforcement_end": dt.date(y, 7, 10),
    }


def load(session: Session, county: DemoCounty, vault: IdNumberVault, password: str,
         replace: bool = False, with_children: bool = True) -> dict:
    """Write the county; refuse a database that already has places unless `replace`."""
    if queries.has_places(session):
        if not replace:
            raise NotEmptyError("the database already has places; use --replace to wipe them")
        queries.wipe(session, DEMO_TABLES)

    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy("COPY towns (code, name, kind) FROM STDIN") as copy:
            for t in county.towns:
                copy.write_row((t.code, t.name, t.kind))
        with cur.copy("COPY villages (code, town_code, name, kind, boundary, centroid) FROM STDIN") as copy:
            for v in county.villages:
                copy.write_row((v.code, v.town_code, v.name, v.kind, _ewkt(v.polygon), _ewkt(v.centroid)))
        with cur.copy("COPY schools (id, code, name, town_code, stage, location) FROM STDIN") as copy:
            for s in county.schools:
                copy.write_row((s.id, s.code, s.name, s.town_code, s.stage, f"SRID=4326;POINT({s.lon} {s.lat})"))
        cur.execute("SELECT setval(pg_get_serial_sequence('schools', 'id'), (SELECT max(id) FROM schools))")
        with cur.copy(
            "COPY households (id, village_code, group_name, household_number, address, head_name, phone,"
            " location, location_approximate, survey_status) FROM STDIN"
        ) as copy:
            # The roster gives no GPS point: a household starts at its village centroid, marked
            # approximate, until a tablet records where it really is. The generator's true
            # point is what a tablet would record.
            centroids = {v.code: v.centroid for v in county.villages}
            for h in county.households:
                c = centroids[h.village_code]
                copy.write_row((h.id, h.village_code, h.group_name, h.household_number, h.address,
                                h.head_name, h.phone, f"SRID=4326;POINT({c.x} {c.y})", True, "not_visited"))
        if with_children:
            school_ids = {s.code: s.id for s in county.schools}
            school_names = {s.code: s.name for s in county.schools}
            with cur.copy(
                "COPY children (id, household_id, village_code, name, gender, id_number_cipher,"
                " id_number_lookup, birth_date, ethnicity, relation_to_head, guardian_name, guardian_phone,"
                " disability, disability_type, disability_level, left_behind, migrant,"
                " vulnerable_family_types, enrollment_status, school_id, school_name, grade, class_name)"
                " FROM STDIN"
            ) as copy:
                for c in county.children:
                    # Until the import issue's cross-match runs on real files, the starting
                    # status is what it would give: in a register -> enrolled, to confirm.
                    in_register = c.school_code is not None
                    copy.write_row((
                        c.id, c.household_id, c.village_code, c.name, c.gender,
                        vault.encrypt(c.id_number, child_subject(c.id)), vault.lookup(c.id_number), c.birth_date, c.ethnicity, c.relation_to_head,
                        c.guardian_name, c.guardian_phone, c.disability, c.disability_type,
                        c.disability_level, c.left_behind, c.migrant, c.vulnerable_family_types,
                        "enrolled_unconfirmed" if in_register else "suspected_out_of_school",
                        school_ids.get(c.school_code), school_names.get(c.school_code),
                        c.grade if in_register else None, c.class_name if in_register else None,
                    ))

    session.add(Campaign(name=f"{county.school_year + 1}年控辍保学专项行动（{county.school_year}学年）",
                         school_year=county.school_year, active=True, **campaign_dates(county.school_year)))

    # One argon2 hash for every demo account: hashing hundreds of passwords would take longer
    # than loading the whole county, and they all share the demo password anyway.
    password_hash = hash_password(password)
    school_ids = {s.code: s.id for s in county.schools}
    people = {}
    for p in county.people:
        people[p.username] = Person(username=p.username, full_name=p.full_name, role=p.role, line=p.line,
                                    town_code=p.town_code, school_id=school_ids.get(p.school_code),
                                    password_hash=password_hash)
    session.add_all(people.values())
    session.flush()
    team_rows, member_rows, village_rows = [], [], []
    for t in county.teams:
        team = Team(name=t.name, town_code=t.town_code, line=t.line, leader_id=people[t.leader].id)
        team_rows.append((team, t))
    session.add_all([team for team, _ in team_rows])
    session.flush()
    for team, t in team_rows:
        member_rows += [{"team_id": team.id, "person_id": people[u].id} for u in t.members]
        village_rows += [{"team_id": team.id, "village_code": code} for code in t.village_codes]
    session.execute(team_members.insert(), member_rows)
    session.execute(team_villages.insert(), village_rows)
    session.flush()
    queries.analyze(session)
    return {
        "towns": len(county.towns), "villages": len(county.villages), "schools": len(county.schools),
        "households": len(county.households), "children": len(county.children) if with_children else 0,
        "people": len(county.people), "teams": len(county.teams),
    }
