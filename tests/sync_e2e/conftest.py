"""Fixtures of the end-to-end sync tests: reference-client tablets in process and on a real server.

Two worlds:
- In process: the app of `tests/conftest.py` on the test's rolled-back connection, tablets
  talking to it through `FlaskTransport`. Fast; the change log triggers fire per statement.
- A real server: databases of their own (copied from a template holding the migrated schema,
  a small demo county and the published forms, all committed), and the app started by
  gunicorn in another process group, so that pushes commit concurrently for real, with the
  change log numbered at COMMIT, and so that the server can be killed with SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mobile_contract.client import (
    FaultyTransport,
    RetryPolicy,
    SupervisorSession,
    TabletClient,
    Transport,
    UrllibTransport,
)
from mobile_contract.client.flask_transport import FlaskTransport
from tests.conftest import (
    PG_ADMIN_DSN,
    ROOT,
    TEST_CONFIG,
    TEST_PASSWORD,
    alembic_config,
    database_url,
    drop_database,
    recreate_database,
)

# The demo county of the real-server tests: 3 towns, 12 villages, 400 households, both lines
# of teams over every village. Deterministic for the seed, record ids included.
LIVE_COUNTY_SIZE = "small"
LIVE_COUNTY_SEED = 7
TEMPLATE_DB = f"notoneless_e2e_template_{os.getpid() % 100000}"
_databases = itertools.count(1)
_devices = itertools.count(1)


# --- databases -----------------------------------------------------------------------------------

def _admin(*statements: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@contextmanager
def _database_url_restored() -> Iterator[None]:
    # alembic_config() points DATABASE_URL at the database it migrates; the session's app and
    # other tests must not notice.
    previous = os.environ.get("DATABASE_URL")
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


def live_county():
    from server.demo import generator

    return generator.generate(LIVE_COUNTY_SIZE, seed=LIVE_COUNTY_SEED)


def build_live_county(url: str) -> None:
    """Migrate the (empty) database at `url`, load the small demo county and publish the forms."""
    from server.demo import loader
    from server.forms import service as forms_service
    from server.people.protection import IdNumberVault

    engine = create_engine(url)
    try:
        # Our own connection for the migrations: one alembic's env.py opened itself would stay
        # in its pool, and a database with a session open cannot be a template.
        with _database_url_restored(), engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        vault = IdNumberVault.from_config(TEST_CONFIG["ID_NUMBER_KEY"], TEST_CONFIG["ID_LOOKUP_KEY"])
        with Session(engine) as session:
            loader.load(session, live_county(), vault, TEST_PASSWORD)
            forms_service.publish_builtin(session)
            session.commit()
    finally:
        engine.dispose()  # a template database must have no connections when it is copied


@pytest.fixture(scope="session")
def e2e_template() -> Iterator[str]:
    """A migrated database with the small demo county and the built-in forms, committed."""
    recreate_database(TEMPLATE_DB)
    build_live_county(database_url(TEMPLATE_DB))
    yield TEMPLATE_DB
    drop_database(TEMPLATE_DB)


@pytest.fixture(scope="module")
def fresh_database(e2e_template) -> Iterator[Callable[[], str]]:
    """Make databases copied from the template (each with its own name); drop them at the end
    of the module."""
    made: list[str] = []

    def make() -> str:
        name = f"{e2e_template}_{next(_databases)}"
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
               f'CREATE DATABASE "{name}" TEMPLATE "{e2e_template}"')
        made.append(name)
        return name

    yield make
    for name in made:
        drop_database(name)


def server_environment(database: str) -> dict[str, str]:
    """The environment a server process needs: this database, the test Redis and keys."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update({
        "DATABASE_URL": database_url(database),
        "REDIS_URL": TEST_CONFIG["REDIS_URL"],
        "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
        "ID_NUMBER_KEY": TEST_CONFIG["ID_NUMBER_KEY"],
        "ID_LOOKUP_KEY": TEST_CONFIG["ID_LOOKUP_KEY"],
        "RQ_QUEUE_PREFIX": TEST_CONFIG["RQ_QUEUE_PREFIX"],
        "PYTHONPATH": ROOT,
    })
    return env


