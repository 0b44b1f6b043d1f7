"""Every query of the imports domain. The bulk work is set-based: COPY into a staging table,
then INSERT ... ON CONFLICT and UPDATE ... FROM, each writing its history in the same statement."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Engine, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from server.accounts.scope import Scope
from server.imports.models import (
    SEVERITIES,
    Import,
    ImportFile,
    ImportProblem,
    RecordChange,
    RegisterStudent,
    RosterEntry,
    SuspectedDropout,
)
from server.people.models import Child, Household
from server.places.models import Town, Village
from server.schools.models import School

# One import at a time: two imports merging households and children concurrently would race
# on the same rows. A second worker picking up the same job waits here, then sees it done.
_IMPORT_LOCK = 0x6E6F6C_0003

# The statuses an import may set; anything else was decided in the field and is left alone.
STARTING_STATUSES = ("enrolled_unconfirmed", "suspended", "transferred_out", "suspected_out_of_school",
                     "not_school_age")


# --- imports, files, problems -------------------------------------------------------------------

def lock_imports(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})
    # Sorting and hashing 100,000 staged rows spills to disk with the default 4 MB; one import
    # runs at a time (the lock above), so a larger budget for this transaction is safe.
    session.execute(text("SET LOCAL work_mem = '64MB'"))


def file_content(session: Session, import_id: int) -> bytes | None:
    return session.scalar(select(ImportFile.content).where(ImportFile.import_id == import_id))


def store_file(session: Session, import_id: int, content: bytes) -> None:
    session.add(ImportFile(import_id=import_id, content=content))
    session.flush()


def erase_file(session: Session, import_id: int) -> None:
    session.execute(delete(ImportFile).where(ImportFile.import_id == import_id))


def same_file_before(session: Session, imp: Import) -> int | None:
    return session.scalar(
        select(func.max(Import.id)).where(Import.kind == imp.kind, Import.file_sha256 == imp.file_sha256,
                                          Import.status == "done", Import.id != imp.id)
    )


def add_problems(session: Session, import_id: int, problems) -> None:
    if not problems:
        return
    session.execute(insert(ImportProblem), [
        {"import_id": import_id, "line": p.line, "column": p.column, "header": p.header, "code": p.code,
         "message": p.message, "value": p.value, "severity": p.severity, "imported_value": p.imported_value,
         "name": p.name, "town": p.town, "village": p.village}
        for p in problems
    ])


def _problems(import_id: int, severity: str | None):
    query = select(ImportProblem).where(ImportProblem.import_id == import_id)
    return query if severity is None else query.where(ImportProblem.severity == severity)


def problems_of(session: Session, import_id: int, offset: int = 0, limit: int | None = None,
                severity: str | None = None):
    query = _problems(import_id, severity).order_by(ImportProblem.line, ImportProblem.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def problem_counts(session: Session, import_id: int) -> dict[str, int]:
    """{severity: problems} of an import (every severity present, zero where none)."""
    found = dict(session.execute(
        select(ImportProblem.severity, func.count()).where(ImportProblem.import_id == import_id)
        .group_by(ImportProblem.severity)).all())
    return {severity: found.get(severity, 0) for severity in SEVERITIES}


def visible_imports(person_role: str, person_id: int, town_code: str | None):
    """The imports a person may see: all for the city, their town's and their own otherwise."""
    query = select(Import)
    if person_role != "city":
        query = query.where((Import.uploaded_by == person_id) | (Import.town_code == town_code))
    return query


def imports_page(session: Session, query, kind: str | None, offset: int, limit: int):
    if kind:
        query = query.where(Import.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Import.id.desc()).offset(offset).limit(limit)).all()
    return total, rows


def write_progress(engine: Engine, import_id: int, **values) -> None:
    """Progress goes through its own short transaction so that readers see it while the job's
    main transaction is still open (it commits everything else at once, at the end)."""
    with engine.begin() as conn:
        conn.execute(update(Import).where(Import.id == import_id).values(**values))


# --- places, schools, campaign ------------------------------------------------------------------

def towns(session: Session) -> list[tuple[str, str]]:
    return [tuple(r) for r in session.execute(select(Town.code, Town.name))]


def villages(session: Session) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in session.execute(select(Village.code, Village.town_code, Village.name))]


