"""The push's bulk statements: new records, updates in one shape per type, field states,
conflicts, stored submissions."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, bindparam, case, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.records import registry
from server.sync.models import Conflict, FieldStates, Submission


def insert_records(session: Session, record_type: str, rows: list[dict]) -> int:
    """Insert new records (one shape of columns); return how many were new (not raced)."""
    table = registry.model(record_type).__table__
    return len(session.connection().execute(
        insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id), rows).scalars().all())


_UPDATES: dict[str, tuple] = {}


def update_statement(record_type: str):
    """UPDATE t SET c = CASE WHEN :s_c THEN :v_c ELSE c END ..., version = :v_version.

    Every column a tablet's edit can change (the registry's): one UPDATE shape per type,
    whatever fields an edit touched, so a batch is one executemany per type."""
    if record_type not in _UPDATES:
        table = registry.model(record_type).__table__
        names = registry.get(record_type).writable_columns
        values = {name: case((bindparam(f"s_{name}", type_=Boolean), bindparam(f"v_{name}", type_=table.c[name].type)),
                             else_=table.c[name]) for name in names}
        values["version"] = bindparam("v_version", type_=table.c.version.type)
        statement = update(table).where(table.c.id == bindparam("_id")).values(values)
        _UPDATES[record_type] = (statement, names + ("version",))
    return _UPDATES[record_type]


def update_records(session: Session, record_type: str, pending: list[tuple[uuid.UUID, dict]]) -> None:
    statement, names = update_statement(record_type)
    params = []
    for record_id, columns in pending:
        unknown = set(columns) - set(names)
        if unknown:
            raise ValueError(f"sync cannot write {sorted(unknown)} of a {record_type}")
        param = {"_id": record_id}
        for name in names:
            param[f"s_{name}"] = name in columns
            param[f"v_{name}"] = columns.get(name)
        params.append(param)
    session.connection().execute(statement, params)


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


def save_states_and_submission(session: Session, key: tuple[str, uuid.UUID], states: dict, submission: dict) -> int:
    """One record's field states and one stored submission; return 1 if it was stored (0 when
    raced by a retry)."""
    params = dict(submission, fs_record_type=key[0], fs_record_id=key[1], fs_states=states)
    return len(session.connection().execute(_STATES_THEN_SUBMISSION, params).scalars().all())


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
