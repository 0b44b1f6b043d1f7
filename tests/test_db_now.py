"""db.now(): the transaction's time, asked of PostgreSQL once per transaction."""

import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from server import db


def test_now_is_read_once_per_transaction_and_anew_after_commit(app):
    # The app's engine itself, not the rolled-back test connection: real transactions that end.
    engine = app.extensions["notoneless.db"].engine
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            first = db.now(session)
            assert db.now(session) == first and len(statements) == 1
            session.commit()
            time.sleep(0.01)
            second = db.now(session)
            assert second > first and len(statements) == 2  # a new transaction, a new time
            db.remember_now(session, second)  # what a query that read now() beside its columns keeps
            assert db.now(session) == second and len(statements) == 2
            session.rollback()
            assert db.now(session) > second and len(statements) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)
