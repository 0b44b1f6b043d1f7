"""Every query of the sync layer. Rows of synced records are read as to_jsonb(t), the same form
record_versions keeps, so current and earlier versions convert with the same code."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server import db
from server.forms import queries as forms_queries
from server.records import registry
from server.sync import records
from server.sync.models import ChangeLogEntry, Conflict, FieldStates, ScopeHash, Tombstone

TABLES = registry.TABLES


def head_seq(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(ChangeLogEntry.seq), 0)))


def change_page(session: Session, positions: dict[str, int], limit: int):
    """The first `limit` changes after each village's position, in seq order.

    One index range scan per village (ix_change_log_village_seq), merged by seq.
    """
    if not positions:
        return []
    parts, params = [], {"limit": limit}
    for i, (village, after) in enumerate(sorted(positions.items())):
        parts.append(
            f"(SELECT record_type, record_id, village_code, seq, op, merged_into FROM change_log"  # noqa: S608 - values are bound
            f" WHERE village_code = :v{i} AND seq > :s{i} ORDER BY seq LIMIT :limit)"
        )
        params[f"v{i}"], params[f"s{i}"] = village, after
    sql = "SELECT * FROM (" + " UNION ALL ".join(parts) + ") AS page ORDER BY seq LIMIT :limit"  # noqa: S608
    return session.execute(text(sql), params).all()


def exit_page(session: Session, village: str, after: int, limit: int):
    """Records of a village that left a device's scope, a page at a time, by seq."""
    return session.execute(
        select(ChangeLogEntry.record_type, ChangeLogEntry.record_id, ChangeLogEntry.seq)
        .where(ChangeLogEntry.village_code == village, ChangeLogEntry.seq > after,
               ChangeLogEntry.op.in_(("upsert", "exit")))
        .order_by(ChangeLogEntry.seq).limit(limit)
    ).all()


def present_in(session: Session, keys: list[tuple[str, uuid.UUID]], villages: list[str]) -> set[tuple[str, uuid.UUID]]:
    """Which of these records currently stand in one of these villages."""
    if not keys or not villages:
        return set()
    rows = session.execute(
        select(ChangeLogEntry.record_type, ChangeLogEntry.record_id)
        .where(ChangeLogEntry.record_id.in_([k[1] for k in keys]), ChangeLogEntry.op == "upsert",
               ChangeLogEntry.village_code.in_(villages))
    ).all()
    return {(r[0], r[1]) for r in rows}


