"""The push's bulk statements: new records, updates in one shape per type, field states,
conflicts, stored submissions."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server import db
from server.records import registry
from server.sync.models import Conflict, FieldStates, Submission


def insert_records(session: Session, record_type: str, rows: list[dict]) -> int:
    """Insert new records (one shape of columns); return how many were new (not raced)."""
    table = registry.model(record_type).__table__
    return len(session.connection().execute(
        insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id), rows).scalars().all())


_UPDATES: dict[tuple[str, frozenset], object] = {}


def update_statement(record_type: str, columns: frozenset):
    """UPDATE t SET c = :v_c, ..., version = :v_version WHERE id = :_id, for the columns an
    edit touched, built once per (type, columns).

    One shape per set of columns rather than one per type with every writable column behind a
    CASE: that one had two parameters per column (over 50 for a child), so psycopg converted
    its text anew on every execution (it caches statements of at most 50 parameters), the
    largest single cost of a one-submission push's writes. A form touches the same few sets,
    so the shapes stay few."""
    key = (record_type, columns)
    statement = _UPDATES.get(key)
    if statement is None:
        table = registry.model(record_type).__table__
        unknown = columns - set(registry.get(record_type).writable_columns)
        if unknown:
            raise ValueError(f"sync cannot write {sorted(unknown)} of a {record_type}")
        values = {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in sorted(columns)}
        values["version"] = bindparam("v_version", type_=table.c.version.type)
        statement = _UPDATES[key] = update(table).where(table.c.id == bindparam("_id")).values(values)
    return statement


def update_records(session: Session, record_type: str, pending: list[tuple[uuid.UUID, dict]]) -> None:
    """Each record's new column values and version: one executemany per set of columns."""
    shapes: dict[frozenset, list[dict]] = {}
    for record_id, columns in pending:
        names = frozenset(columns) - {"version"}
        param = {f"v_{name}": value for name, value in columns.items()}
        param["_id"] = record_id
        shapes.setdefault(names, []).append(param)
    connection = session.connection()
    for names, params in shapes.items():
        connection.execute(update_statement(record_type, names), params)


def _save_states():
    statement = insert(FieldStates.__table__)
    return statement.on_conflict_do_update(index_elements=["record_type", "record_id"],
                                           set_={"states": statement.excluded.states})


# Core statements, built once: the ORM's bulk path and building each statement per push cost
# more than the database took to run them.
_SAVE_STATES = _save_states()
_INSERT_SUBMISSIONS = (insert(Submission.__table__).on_conflict_do_nothing(index_elements=["submission_id"])
                       .returning(Submission.__table__.c.submission_id))


def _states_then_submission():
    # The one-submission push's two inserts in one round trip: a data-modifying CTE runs
    # whether the statement reads it or not, and the two tables do not depend on each other.
    table = FieldStates.__table__
    states = insert(table).values({c: bindparam(f"fs_{c}", type_=table.c[c].type)
                                   for c in ("record_type", "record_id", "states")})
    states = states.on_conflict_do_update(index_elements=["record_type", "record_id"],
                                          set_={"states": states.excluded.states})
    return _INSERT_SUBMISSIONS.add_cte(states.cte("saved_states"))


_STATES_THEN_SUBMISSION = _states_then_submission()

# Compiled for psycopg once per process (and per edit's columns): run through db.driver_execute.
_DRIVER: dict[tuple, db.DriverStatement] = {}


def _driver_statement(session: Session, key: tuple, build) -> db.DriverStatement:
    statement = _DRIVER.get(key)
    if statement is None:
        statement = _DRIVER[key] = db.DriverStatement(build(), session.connection().dialect)
    return statement


def save_states_and_submission(session: Session, key: tuple[str, uuid.UUID], states: dict, submission: dict,
                               edit: tuple[uuid.UUID, dict] | None = None) -> int:
    """One record's field states and one stored submission, and with `edit` (its id, its new
    columns and version) the record's update too, in one statement; return 1 if the submission
    was stored (0 when raced by a retry).

    One round trip for what a one-submission push writes (ODK Collect's every request): the
    statements do not depend on each other, and each data-modifying CTE runs whether the
    statement reads it or not; the record's triggers (version, history, change log, case) fire
    as for an UPDATE of its own."""
    params = dict(submission, fs_record_type=key[0], fs_record_id=key[1], fs_states=states)
    if edit is None:
        statement = _driver_statement(session, ("states+submission",), lambda: _STATES_THEN_SUBMISSION)
    else:
        record_id, columns = edit
        names = frozenset(columns) - {"version"}
        table = registry.model(key[0]).__table__

        def build():
            edited = update_statement(key[0], names).returning(table.c.id)
            return _STATES_THEN_SUBMISSION.add_cte(edited.cte("edited"))

        statement = _driver_statement(session, ("edit+states+submission", key[0], names), build)
        params.update({f"v_{name}": value for name, value in columns.items()}, _id=record_id)
    return len(statement.execute(session, params).fetchall())


def save_field_states(session: Session, states: dict[tuple[str, uuid.UUID], dict]) -> None:
    session.connection().execute(_SAVE_STATES, [{"record_type": k[0], "record_id": k[1], "states": s}
                                                for k, s in states.items()])


def insert_conflicts(session: Session, conflicts: list[dict]) -> None:
    session.execute(insert(Conflict), conflicts)


def grow_conflict(session: Session, conflict_id: uuid.UUID, values: list) -> None:
    session.execute(update(Conflict).where(Conflict.id == conflict_id).values(values=values))


def insert_submissions(session: Session, submissions: list[dict]) -> int:
    """Store accepted submissions; return how many were stored (not raced by a retry)."""
    return len(session.connection().execute(_INSERT_SUBMISSIONS, submissions).scalars().all())