# --- a real server -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app under gunicorn in a process group of its own, on a free port of the loopback."""

    def __init__(self, database: str, log_dir: Path, *, workers: int = 2, threads: int = 4,
                 environment: dict[str, str] | None = None):
        self.database = database
        self.environment = environment or {}  # overrides: another database server, another Redis
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"gunicorn-{database}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start gunicorn and wait until /api/v1/health answers."""
        assert self.process is None, "already running"
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "--threads", str(self.threads),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "120", "--graceful-timeout", "5", "--no-control-socket",
             "server:create_app()"],
            cwd=ROOT, env={**server_environment(self.database), **self.environment}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a SIGKILL takes master and workers
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers die at once, mid-request or not."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """Stop at once (SIGQUIT to the group), or kill after a while."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGQUIT)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def transport(self, timeout: float = 30.0) -> UrllibTransport:
        return UrllibTransport(self.url, timeout=timeout)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[Callable[..., LiveServer]]:
    """Start servers on given databases; every one started is stopped at the end of the module."""
    started: list[LiveServer] = []
    logs = tmp_path_factory.mktemp("servers")

    def start(database: str, **options) -> LiveServer:
        server = LiveServer(database, logs, **options)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def db_engine() -> Iterator[Callable[[str], object]]:
    """Engines on databases by name (committed reads and writes from the test's side)."""
    engines = {}

    def get(name: str):
        if name not in engines:
            engines[name] = create_engine(database_url(name))
        return engines[name]

    yield get
    for engine in engines.values():
        engine.dispose()


# --- tablets ---------------------------------------------------------------------------------------

def quick_retry(seed: int = 0, attempts: int = 4) -> RetryPolicy:
    """Retries without waiting: the tests inject the faults and need no real backoff."""
    return RetryPolicy(attempts=attempts, base_delay=0.0, max_delay=0.0, rng=random.Random(seed),
                       sleep=lambda _seconds: None)


def seeded_ids(seed: int) -> Callable[[], uuid.UUID]:
    """A tablet's uuid4 source, reproducible (submission ids and new record ids)."""
    rng = random.Random(seed)
    return lambda: uuid.UUID(int=rng.getrandbits(128), version=4)


def surveyor_ids(supervisor: SupervisorSession, village: str) -> dict[str, int]:
    """username -> person id of the surveyors (and team leaders) covering a village."""
    return {s["username"]: s["id"] for s in supervisor.surveyors(village)}


def enroll_tablet(supervisor: SupervisorSession, surveyor_id: int, path: Path, transport: Transport,
                  **client_options) -> TabletClient:
    """A tablet for a surveyor: code issued by the supervisor, enrolled, manifest and forms."""
    code = supervisor.issue_enrollment_code(surveyor_id)
    client = TabletClient(path, transport=transport, **client_options)
    client.enroll(code["enrollment_code"], f"测试平板{next(_devices)}")
    client.fetch_manifest()
    client.fetch_forms()
    return client


def city_supervisor(transport: Transport) -> SupervisorSession:
    supervisor = SupervisorSession(transport, retry=quick_retry(attempts=1))
    supervisor.log_in("city", TEST_PASSWORD)
    return supervisor


@pytest.fixture
def in_process_supervisor(client, tiny_county, forms_published) -> SupervisorSession:
    """The county's city account, logged in through the in-process app (tiny county loaded)."""
    return city_supervisor(FlaskTransport(client))


@pytest.fixture
def forms_published(session, tiny_county):
    from server.forms import service as forms_service

    rows = forms_service.publish_builtin(session)
    session.flush()
    return rows


def faulty(inner: Transport, seed: int, rate: float = 0.15) -> FaultyTransport:
    transport = FaultyTransport(inner, random.Random(seed), fail_before=rate, drop_response=rate,
                                duplicate=rate)
    transport.enabled = False
    return transport


@pytest.fixture
def committed_app(fresh_database):
    """The app in process on a database of its own, committing for real (triggers at COMMIT)."""
    from server import create_app

    name = fresh_database()
    application = create_app({**TEST_CONFIG, "DATABASE_URL": database_url(name)})
    application.database_name = name
    yield application
    application.extensions["notoneless.db"].engine.dispose()


class StepClock:
    """Tablet clocks in the past, one minute per reading: capture order is call order."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=20)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


@pytest.fixture
def town01_villages(tiny_county) -> list[str]:
    """The two villages of the tiny county's town 01, covered by one team of each line."""
    team = next(t for t in tiny_county.teams if "t01g01.s1" in t.members)
    return sorted(team.village_codes)


@pytest.fixture
def in_process_tablets(client, in_process_supervisor, town01_villages, tmp_path):
    """Enrolled and pulled reference-client tablets of town 01's surveyors, in process."""
    ids = surveyor_ids(in_process_supervisor, town01_villages[0])
    clock = StepClock()
    made = []

    def make(*usernames: str) -> list[TabletClient]:
        tablets = []
        for username in usernames:
            tablet = enroll_tablet(in_process_supervisor, ids[username], tmp_path / f"{username}-{len(made)}.sqlite3",
                                   FlaskTransport(client), retry=quick_retry(), clock=clock)
            tablet.pull()
            made.append(tablet)
            tablets.append(tablet)
        return tablets

    yield make
    for tablet in made:
        tablet.close()