def rows_of(session: Session, record_type: str, ids, for_update: bool = False) -> dict[uuid.UUID, dict]:
    """Current rows as JSON, by id. FOR UPDATE locks them in id order (no deadlocks)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    table = TABLES[record_type]
    sql = f"SELECT id, to_jsonb(t) FROM {table} t WHERE id = ANY(:ids) ORDER BY id"  # noqa: S608 - table from TABLES
    if for_update:
        sql += " FOR UPDATE"
    return {r[0]: r[1] for r in session.execute(text(sql), {"ids": ids})}


def lock_records(session: Session, wanted: dict[str, set], refs: dict[str, set],
                 submission_ids: list[uuid.UUID] | None = None) -> list[tuple[str, str, uuid.UUID, object]]:
    """A push's records in one round trip, as (part, type, id, value) rows:
    - "tombstone": the records of `wanted` and `refs` the server deleted (value: merged_into);
    - "locked": the `wanted` records, and the survivors of merged ones, locked FOR UPDATE, one
      type after another, parents first (households, children, visits, tasks), each in id
      order (no deadlocks between pushes). Parents first, as a tablet's batch lists them: a
      record created while this statement waited for a lock is not in its snapshot, and is
      locked later, alone (prefetch.current). Children first, one of four copies of a
      household-and-new-child batch locked the child (created meanwhile by the first copy)
      and waited for the household held by another copy, which was locking that child: a
      deadlock (tests/sync_e2e, the same submission on four connections);
    - "ref": the `refs` records (the survivors of merged ones too, unless of a wanted type) that
      are not locked already, read without a lock;
    - with `submission_ids`: "stored" for each of them already stored (type: its content
      hash, value: its receipt), and one "forms" row (type: the form catalogue's digest), so a
      push asks for what it has stored and what it locks in one round trip (they were two: a
      one-submission push spent 7% of its time on the first).
    Values are to_jsonb rows. A survivor is followed one step here, as the separate queries did."""
    if not set(wanted) | set(refs) <= set(TABLES):
        raise ValueError(f"not a synced record type: {sorted(set(wanted) | set(refs) - set(TABLES))}")
    params: dict[str, list] = {"k_types": [], "k_ids": []}
    for group in (wanted, refs):
        for record_type, ids in group.items():
            params["k_types"] += [record_type] * len(ids)
            params["k_ids"] += list(ids)
    ctes = ["tomb AS MATERIALIZED (SELECT t.record_type, t.record_id, t.merged_into FROM tombstones t"
            " JOIN unnest(CAST(%(k_types)s AS text[]), CAST(%(k_ids)s AS uuid[])) AS k(record_type, record_id)"
            " ON t.record_type = k.record_type AND t.record_id = k.record_id)"]
    parts = ["SELECT 'tombstone' AS part, record_type::text, record_id, to_jsonb(merged_into) FROM tomb"]

    def ids_of(name: str, record_type: str, survivors: bool) -> str:
        # = ANY(ARRAY(...)): an index scan; `id = ANY(:a) OR id IN (subquery)` read the whole table.
        union = (f" UNION SELECT merged_into FROM tomb WHERE record_type = '{record_type}'"  # noqa: S608 - a TABLES key
                 " AND merged_into IS NOT NULL") if survivors else ""
        return f"t.id = ANY(ARRAY(SELECT unnest(CAST(%({name})s AS uuid[])){union}))"

    for record_type in [t for t in TABLES if t in wanted]:
        name = f"w_{record_type}"
        params[name] = sorted(wanted[record_type])
        ctes.append(f"{name} AS (SELECT t.id, to_jsonb(t) AS j FROM {TABLES[record_type]} t"  # noqa: S608 - TABLES
                    f" WHERE {ids_of(name, record_type, True)} ORDER BY t.id FOR UPDATE)")
        parts.append(f"SELECT 'locked', '{record_type}', id, j FROM {name}")  # noqa: S608 - constants
    for record_type in [t for t in TABLES if t in refs]:
        name = f"r_{record_type}"
        params[name] = sorted(refs[record_type])
        where = ids_of(name, record_type, record_type not in wanted)
        if record_type in wanted:
            where += f" AND t.id <> ALL(ARRAY(SELECT id FROM w_{record_type}))"  # noqa: S608 - a TABLES key
        ctes.append(f"{name} AS (SELECT t.id, to_jsonb(t) AS j FROM {TABLES[record_type]} t WHERE {where})")  # noqa: S608
        parts.append(f"SELECT 'ref', '{record_type}', id, j FROM {name}")  # noqa: S608 - constants
    if submission_ids is not None:
        params["s_ids"] = list(submission_ids)
        parts.append("SELECT 'stored', content_sha256, submission_id, receipt FROM submissions"
                     " WHERE submission_id = ANY(CAST(%(s_ids)s AS uuid[]))")
        parts.append(f"SELECT 'forms', ({forms_queries.FINGERPRINT_SQL}), NULL, NULL")  # noqa: S608 - constants
    shape = (tuple(ctes), tuple(parts))
    statement = _LOCKS.get(shape)
    if statement is None:
        statement = _LOCKS[shape] = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(parts)
    # psycopg's own execution (db.driver_execute): run by every push, before anything else of it.
    return db.driver_execute(session, statement, params).fetchall()


_LOCKS: dict[tuple, str] = {}  # a few shapes (the record types of a batch), each built once


_CONTEXT = (
    "WITH k AS (SELECT * FROM unnest(CAST(%(k_types)s AS text[]), CAST(%(k_ids)s AS uuid[])) AS k(record_type, record_id))"
    " SELECT 'states', f.record_type::text, f.record_id, NULL::int, f.states FROM field_states f"
    " JOIN k ON f.record_type = k.record_type AND f.record_id = k.record_id"
    " UNION ALL SELECT 'conflict', c.record_type, c.record_id, NULL, jsonb_build_object("
    "'id', c.id, 'field', c.field, 'values', c.values, 'village_code', c.village_code) FROM conflicts c"
    " JOIN k ON c.record_type = k.record_type AND c.record_id = k.record_id WHERE c.status = 'open'"
    " UNION ALL SELECT 'base', v.record_type, v.record_id, v.version, v.row FROM record_versions v"
    " JOIN unnest(CAST(%(b_types)s AS text[]), CAST(%(b_ids)s AS uuid[]), CAST(%(b_versions)s AS int[]))"
    " AS b(record_type, record_id, version)"
    " ON v.record_type = b.record_type AND v.record_id = b.record_id AND v.version = b.version")


def record_context(session: Session, keys: list[tuple[str, uuid.UUID]], bases: list[tuple[str, uuid.UUID, int]]):
    """What a push merges against, for records it has locked, in one round trip (a statement
    after the lock's: its snapshot sees what the holder of a lock we waited for committed):
    (field states by key, open conflicts, rows of the base versions by (type, id, version))."""
    if not keys and not bases:
        return {}, [], {}
    rows = db.driver_execute(
        session, _CONTEXT,
        {"k_types": [k[0] for k in keys], "k_ids": [k[1] for k in keys],
         "b_types": [b[0] for b in bases], "b_ids": [b[1] for b in bases], "b_versions": [b[2] for b in bases]})
    states, conflicts, base_rows = {}, [], {}
    for part, record_type, record_id, version, value in rows:
        if part == "states":
            states[(record_type, record_id)] = value
        elif part == "conflict":
            conflicts.append({**value, "id": uuid.UUID(value["id"]), "record_type": record_type,
                              "record_id": record_id})
        else:
            base_rows[(record_type, record_id, version)] = value
    return states, conflicts, base_rows


def version_rows(session: Session, wanted: list[tuple[str, uuid.UUID, int]]) -> dict[tuple[str, uuid.UUID, int], dict]:
    if not wanted:
        return {}
    rows = session.execute(
        text("SELECT v.record_type, v.record_id, v.version, v.row FROM record_versions v"
             " JOIN unnest(CAST(:types AS text[]), CAST(:ids AS uuid[]), CAST(:versions AS int[]))"
             " AS w(record_type, record_id, version) USING (record_type, record_id, version)"),
        {"types": [w[0] for w in wanted], "ids": [w[1] for w in wanted], "versions": [w[2] for w in wanted]},
    )
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def field_states(session: Session, keys: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], dict]:
    if not keys:
        return {}
    # By (type, id), the primary key: by id alone PostgreSQL read the whole table on every push,
    # a table that grows with every record a tablet ever wrote (bench/load.py found it).
    rows = session.execute(
        select(FieldStates.record_type, FieldStates.record_id, FieldStates.states)
        .where(tuple_(FieldStates.record_type, FieldStates.record_id).in_(keys))
    ).all()
    return {(r[0], r[1]): r[2] for r in rows}


def save_field_states(session: Session, record_type: str, record_id: uuid.UUID, states: dict) -> None:
    statement = insert(FieldStates).values(record_type=record_type, record_id=record_id, states=states)
    session.execute(statement.on_conflict_do_update(
        index_elements=[FieldStates.record_type, FieldStates.record_id], set_={"states": statement.excluded.states}))


# The form catalogue's digest rides along (a row of its own): a push needs both first.
_STORED = text("SELECT submission_id, content_sha256, receipt FROM submissions WHERE submission_id = ANY(:ids)"  # noqa: S608
               f" UNION ALL SELECT NULL, ({forms_queries.FINGERPRINT_SQL}), NULL")  # constants only


def submissions_by_id(session: Session, ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, object], str]:
    """The stored submissions among these ids, as rows of (submission_id, content_sha256,
    receipt), and the digest of the form catalogue (forms.queries.catalog_fingerprint)."""
    stored, fingerprint = {}, None
    for row in session.execute(_STORED, {"ids": list(ids)}):
        if row.submission_id is None:
            fingerprint = row.content_sha256
        else:
            stored[row.submission_id] = row
    return stored, fingerprint


def kept_village_hashes(session: Session, villages: list[str]) -> dict[str, tuple[int, int]]:
    """Each village's hash as the database keeps it (scope_hashes, moved at commit by every
    change), as two unsigned 64-bit halves; (0, 0) for a village with no records. One index
    lookup a village, in the request's snapshot: the same records its pull reads."""
    mask = (1 << 64) - 1
    out = {v: (0, 0) for v in villages}
    if villages:
        for village, a, b in session.execute(
                select(ScopeHash.village_code, ScopeHash.h1, ScopeHash.h2).where(ScopeHash.village_code.in_(villages))):
            out[village] = (a & mask, b & mask)
    return out


_RECORD_KEYS = " UNION ALL ".join(
    f"SELECT village_code, '{rtype}:' || id || ':' || version AS k FROM {table} WHERE village_code = ANY(:villages)"  # noqa: S608
    for rtype, table in TABLES.items())  # table names and types are constants (TABLES)
_VILLAGE_HASHES = text(
    "SELECT village_code, bit_xor(('x' || substr(h, 1, 16))::bit(64)::bigint),"  # noqa: S608 - constants
    " bit_xor(('x' || substr(h, 17, 16))::bit(64)::bigint) FROM (SELECT village_code,"
    f" encode(sha256(convert_to(k, 'UTF8')), 'hex') AS h FROM ({_RECORD_KEYS}) r) s GROUP BY village_code")


def village_hashes(session: Session, villages: list[str]) -> dict[str, tuple[int, int]]:
    """The contract's scope hash of each village, as its two 64-bit halves (unsigned), computed
    from its records (what scope_hashes must hold: tests check it after every kind of change)
    by PostgreSQL (sha256 and XOR in C, no rows sent): the first 16 bytes of
    sha256("<type>:<id>:<version>") of every record of the village, XORed. A village with no
    records is (0, 0). XOR is associative and a record is in one village, so a scope's hash is
    its villages' hashes XORed (combine_hashes). sync.scope_hash is the reference; tests check
    they agree."""
    mask = (1 << 64) - 1
    out = {v: (0, 0) for v in villages}
    if villages:
        for village, a, b in session.execute(_VILLAGE_HASHES, {"villages": villages}):
            out[village] = ((a or 0) & mask, (b or 0) & mask)
    return out


def combine_hashes(halves) -> str:
    """Villages' hashes (two halves each) XORed into the contract's hex scope hash."""
    a = b = 0
    for x, y in halves:
        a ^= x
        b ^= y
    return f"{a:016x}{b:016x}"


def tombstones(session: Session, keys: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], Tombstone]:
    if not keys:
        return {}
    rows = session.scalars(select(Tombstone).where(Tombstone.record_id.in_([k[1] for k in keys])))
    return {(t.record_type, t.record_id): t for t in rows}