def town_of_villages(session: Session, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    return set(session.scalars(select(Village.town_code).where(Village.code.in_(sorted(codes))).distinct()))


# --- roster -------------------------------------------------------------------------------------

ROSTER_STAGE_COLUMNS = ("line", "lookup", "cipher", "name", "gender", "birth_date", "ethnicity",
                        "village_code", "group_name", "household_number", "address", "head_name",
                        "relation_to_head", "guardian_name", "guardian_phone")


def stage_roster(session: Session, rows) -> None:
    """COPY the good rows into a temporary staging table (dropped at commit)."""
    session.execute(text("DROP TABLE IF EXISTS roster_stage"))
    session.execute(text("""
        CREATE TEMP TABLE roster_stage (
            line integer NOT NULL, lookup bytea NOT NULL, cipher bytea NOT NULL,
            name varchar(50) NOT NULL, gender varchar(1) NOT NULL, birth_date date NOT NULL,
            ethnicity varchar(20), village_code varchar(12) NOT NULL, group_name varchar(20),
            household_number varchar(30), address varchar(200), head_name varchar(50),
            relation_to_head varchar(20), guardian_name varchar(50), guardian_phone varchar(30),
            household_id uuid, child_id uuid, is_new boolean NOT NULL DEFAULT false
        ) ON COMMIT DROP
    """))
    copy_rows(session, "roster_stage", ROSTER_STAGE_COLUMNS, rows)
    session.execute(text("CREATE INDEX ON roster_stage (lookup)"))
    session.execute(text("ANALYZE roster_stage"))


def copy_rows(session: Session, table: str, columns, rows) -> None:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _diff(pairs: list[tuple[str, str, str]], *, blank_clears: bool = False) -> str:
    """A jsonb of {field: [old, new]} for the fields that differ.

    A blank cell in a file is no claim that the value is gone (a roster without a phone column
    must not erase phones), so by default a NULL new value is not a change.
    """
    parts = []
    for name, old, new in pairs:
        given = "" if blank_clears else f"{new} IS NOT NULL AND "
        parts.append(f"'{name}', CASE WHEN {given}{old} IS DISTINCT FROM {new}"
                     f" THEN jsonb_build_array({old}, {new}) END")
    return f"jsonb_strip_nulls(jsonb_build_object({', '.join(parts)}))"


def _differs(pairs: list[tuple[str, str, str]], *, blank_clears: bool = False) -> str:
    """The condition under which `_diff` is not empty (to skip building JSON for the others)."""
    given = "" if blank_clears else "{new} IS NOT NULL AND "
    return "(" + " OR ".join(f"({given.format(new=new)}{old} IS DISTINCT FROM {new})"
                             for _name, old, new in pairs) + ")"


_HOUSEHOLD_FIELDS = [("group_name", "h.group_name", "i.group_name"), ("address", "h.address", "i.address"),
                     ("head_name", "h.head_name", "i.head_name")]


def merge_households(session: Session, import_id: int) -> dict:
    """Group roster rows into households: by 户号 within the village, else by address and head.

    A new household starts at its village's centroid, marked approximate until a tablet records
    a GPS point. A changed household (new head, new address) is updated, its version bumped,
    and the change written to the history.
    """
    # The roster's numbered households, once (the first row of each 户号 speaks for it).
    session.execute(text("DROP TABLE IF EXISTS roster_households"))
    session.execute(text("""
        CREATE TEMP TABLE roster_households ON COMMIT DROP AS
        SELECT DISTINCT ON (village_code, household_number) village_code, household_number,
               group_name, address, head_name, guardian_phone AS phone
        FROM roster_stage WHERE household_number IS NOT NULL
        ORDER BY village_code, household_number, line
    """))
    session.execute(text("ANALYZE roster_households"))
    updated = session.execute(text(f"""
        WITH i AS (SELECT * FROM roster_households),
        changed AS (
            SELECT h.id, {_diff(_HOUSEHOLD_FIELDS)} AS diff,
                   i.group_name, i.address, i.head_name, i.phone
            FROM households h
            JOIN i ON h.village_code = i.village_code AND h.household_number = i.household_number
            WHERE {_differs(_HOUSEHOLD_FIELDS)}
        ),
        real AS (SELECT * FROM changed WHERE diff <> '{{}}'::jsonb),
        history AS (
            INSERT INTO record_changes (record_type, record_id, import_id, kind, changes)
            SELECT 'household', id, :import_id, 'updated', diff FROM real
        )
        UPDATE households h SET
            group_name = coalesce(r.group_name, h.group_name), address = coalesce(r.address, h.address),
            head_name = coalesce(r.head_name, h.head_name), phone = coalesce(h.phone, r.phone),
            version = h.version + 1, updated_at = clock_timestamp()
        FROM real r WHERE h.id = r.id
    """), {"import_id": import_id}).rowcount  # noqa: S608 - only this module's column lists are interpolated
    created = session.execute(text("""
        INSERT INTO households (id, village_code, group_name, household_number, address, head_name,
                                phone, location, location_approximate)
        SELECT gen_random_uuid(), i.village_code, i.group_name, i.household_number, i.address,
               i.head_name, i.phone, v.centroid, true
        FROM roster_households i JOIN villages v ON v.code = i.village_code
        WHERE NOT EXISTS (SELECT 1 FROM households h WHERE h.village_code = i.village_code
                                                      AND h.household_number = i.household_number)
        ON CONFLICT (village_code, household_number) WHERE household_number IS NOT NULL DO NOTHING
    """)).rowcount
    session.execute(text("""
        UPDATE roster_stage s SET household_id = h.id FROM households h
        WHERE s.household_number IS NOT NULL AND h.village_code = s.village_code
          AND h.household_number = s.household_number
    """))
    # Without 户号: the same address and head in the same village is the same household.
    session.execute(text("""
        UPDATE roster_stage s SET household_id = h.id
        FROM (
            SELECT DISTINCT ON (village_code, address, head_name) id, village_code, address, head_name
            FROM households
            WHERE household_number IS NULL AND (address IS NOT NULL OR head_name IS NOT NULL)
              AND village_code IN (SELECT DISTINCT village_code FROM roster_stage
                                   WHERE household_number IS NULL)
            ORDER BY village_code, address, head_name, created_at, id
        ) h
        WHERE s.household_id IS NULL AND s.household_number IS NULL
          AND (s.address IS NOT NULL OR s.head_name IS NOT NULL)
          AND h.village_code = s.village_code AND h.address IS NOT DISTINCT FROM s.address
          AND h.head_name IS NOT DISTINCT FROM s.head_name
    """))
    # Nothing to group by at all: a known child stays in the household it has in that village.
    session.execute(text("""
        UPDATE roster_stage s SET household_id = c.household_id FROM children c
        WHERE s.household_id IS NULL AND s.household_number IS NULL AND s.address IS NULL
          AND s.head_name IS NULL AND c.id = s.child_id AND c.village_code = s.village_code
    """))
    created += session.execute(text("""
        WITH groups AS (
            SELECT village_code, address, head_name,
                   CASE WHEN address IS NULL AND head_name IS NULL THEN line END AS solo,
                   min(line) AS first_line
            FROM roster_stage WHERE household_id IS NULL
            GROUP BY 1, 2, 3, 4
        ),
        fresh AS MATERIALIZED (SELECT gen_random_uuid() AS id, g.* FROM groups g),
        assigned AS (
            UPDATE roster_stage s SET household_id = n.id FROM fresh n
            WHERE s.household_id IS NULL AND s.village_code = n.village_code
              AND s.address IS NOT DISTINCT FROM n.address AND s.head_name IS NOT DISTINCT FROM n.head_name
              AND n.solo IS NOT DISTINCT FROM (CASE WHEN s.address IS NULL AND s.head_name IS NULL
                                                    THEN s.line END)
        )
        INSERT INTO households (id, village_code, group_name, address, head_name, phone, location,
                                location_approximate)
        SELECT n.id, n.village_code, f.group_name, n.address, n.head_name, f.guardian_phone,
               v.centroid, true
        FROM fresh n JOIN villages v ON v.code = n.village_code
        JOIN roster_stage f ON f.line = n.first_line
    """)).rowcount
    return {"households_created": created, "households_updated": updated}


_REFERRAL_COLUMNS = ("line", "id_number_lookup", "id_number_cipher", "name", "gender", "birth_date", "ethnicity",
                     "village_code", "group_name", "household_number", "address", "head_name",
                     "relation_to_head", "guardian_name", "guardian_phone")


def hold_rows_of_no_town_child(session: Session, import_id: int, town_code: str) -> int:
    """Move the staged rows whose ID number is none of `town_code`'s children into referrals for
    the city bureau (with the child on file elsewhere, if any); return how many."""
    stage = ", ".join(f"h.{c}" for c in ROSTER_STAGE_COLUMNS)
    return session.execute(text(f"""
        WITH held AS (
            DELETE FROM roster_stage s
            WHERE NOT EXISTS (SELECT 1 FROM children c JOIN villages v ON v.code = c.village_code
                              WHERE c.id_number_lookup = s.lookup AND v.town_code = :town)
            RETURNING {", ".join(ROSTER_STAGE_COLUMNS)}
        )
        INSERT INTO roster_referrals (import_id, {", ".join(_REFERRAL_COLUMNS)}, child_id)
        SELECT :import_id, {stage},
               (SELECT c.id FROM children c WHERE c.id_number_lookup = h.lookup
                ORDER BY c.created_at, c.id LIMIT 1)
        FROM held h
    """), {"import_id": import_id, "town": town_code}).rowcount  # noqa: S608 - this module's column lists only


def stage_referral(session: Session, referral) -> None:
    """Stage one held row as the roster's merge expects it (the bureau's decision to take it)."""
    stage_roster(session, [(referral.line, referral.id_number_lookup, referral.id_number_cipher, referral.name,
                            referral.gender, referral.birth_date, referral.ethnicity, referral.village_code,
                            referral.group_name, referral.household_number, referral.address, referral.head_name,
                            referral.relation_to_head, referral.guardian_name, referral.guardian_phone)])


def referrals_page(session: Session, status: str | None, offset: int, limit: int):
    from server.imports.models import RosterReferral

    query = select(RosterReferral, Child.village_code).outerjoin(Child, Child.id == RosterReferral.child_id)
    if status:
        query = query.where(RosterReferral.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(RosterReferral.id).offset(offset).limit(limit)).all()
    return total, rows


def referral_for_update(session: Session, referral_id: int):
    from server.imports.models import RosterReferral

    return session.scalar(select(RosterReferral).where(RosterReferral.id == referral_id).with_for_update())


def match_roster_children(session: Session, town_code: str | None = None) -> int:
    """Find each staged row's child by the ID number's keyed hash; return how many matched.

    A town's roster matches only its own children: a number on file in another town never
    moves that child (hold_rows_of_no_town_child took those rows out before)."""
    return session.execute(text("""
        UPDATE roster_stage s SET child_id = c.id
        FROM (
            SELECT DISTINCT ON (c.id_number_lookup) c.id, c.id_number_lookup
            FROM children c JOIN roster_stage r ON r.lookup = c.id_number_lookup
            WHERE CAST(:town AS varchar) IS NULL
               OR c.village_code IN (SELECT code FROM villages WHERE town_code = :town)
            ORDER BY c.id_number_lookup, c.created_at, c.id
        ) c
        WHERE c.id_number_lookup = s.lookup
    """), {"town": town_code}).rowcount


_CHILD_FIELDS = [
    ("name", "c.name", "s.name"), ("gender", "c.gender", "s.gender"),
    ("birth_date", "c.birth_date", "s.birth_date"), ("ethnicity", "c.ethnicity", "s.ethnicity"),
    ("relation_to_head", "c.relation_to_head", "s.relation_to_head"),
    ("guardian_name", "c.guardian_name", "s.guardian_name"),
    ("guardian_phone", "c.guardian_phone", "s.guardian_phone"),
    ("household_id", "c.household_id", "s.household_id"), ("village_code", "c.village_code", "s.village_code"),
]


def merge_children(session: Session, import_id: int, rebind) -> dict:
    """Update changed children (version + 1, history) and insert the new ones, each with its
    staged ciphertext passed through `rebind(cipher, child_id)` (bound to the new row)."""
    updated = session.execute(text(f"""
        WITH changed AS (
            SELECT c.id, {_diff(_CHILD_FIELDS)} AS diff
            FROM children c JOIN roster_stage s ON s.child_id = c.id
            WHERE {_differs(_CHILD_FIELDS)}
        ),
        real AS (SELECT * FROM changed WHERE diff <> '{{}}'::jsonb),
        history AS (
            INSERT INTO record_changes (record_type, record_id, import_id, kind, changes)
            SELECT 'child', id, :import_id, 'updated', diff FROM real
        )
        UPDATE children c SET
            name = s.name, gender = s.gender, birth_date = s.birth_date,
            ethnicity = coalesce(s.ethnicity, c.ethnicity),
            relation_to_head = coalesce(s.relation_to_head, c.relation_to_head),
            guardian_name = coalesce(s.guardian_name, c.guardian_name),
            guardian_phone = coalesce(s.guardian_phone, c.guardian_phone),
            household_id = s.household_id, village_code = s.village_code,
            version = c.version + 1, updated_at = clock_timestamp()
        FROM real r JOIN roster_stage s ON s.child_id = r.id
        WHERE c.id = r.id
    """), {"import_id": import_id}).rowcount  # noqa: S608 - only this module's column lists are interpolated
    new = session.execute(text("UPDATE roster_stage SET child_id = gen_random_uuid(), is_new = true"
                               " WHERE child_id IS NULL RETURNING line, child_id, cipher")).all()
    if new:
        session.execute(text("UPDATE roster_stage s SET cipher = n.cipher"
                             " FROM unnest(CAST(:lines AS integer[]), CAST(:ciphers AS bytea[])) AS n(line, cipher)"
                             " WHERE s.line = n.line"),
                        {"lines": [r[0] for r in new], "ciphers": [rebind(r[2], r[1]) for r in new]})
    created = session.execute(text("""
        INSERT INTO children (id, household_id, village_code, name, gender, id_number_cipher,
                              id_number_lookup, birth_date, ethnicity, relation_to_head, guardian_name,
                              guardian_phone)
        SELECT child_id, household_id, village_code, name, gender, cipher, lookup, birth_date, ethnicity,
               relation_to_head, guardian_name, guardian_phone
        FROM roster_stage WHERE is_new
    """)).rowcount
    return {"children_created": created, "children_updated": updated}


def mark_roster_presence(session: Session, import_id: int, town_codes: list[str]) -> dict:
    """Record who this roster lists; flag (never delete) children of its towns it no longer lists."""
    back = session.execute(text("""
        INSERT INTO record_changes (record_type, record_id, import_id, kind, changes)
        SELECT 'child', r.child_id, :import_id, 'back_in_roster',
               jsonb_build_object('missing_since_import_id', jsonb_build_array(r.missing_since_import_id, null))
        FROM roster_entries r JOIN roster_stage s ON s.child_id = r.child_id
        WHERE r.missing_since_import_id IS NOT NULL
    """), {"import_id": import_id}).rowcount
    session.execute(text("""
        INSERT INTO roster_entries (child_id, first_import_id, last_import_id, last_line)
        SELECT child_id, :import_id, :import_id, line FROM roster_stage
        ON CONFLICT (child_id) DO UPDATE SET last_import_id = excluded.last_import_id,
            last_line = excluded.last_line, missing_since_import_id = NULL
    """), {"import_id": import_id})
    missing = session.execute(text("""
        WITH gone AS (
            UPDATE roster_entries r SET missing_since_import_id = :import_id
            FROM children c JOIN villages v ON v.code = c.village_code
            WHERE r.child_id = c.id AND r.last_import_id <> :import_id
              AND r.missing_since_import_id IS NULL AND v.town_code = ANY(:towns)
            RETURNING r.child_id, r.last_import_id
        )
        INSERT INTO record_changes (record_type, record_id, import_id, kind, changes)
        SELECT 'child', child_id, :import_id, 'missing_from_roster',
               jsonb_build_object('last_listed_in_import_id', last_import_id)
        FROM gone
    """).bindparams(bindparam("towns", type_=ARRAY(String))),
        {"import_id": import_id, "towns": town_codes}).rowcount
    return {"children_missing": missing, "children_back": back}


def drop_roster_stage(session: Session) -> None:
    session.execute(text("DROP TABLE IF EXISTS roster_stage"))
    session.execute(text("DROP TABLE IF EXISTS roster_households"))


# --- register -----------------------------------------------------------------------------------

REGISTER_COLUMNS = ("import_id", "line", "id_number_lookup", "id_number_cipher", "name", "gender",
                    "student_number", "school_code", "school_name", "grade", "class_name", "status")


def store_register(session: Session, rows) -> None:
    copy_rows(session, "register_students", REGISTER_COLUMNS, rows)


def resolve_register_schools(session: Session, import_id: int) -> int:
    """Link register rows to our schools by 学校标识码, else by exact name."""
    by_code = session.execute(text("""
        UPDATE register_students rs SET school_id = s.id, school_name = coalesce(rs.school_name, s.name)
        FROM schools s WHERE rs.import_id = :i AND rs.school_code = s.code
    """), {"i": import_id}).rowcount
    by_name = session.execute(text("""
        UPDATE register_students rs SET school_id = s.id, school_code = s.code
        FROM schools s WHERE rs.import_id = :i AND rs.school_id IS NULL AND rs.school_code IS NULL
          AND rs.school_name = s.name
    """), {"i": import_id}).rowcount
    return by_code + by_name


def latest_register(session: Session, *, including: int | None = None) -> int | None:
    """The newest register import that is done (or the one being processed)."""
    query = select(Import.id).where(Import.kind == "register")
    query = query.where((Import.status == "done") | (Import.id == including)) if including else \
        query.where(Import.status == "done")
    return session.scalar(query.order_by(Import.as_of.desc(), Import.id.desc()).limit(1))


def previous_register(session: Session, imp: Import) -> Import | None:
    return session.scalar(
        select(Import).where(Import.kind == "register", Import.status == "done", Import.id != imp.id,
                             Import.as_of <= imp.as_of)
        .order_by(Import.as_of.desc(), Import.id.desc()).limit(1)
    )


def register_row_count(session: Session, import_id: int) -> dict:
    row = session.execute(
        select(func.count(), func.count(RegisterStudent.child_id), func.count(RegisterStudent.school_id))
        .where(RegisterStudent.import_id == import_id)
    ).one()
    return {"students": row[0], "in_roster": row[1], "known_school": row[2]}


# --- cross-match --------------------------------------------------------------------------------

_MATCH_FIELDS = [
    ("enrollment_status", "c.enrollment_status", "t.status"), ("school_id", "c.school_id", "t.school_id"),
    ("school_name", "c.school_name", "t.school_name"), ("grade", "c.grade", "t.grade"),
    ("class_name", "c.class_name", "t.class_name"),
]


_OF_TOWN = "(CAST(:town AS varchar) IS NULL OR c.village_code IN (SELECT code FROM villages WHERE town_code = :town))"


def cross_match(session: Session, register_import_id: int | None, import_id: int,
                born_from: dt.date, born_to: dt.date, town_code: str | None = None,
                only_listed: bool = False) -> dict:
    """Give each child whose status is still a starting status the one the registers imply.

    In a register and attending -> enrolled_unconfirmed; 休学 -> suspended; 转出 ->
    transferred_out; in no register -> suspected_out_of_school; born outside the school-age
    range -> not_school_age. Statuses decided in the field are never overwritten. A town's
    import matches its own children only (`town_code`): it speaks for no other town. A file of
    corrections (`only_listed`) speaks only for the children it lists (roster_entries names them
    with its import id): it moves no other child's status.
    """
    linked = 0
    if register_import_id is not None:
        linked = session.execute(text(f"""
            UPDATE register_students rs SET child_id = c.id FROM children c
            WHERE rs.import_id = :reg AND c.id_number_lookup = rs.id_number_lookup
              AND rs.child_id IS DISTINCT FROM c.id AND {_OF_TOWN}
        """), {"reg": register_import_id, "town": town_code}).rowcount  # noqa: S608 - a constant
    # The registers are the source of the school fields: none listing the child clears them.
    diff = _diff(_MATCH_FIELDS, blank_clears=True)
    changed = session.execute(text(f"""
        WITH best AS (
            SELECT DISTINCT ON (rs.child_id) rs.child_id, rs.status, rs.school_id, rs.school_name,
                   rs.grade, rs.class_name
            FROM register_students rs
            WHERE rs.import_id = :reg AND rs.child_id IS NOT NULL
            ORDER BY rs.child_id,
                     array_position(ARRAY['attending', 'suspended', 'transferred_out', 'graduated',
                                          'dropped_out', 'deceased']::varchar[], rs.status),
                     rs.line
        ),
        t AS (
            SELECT c.id,
                   CASE WHEN c.birth_date NOT BETWEEN :born_from AND :born_to THEN 'not_school_age'
                        WHEN b.status = 'attending' THEN 'enrolled_unconfirmed'
                        WHEN b.status = 'suspended' THEN 'suspended'
                        WHEN b.status = 'transferred_out' THEN 'transferred_out'
                        ELSE 'suspected_out_of_school' END AS status,
                   b.school_id, b.school_name, b.grade, b.class_name
            FROM children c LEFT JOIN best b ON b.child_id = c.id
            WHERE c.enrollment_status = ANY(:starting) AND {_OF_TOWN}
              AND (NOT :only_listed OR c.id IN (SELECT child_id FROM roster_entries WHERE last_import_id = :import_id))
        ),
        changed AS (
            SELECT t.*, {diff} AS diff FROM t JOIN children c ON c.id = t.id
            WHERE {_differs(_MATCH_FIELDS, blank_clears=True)}
        ),
        real AS (SELECT * FROM changed WHERE diff <> '{{}}'::jsonb),
        history AS (
            INSERT INTO record_changes (record_type, record_id, import_id, kind, changes)
            SELECT 'child', id, :import_id, 'status_from_register', diff FROM real
        )
        UPDATE children c SET enrollment_status = r.status, school_id = r.school_id,
            school_name = r.school_name, grade = r.grade, class_name = r.class_name,
            version = c.version + 1, updated_at = clock_timestamp()
        FROM real r WHERE c.id = r.id
    """).bindparams(bindparam("starting", type_=ARRAY(String))), {  # noqa: S608 - only this module's column lists are interpolated
        "reg": register_import_id or -1, "born_from": born_from, "born_to": born_to,
        "import_id": import_id, "starting": list(STARTING_STATUSES), "town": town_code,
        "only_listed": only_listed,
    }).rowcount
    return {"register_rows_linked": linked, "statuses_changed": changed}


def compare_registers(session: Session, current: Import, previous: Import, school_year_started: bool) -> dict:
    """学籍动态监控: students attending in the previous register who are in none now.

    A grade-6 student after the new school year has started who is in no register is a
    小升初 not handed over; one whose school now says 转出 was not received anywhere; anyone
    else simply left. Grade-9 leavers have finished compulsory education; a grade-6 graduate
    before 1 September has not missed anything yet; 死亡 is not a dropout.
    """
    session.execute(text("""
        INSERT INTO suspected_dropouts (kind, register_import_id, previous_import_id, detected_on,
            id_number_lookup, id_number_cipher, child_id, village_code, name, gender, student_number,
            school_id, school_name, grade, evidence)
        SELECT CASE WHEN p.grade = 6 AND :started THEN 'not_handed_over'
                    WHEN coalesce(n.transferred, false) THEN 'transferred_out_not_received'
                    ELSE 'left_register' END,
               :cur, :prev, :as_of, p.id_number_lookup, p.id_number_cipher, c.id, c.village_code,
               p.name, p.gender, p.student_number, p.school_id, p.school_name, p.grade,
               jsonb_build_object(
                   'previous_import_id', CAST(:prev AS integer),
                   'previous_as_of', CAST(:prev_as_of AS text),
                   'register_import_id', CAST(:cur AS integer), 'register_as_of', CAST(:as_of AS date),
                   'previous_school_code', p.school_code, 'previous_school_name', p.school_name,
                   'previous_grade', p.grade, 'previous_class', p.class_name,
                   'previous_status', p.status,
                   'now_statuses', coalesce(to_jsonb(n.statuses), '[]'::jsonb),
                   'now_school_name', n.school_name,
                   'school_year_started', CAST(:started AS boolean))
        FROM (
            SELECT DISTINCT ON (id_number_lookup) *
            FROM register_students
            WHERE import_id = :prev AND grade <= 9
              AND (status IN ('attending', 'suspended') OR (status = 'graduated' AND grade = 6))
            ORDER BY id_number_lookup, (status <> 'attending'), line
        ) p
        LEFT JOIN (
            SELECT id_number_lookup,
                   bool_or(status IN ('attending', 'suspended')) AS present,
                   bool_or(status = 'transferred_out') AS transferred,
                   bool_or(status = 'graduated') AS graduated,
                   bool_or(status = 'deceased') AS deceased,
                   array_agg(DISTINCT status) AS statuses,
                   (array_agg(school_name ORDER BY line))[1] AS school_name
            FROM register_students WHERE import_id = :cur GROUP BY id_number_lookup
        ) n ON n.id_number_lookup = p.id_number_lookup
        LEFT JOIN LATERAL (
            SELECT id, village_code FROM children WHERE id_number_lookup = p.id_number_lookup
            ORDER BY created_at, id LIMIT 1
        ) c ON true
        WHERE NOT coalesce(n.present, false)
          AND NOT coalesce(n.deceased, false)
          AND NOT (p.grade = 9 AND (:started OR coalesce(n.graduated, false)))
          AND NOT (p.grade = 6 AND NOT :started AND (p.status = 'graduated' OR coalesce(n.graduated, false)))
        ON CONFLICT (register_import_id, id_number_lookup, kind) DO NOTHING
    """), {"cur": current.id, "prev": previous.id, "as_of": current.as_of, "prev_as_of": previous.as_of.isoformat(),
           "started": school_year_started})
    counts = dict(session.execute(
        select(SuspectedDropout.kind, func.count()).where(SuspectedDropout.register_import_id == current.id)
        .group_by(SuspectedDropout.kind)
    ).all())
    return counts


# --- what people read ---------------------------------------------------------------------------

def status_counts(session: Session, scope: Scope, town_code: str | None = None):
    """(town code, town name, village code, village name, status, children) within scope."""
    query = (
        select(Town.code, Town.name, Village.code, Village.name, Child.enrollment_status, func.count())
        .select_from(Child).join(Village, Village.code == Child.village_code).join(Town)
        .where(scope.children(Child))
        .group_by(Town.code, Town.name, Village.code, Village.name, Child.enrollment_status)
        .order_by(Village.code)
    )
    if town_code:
        query = query.where(Village.town_code == town_code)
    return session.execute(query).all()


def missing_counts(session: Session, scope: Scope, town_code: str | None = None) -> dict[str, int]:
    query = (
        select(Child.village_code, func.count()).select_from(RosterEntry)
        .join(Child, Child.id == RosterEntry.child_id).join(Village, Village.code == Child.village_code)
        .where(RosterEntry.missing_since_import_id.is_not(None), scope.children(Child))
        .group_by(Child.village_code)
    )
    if town_code:
        query = query.where(Village.town_code == town_code)
    return dict(session.execute(query).all())


def _school_in_scope(scope: Scope, school_id_column):
    if scope.everywhere:
        return True
    towns_in_scope = select(Village.town_code).where(scope.villages(Village.code))
    return school_id_column.in_(select(School.id).where(School.town_code.in_(towns_in_scope)))


def unmatched_register_page(session: Session, scope: Scope, register_import_id: int, offset: int, limit: int):
    """Register students of that import who are in no roster: the city sees all, a town its schools'."""
    query = select(RegisterStudent).where(RegisterStudent.import_id == register_import_id,
                                          RegisterStudent.child_id.is_(None))
    if not scope.everywhere:
        query = query.where(_school_in_scope(scope, RegisterStudent.school_id))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(RegisterStudent.school_code, RegisterStudent.grade,
                                          RegisterStudent.line).offset(offset).limit(limit)).all()
    return total, rows


