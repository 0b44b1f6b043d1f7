"""A pooled connection that sat idle is pinged before a request gets it (a busy one is not:
pool_pre_ping cost every request a round trip); one lost while idle is replaced unseen."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from server import db
from tests.conftest import PG_ADMIN_DSN


def _kill(pid: int) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _pid(database: db.Database) -> int:
    with database.engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_lost_while_idle_is_replaced_before_use(db_url, monkeypatch):
    database = db.Database(db_url, pool_size=1, max_overflow=0)
    try:
        lost = _pid(database)
        _kill(lost)
        monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # it has sat idle long enough
        assert _pid(database) != lost  # a new connection, and no error for its user
    finally:
        database.engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged_and_a_loss_is_a_connection_lost(db_url, monkeypatch):
    database = db.Database(db_url, pool_size=1, max_overflow=0)
    try:
        monkeypatch.setattr(db, "IDLE_BEFORE_PING", 3600.0)
        lost = _pid(database)
        _kill(lost)
        with pytest.raises(OperationalError) as failure:
            _pid(database)
        assert db.connection_lost(failure.value)  # a 503 for that request
        assert _pid(database) != lost  # and the next one connects afresh
    finally:
        database.engine.dispose()