def open_conflicts(session: Session, keys: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], list[Conflict]]:
    if not keys:
        return {}
    out: dict[tuple[str, uuid.UUID], list[Conflict]] = {}
    # By (type, id), the index's order: by id alone every push would scan the whole table.
    for c in session.scalars(select(Conflict).where(tuple_(Conflict.record_type, Conflict.record_id).in_(keys),
                                                    Conflict.status == "open")
                       .order_by(Conflict.created_at, Conflict.field, Conflict.id)):
        out.setdefault((c.record_type, c.record_id), []).append(c)
    return out


def scope_versions(session: Session, villages: list[str]) -> list[tuple[str, uuid.UUID, int]]:
    """(type, id, version) of every record in these villages: the scope hash's input."""
    if not villages:
        return []
    sql = " UNION ALL ".join(
        f"SELECT '{rtype}', id, version FROM {table} WHERE village_code = ANY(:villages)"  # noqa: S608 - constants
        for rtype, table in TABLES.items()
    )
    return [(r[0], r[1], r[2]) for r in session.execute(text(sql), {"villages": villages})]


def update_row(session: Session, record_type: str, record_id: uuid.UUID, columns: dict) -> dict:
    table = model(record_type).__table__
    statement = table.update().where(table.c.id == bindparam("_id")).values(**columns)
    return session.execute(statement.returning(text(f"to_jsonb({TABLES[record_type]})")), {"_id": record_id}).scalar_one()


