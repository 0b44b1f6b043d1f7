"""Shared fixtures: a real PostGIS database built by the migrations, a real Redis, the app.

Each test runs inside a transaction that is rolled back afterwards; the app's sessions join it
through savepoints (join_transaction_mode="create_savepoint"), so a request's commit is real to
the app but leaves nothing behind. Factories are fixtures that return callables and flush.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import os
import uuid

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from redis import Redis
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from server import create_app
from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.passwords import hash_password
from server.people import id_number
from server.people.models import Child, Household
from server.people.protection import child_subject
from server.places.models import Town, Village
from server.schools.models import School

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A role that may create databases and PostGIS in them (scripts/setup.sh makes one); locally,
# the postgres superuser over the socket.
TEST_PG_URL = make_url(os.environ.get("TEST_PG_URL", "postgresql://postgres@"))
PG_ADMIN_DSN = TEST_PG_URL.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
TEST_DB = os.environ.get("TEST_DATABASE_NAME", f"notoneless_test_{os.getpid() % 100000}")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_PASSWORD = "correct horse battery"  # noqa: S105 - a test account's password

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "ID_NUMBER_KEY": base64.b64encode(b"k" * 32).decode(),
    "ID_LOOKUP_KEY": base64.b64encode(b"l" * 32).decode(),
    "REDIS_URL": TEST_REDIS_URL,
    "RQ_QUEUE_PREFIX": f"test{os.getpid()}:",
    # The whole suite logs in from 127.0.0.1, wrong passwords and codes included; the tests of
    # the address throttle lower this themselves.
    "FAILED_ATTEMPTS_PER_ADDRESS": 1_000_000,
}


def database_url(name: str) -> str:
    return TEST_PG_URL.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def recreate_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic_config(url: str) -> Config:
    cfg = Config(os.path.join(ROOT, "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    os.environ["DATABASE_URL"] = url
    return cfg


@pytest.fixture(scope="session")
def db_url():
    """A fresh database for this run, built by running the migrations (not create_all)."""
    recreate_database(TEST_DB)
    url = database_url(TEST_DB)
    command.upgrade(alembic_config(url), "head")
    yield url
    drop_database(TEST_DB)


@pytest.fixture(scope="session")
def app(db_url):
    application = create_app({**TEST_CONFIG, "DATABASE_URL": db_url})
    yield application
    application.extensions["notoneless.db"].engine.dispose()


@pytest.fixture(scope="session")
def redis_conn():
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def connection(app):
    engine = app.extensions["notoneless.db"].engine
    conn = engine.connect()
    outer = conn.begin()
    # The change log is written by deferred triggers at COMMIT, which a rolled-back test never
    # reaches: fire them at the end of each statement instead. (Tests that need the real
    # commit-time numbering run against a committed database.)
    conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    db = app.extensions["notoneless.db"]
    original = db.sessionmaker
    db.sessionmaker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield conn
    db.sessionmaker = original
    outer.rollback()
    conn.close()
    # The village tallies kept in Redis (server/tallies) counted this test's rows, which the
    # rollback took away: a real request never counts uncommitted rows, a test always does.
    _forget_tallies()


def _forget_tallies() -> None:
    conn = Redis.from_url(TEST_REDIS_URL)
    keys = list(conn.scan_iter(f"{TEST_CONFIG['RQ_QUEUE_PREFIX']}tallies:*"))
    if keys:
        conn.delete(*keys)


@pytest.fixture
def session(connection) -> Session:
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


@pytest.fixture
def client(app, connection):
    return app.test_client()


@pytest.fixture
def vault(app):
    return app.extensions["notoneless.vault"]


# --- factories --------------------------------------------------------------------------------

_counter = itertools.count(1)


@pytest.fixture
def make_town(session):
    def make(code: str | None = None, name: str | None = None, kind: str = "town") -> Town:
        n = next(_counter)
        # The counter is shared by every factory and passes 999 in a full run; codes only need
        # to differ within one (rolled-back) test.
        town = Town(code=code or f"320685{n % 1000:03d}000", name=name or f"测试镇{n}", kind=kind)
        session.add(town)
        session.flush()
        return town

    return make


@pytest.fixture
def make_village(session, make_town):
    def make(town: Town | None = None, code: str | None = None, name: str | None = None,
             wkt: str | None = None) -> Village:
        town = town or make_town()
        n = next(_counter)
        code = code or town.code[:9] + f"{200 + n % 800:03d}"
        boundary = wkt or "MULTIPOLYGON(((120.40 32.50, 120.42 32.50, 120.42 32.52, 120.40 32.52, 120.40 32.50)))"
        village = Village(code=code, town_code=town.code, name=name or f"测试村{n}",
                          boundary=f"SRID=4326;{boundary}", centroid="SRID=4326;POINT(120.41 32.51)")
        session.add(village)
        session.flush()
        return village

    return make


@pytest.fixture
def make_household(session, make_village):
    def make(village: Village | None = None, **fields) -> Household:
        village = village or make_village()
        n = next(_counter)
        household = Household(village_code=village.code, household_number=fields.pop("household_number", f"H{n:06d}"),
                              head_name=fields.pop("head_name", f"户主{n}"), **fields)
        session.add(household)
        session.flush()
        return household

    return make


@pytest.fixture
def make_child(session, make_household, vault):
    def make(household: Household | None = None, *, birth_date: dt.date = dt.date(2015, 3, 1),
             gender: str = "F", number: str | None = None, **fields) -> Child:
        household = household or make_household()
        n = next(_counter)
        number = number or id_number.make("320685", birth_date, (n * 2 % 998) + (1 if gender == "M" else 2))
        child_id = uuid.uuid4()
        child = Child(id=child_id, household_id=household.id, village_code=household.village_code,
                      name=fields.pop("name", f"儿童{n}"), gender=gender, birth_date=birth_date,
                      id_number_cipher=vault.encrypt(number, child_subject(child_id)),
                      id_number_lookup=vault.lookup(number), **fields)
        session.add(child)
        session.flush()
        return child

    return make


@pytest.fixture
def make_school(session):
    def make(town: Town | None = None, stage: str = "primary", name: str | None = None) -> School:
        n = next(_counter)
        school = School(code=f"21{n:08d}", name=name or f"测试小学{n}", town_code=town.code if town else None,
                        stage=stage)
        session.add(school)
        session.flush()
        return school

    return make


_password_hash = None


@pytest.fixture
def make_person(session):
    def make(role: str = "city", *, town: Town | None = None, school: School | None = None,
             villages: list[Village] = (), line: str | None = None, active: bool = True) -> Person:
        global _password_hash
        _password_hash = _password_hash or hash_password(TEST_PASSWORD)
        n = next(_counter)
        person = Person(username=f"{role}{n}", full_name=f"测试{n}", role=role, line=line,
                        town_code=town.code if town else None, school_id=school.id if school else None,
                        password_hash=_password_hash, active=active)
        session.add(person)
        session.flush()
        if villages:
            team = Team(name=f"工作组{n}", town_code=villages[0].town_code, line=line or "government",
                        leader_id=person.id)
            session.add(team)
            session.flush()
            session.execute(team_members.insert().values(team_id=team.id, person_id=person.id))
            session.execute(team_villages.insert(), [{"team_id": team.id, "village_code": v.code} for v in villages])
            session.flush()
        return person

    return make


@pytest.fixture
def login(client):
    """Log a person in through the API; return the Authorization header."""

    def do(person: Person, password: str = TEST_PASSWORD) -> dict:
        response = client.post("/api/v1/auth/login", json={"username": person.username, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    return do


@pytest.fixture
def tiny_county(session, vault):
    """The tiny demo county (2 towns, 4 villages, 40 households), loaded in the test's transaction."""
    from server.demo import generator, loader

    county = generator.generate("tiny", seed=7)
    loader.load(session, county, vault, TEST_PASSWORD)
    session.flush()
    session.execute(text("SELECT 1"))
    return county


@pytest.fixture(scope="session")
def committed_engine(db_url):
    """An engine for tests that need data really committed (workers, other processes).

    Such tests must clean up what they commit; prefer the rolled-back `session` elsewhere.
    """
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
