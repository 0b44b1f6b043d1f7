"""The database engine, the declarative base and the per-request session.

One transaction per request: the session is opened lazily, committed by the HTTP edge
(`server.http`) after the view returned a success, rolled back otherwise.
"""

from __future__ import annotations

import datetime as dt
import time

import psycopg
from flask import current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, func, select
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

# The largest PostgreSQL `integer`: the ids are of that type, and an id, page or count a client
# sends is bounded by it before it reaches a query (a larger one is an error of the database).
INT4_MAX = 2**31 - 1

# Stable constraint names so that Alembic revisions can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SyncedRecord:
    """Columns every record that tablets sync carries: the server's version and its time."""

    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


# Every connection of the app's: PostgreSQL's JIT off. The maps and reports aggregate whole towns,
# so their estimated cost passes jit_above_cost, and the compilation then took longer than the
# query itself (850 ms of a 1.05 s choropleth of the full demo county, 90 ms without); no query of
# the app's runs long enough to win it back. Set once per connection, not per request: a SET
# LOCAL before each map query was a round trip of its own on every tile and choropleth.
SESSION_OPTIONS = "-c jit=off"


class Database:
    """An engine and the session factory bound to it (tests rebind the factory).

    With a `read_url` (a streaming replica), map and report reads get sessions of their own on
    that server: the heavy spatial and aggregate queries leave the primary to the tablets.
    """

    def __init__(self, url: str, read_url: str | None = None, **engine_options):
        self.engine = _ping_when_idle(create_engine(url, connect_args={"options": SESSION_OPTIONS}, **engine_options))
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = None
        self.read_sessionmaker = None
        if read_url:
            # Read only on purpose: a write routed here by mistake fails loudly instead of
            # failing only once the URL points at a real replica.
            self.read_engine = _ping_when_idle(create_engine(
                read_url,
                connect_args={"application_name": "notoneless-read",
                              "options": SESSION_OPTIONS + " -c default_transaction_read_only=on"},
                **engine_options))
            self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)

    def forget_inherited_connections(self) -> None:
        """In a forked child (an RQ work horse): leave the parent's pooled connections to the
        parent and open new ones. A socket both processes use interleaves their protocol
        messages: the parent's outbox sweep then found a connection the job had left in a
        transaction ("can't change 'autocommit' now: ... INTRANS") and the job hung."""
        for engine in (self.engine, self.read_engine):
            if engine is not None:
                engine.dispose(close=False)


# A pooled connection idle this long is pinged before a request gets it. pool_pre_ping pinged on
# every checkout: a round trip on every request (a one-submission push is a dozen). A
# connection in steady use is not pinged; if the database went away meanwhile, the request's
# first statement fails, the request answers 503 (connection_lost) and the pool throws away
# every connection older than the failure, so the next request connects afresh.
IDLE_BEFORE_PING = 10.0  # seconds


def _ping_when_idle(engine: Engine) -> Engine:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise DisconnectionError("a pooled connection was lost while idle") from exc

    return engine


def database() -> Database:
    return current_app.extensions["notoneless.db"]


def session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def connection_lost(exc: BaseException | None) -> bool:
    """Whether `exc`, or an exception that led to it, says the database went away.

    A crash of PostgreSQL mid-request surfaces as OperationalError at first, and later in the
    same request as InterfaceError ("connection closed") or as SQLAlchemy's own errors about
    a transaction that can no longer be rolled back; all of them mean 503, try again.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def read_session() -> Session:
    """A session for the request's map and report reads: on the replica when READ_DATABASE_URL
    is set, else the request's own session.

    A replica lags the primary by a moment (usually well under a second): a map may not show
    a push made that instant. Nothing that decides a write reads through here.
    """
    factory = database().read_sessionmaker
    if factory is None:
        return session()
    if "db_read_session" not in g:
        g.db_read_session = factory()
    return g.db_read_session


def close_read_session() -> None:
    s = g.pop("db_read_session", None)
    if s is not None:
        s.rollback()  # nothing to keep: it only read
        s.close()


def begin_snapshot() -> Session:
    """Start the request's transaction in REPEATABLE READ: every query sees one snapshot.

    A pull reads a page and computes the scope hash in separate statements; both must see the
    same committed changes. (Tests bind the session to an open connection; they skip this.)
    """
    s = session()
    if isinstance(s.get_bind(), Engine) and not s.in_transaction():
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return s


def driver_execute(session: Session, sql: str, params: dict | None = None) -> psycopg.Cursor:
    """Run one statement on the session's connection through psycopg itself (`%(name)s`
    parameters), in the session's transaction, and return the cursor to read.

    For the handful of statements every tablet push runs: SQLAlchemy's own execution (the
    statement's cache key, the compiled parameters, the result's processors) cost a
    one-submission push about 0.1 ms of CPU per statement over psycopg's, as much as PostgreSQL
    took to run most of them (bench/README). Whoever listens to the engine's cursor events
    (the tests that count a push's statements) still hears these; a database error is raised
    as SQLAlchemy's, as from any other statement, so the push's replay and the 503 of a lost
    connection treat both alike."""
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()
    connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
    try:
        cursor.execute(sql, params)
    except psycopg.Error as exc:
        if cursor.connection.broken:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, psycopg.Error,
                                  connection_invalidated=cursor.connection.broken) from exc
    connection.dispatch.after_cursor_execute(connection, cursor, sql, params, None, False)
    return cursor


class DriverStatement:
    """A Core statement compiled once for psycopg, to run with driver_execute: its text, and the
    bind processors of its parameters (JSONB, geometry, dates: what SQLAlchemy would apply)."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._processors = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor

    def params(self, values: dict) -> dict:
        processors = self._processors
        return {k: (processors[k](v) if k in processors else v) for k, v in values.items()}

    def execute(self, session: Session, values: dict) -> psycopg.Cursor:
        return driver_execute(session, self.sql, self.params(values))


def prefer_generic_plans() -> Session:
    """Plan the request's statements once per connection, not once per execution (SET LOCAL:
    until the transaction ends; the next request on the connection plans as usual).

    For a tablet's push: a fixed handful of statements looking rows up by key, prepared by
    psycopg, whose plans PostgreSQL still made anew on every execution (a custom plan looked
    cheaper than the generic one for arrays of one id). Planning was over a third of the
    database's time in a one-submission push (the lock's statement 0.54 ms to plan, 0.36 ms to
    run; bench/README). Not for the maps and reports, whose best plan depends on the values."""
    s = session()
    driver_execute(s, "SET LOCAL plan_cache_mode = force_generic_plan")
    return s


def now(session: Session):
    """The transaction's time, as PostgreSQL tells it: every write of a request shares one.

    Asked once per transaction (now() does not move within one): a push asked for it three
    times, a round trip each."""
    transaction = session.get_transaction()
    known = session.info.get(_NOW)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]
    value = session.scalar(select(func.now()))
    remember_now(session, value)
    return value


def remember_now(session: Session, value) -> None:
    """Keep now(), read by a query of this transaction alongside its own columns, for db.now."""
    transaction = session.get_transaction()
    if transaction is not None:
        session.info[_NOW] = (transaction, value)


_NOW = "notoneless.transaction_now"