model = registry.model


# The record envelope of the contract, built by PostgreSQL as JSON text: a pull of a big village
# then costs no Python parsing or re-encoding per record. It must say exactly what
# server.sync.records.envelope says from a to_jsonb row (a test compares the two); points go
# through the same geometry-to-GeoJSON cast, so coordinates read alike in both.
# A protected field's conflict values keep their marker only: the ciphertext stays on the server.
_CONFLICTS_JSON = """COALESCE((SELECT json_agg(json_build_object('conflict_id', c.id, 'field', c.field,
    'values', CASE WHEN c.field IN ({protected}) THEN (SELECT jsonb_agg(v - 'cipher' ORDER BY n)
                   FROM jsonb_array_elements(c.values) WITH ORDINALITY AS e(v, n)) ELSE c.values END)
    ORDER BY c.created_at, c.field, c.id) FROM conflicts c
    WHERE c.record_type = '{rtype}' AND c.record_id = t.id AND c.status = 'open'), '[]'::json)"""
# What a tablet is sent: the registry's fields less those server/disclosure.py keeps from tablets.
_FIELDS_JSON = {name: registry.fields_sql(name, omit=records.tablet_absent(name)) for name in registry.RECORD_TYPES}
_EXTRA_JSON = {"household": "'household_id', NULL", "child": "'household_id', t.household_id",
               "visit": "'household_id', t.household_id, 'child_id', t.child_id",
               "task": "'household_id', t.household_id"}


def _protected(record_type: str) -> str:
    return ", ".join(f"'{name}'" for name in registry.get(record_type).protected) or "NULL"


def envelopes(session: Session, record_type: str, ids) -> dict[uuid.UUID, str]:
    """{id: the record envelope as JSON text}, as a tablet receives it (no ID number in any form)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    sql = f"""SELECT t.id, json_build_object('type', '{record_type}', 'id', t.id, 'version', t.version,
                'village_code', t.village_code, {_EXTRA_JSON[record_type]}, 'updated_at', t.updated_at,
                'fields', {_FIELDS_JSON[record_type]},
                'conflicts', {_CONFLICTS_JSON.format(rtype=record_type, protected=_protected(record_type))})::text
              FROM {TABLES[record_type]} t WHERE t.id = ANY(:ids)"""  # noqa: S608 - constants only
    return {r[0]: r[1] for r in session.execute(text(sql), {"ids": ids})}


def villages_with_towns(session: Session, scope):
    """The scope's villages with their towns, for the manifest."""
    from server.places.models import Town, Village

    return session.execute(
        select(Village.code, Village.name, Village.town_code, Town.name).join(Town)
        .where(scope.villages(Village.code)).order_by(Village.code)
    ).all()
