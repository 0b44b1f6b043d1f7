"""One world for the whole matrix, each check in a savepoint of its own.

The world (tests/authz/world.py) takes a few seconds to build and the matrix makes about a
thousand requests, so the world is built once per module inside an outer transaction that is
rolled back at the end, like every other test's data. Each check then runs in a savepoint of
that transaction, rolled back afterwards: a write that one check makes (a merge, a revoked
tablet, a logout) is gone before the next.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from server import jobs
from tests.authz import world as world_module


@pytest.fixture(scope="module")
def world_connection(app, redis_conn):
    engine = app.extensions["notoneless.db"].engine
    conn = engine.connect()
    outer = conn.begin()
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # as tests/conftest.py: no commit-time triggers here
    db = app.extensions["notoneless.db"]
    original = db.sessionmaker
    db.sessionmaker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield conn
    db.sessionmaker = original
    outer.rollback()
    conn.close()
    with app.app_context():  # jobs that the checked requests queued after their (savepoint) commits
        for name in jobs.QUEUES:
            jobs.queue(name).empty()


@pytest.fixture(scope="module")
def world(app, world_connection):
    session = Session(bind=world_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with app.app_context():
        built = world_module.build(session, app.extensions["notoneless.vault"], app.config["ATTACHMENTS_DIR"],
                                   app.config["ATTACHMENT_MAX_BYTES"])
    session.commit()  # releases the session's savepoint: the rows stay in the outer transaction
    session.close()
    return built


@pytest.fixture
def connection(world_connection, world):
    """Overrides tests/conftest.py's: a savepoint of the world's transaction, rolled back after."""
    savepoint = world_connection.begin_nested()
    yield world_connection
    if savepoint.is_active:
        savepoint.rollback()