def suspected_dropouts_page(session: Session, scope: Scope, *, kind=None, register_import_id=None,
                            detected_from=None, detected_to=None, offset: int, limit: int):
    query = select(SuspectedDropout)
    if not scope.everywhere:
        # Out-of-roster students have no village: a town sees them through its schools.
        query = query.where(scope.villages(SuspectedDropout.village_code)
                            | (SuspectedDropout.village_code.is_(None)
                               & _school_in_scope(scope, SuspectedDropout.school_id)))
    query = query.where(scope.schools(SuspectedDropout.school_id))
    if kind:
        query = query.where(SuspectedDropout.kind == kind)
    if register_import_id:
        query = query.where(SuspectedDropout.register_import_id == register_import_id)
    if detected_from:
        query = query.where(SuspectedDropout.detected_on >= detected_from)
    if detected_to:
        query = query.where(SuspectedDropout.detected_on <= detected_to)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(SuspectedDropout.detected_on.desc(), SuspectedDropout.id)
                           .offset(offset).limit(limit)).all()
    return total, rows


def missing_from_roster_page(session: Session, scope: Scope, offset: int, limit: int):
    query = (
        select(Child, RosterEntry).join(RosterEntry, RosterEntry.child_id == Child.id)
        .where(RosterEntry.missing_since_import_id.is_not(None), scope.children(Child))
    )
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Child.village_code, Child.name, Child.id)
                           .offset(offset).limit(limit)).all()
    return total, rows


def child_in_scope(session: Session, scope: Scope, child_id: uuid.UUID) -> Child | None:
    return session.scalar(select(Child).where(Child.id == child_id, scope.children(Child)))


def history_of(session: Session, record_type: str, record_id: uuid.UUID):
    return list(session.scalars(
        select(RecordChange).where(RecordChange.record_type == record_type, RecordChange.record_id == record_id)
        .order_by(RecordChange.id)
    ))


def roster_entry(session: Session, child_id: uuid.UUID) -> RosterEntry | None:
    return session.get(RosterEntry, child_id)


def household_of(session: Session, household_id: uuid.UUID) -> Household | None:
    return session.get(Household, household_id)
