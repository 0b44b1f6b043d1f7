"""Beyond one machine: with READ_DATABASE_URL set, map and report reads are served by a real
streaming replica (initdb, pg_basebackup, its own port) while every write goes to the primary.

The proof: replay on the replica is paused, a tablet's push changes a child on the primary,
and the map still shows the replica's older state until replay resumes.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import psycopg
import pytest

from tests.faults.conftest import DATABASE, fault_environment, wait_for
from tests.faults.services import ThrowawayPostgres
from tests.sync_e2e.conftest import (
    LiveServer,
    city_supervisor,
    enroll_tablet,
    quick_retry,
    surveyor_ids,
)

SURVEYOR = "t01g01.s1"
VILLAGE = "320685001001"


@pytest.fixture(scope="module")
def replica(pg) -> Iterator[ThrowawayPostgres]:
    standby = pg.make_replica("faults-replica")
    standby.start()
    try:
        with psycopg.connect(standby.dsn(DATABASE)) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        yield standby
    finally:
        standby.destroy()


@pytest.fixture(scope="module")
def replicated_server(pg, replica, redis_box, tmp_path_factory) -> Iterator[LiveServer]:
    environment = {**fault_environment(pg, redis_box), "READ_DATABASE_URL": replica.url(DATABASE)}
    live = LiveServer("replicated", tmp_path_factory.mktemp("replicated"), environment=environment)
    live.start()
    yield live
    live.stop()


def _get(server, path: str, token: str) -> dict:
    request = urllib.request.Request(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def _out_of_school_on_map(server, token: str) -> set[str]:
    layer = _get(server, f"/api/v1/maps/children?village={VILLAGE}&status=out_of_school", token)
    return {feature["properties"]["id"] for feature in layer["features"]}


def _caught_up(pg, replica) -> bool:
    with psycopg.connect(pg.dsn()) as primary:
        lsn = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    with psycopg.connect(replica.dsn()) as standby:
        return standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]


def test_map_and_report_reads_go_to_the_replica_and_writes_to_the_primary(pg, replica, replicated_server, tmp_path):
    server = replicated_server
    supervisor = city_supervisor(server.transport())
    token = supervisor.api.token
    tablet = enroll_tablet(supervisor, surveyor_ids(supervisor, VILLAGE)[SURVEYOR], tmp_path / "tablet.sqlite3",
                           server.transport(), retry=quick_retry(attempts=1))
    tablet.pull()
    wait_for(lambda: _caught_up(pg, replica), 30, "the replica to catch up")
    before = _out_of_school_on_map(server, token)
    child = next(c for c in sorted(tablet.records("child", VILLAGE), key=lambda r: r["id"])
                 if c["fields"].get("enrollment_status") in ("enrolled", "enrolled_unconfirmed") and c["id"] not in before)

    with psycopg.connect(replica.dsn(), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            tablet.edit("child", child["id"], {"enrollment_status": "dropped_out", "dropout_reason": "working",
                                               "school_name": None, "grade": None})
            result = tablet.push()  # a write: it can only have gone to the primary (the replica is read-only)
            assert set(result.statuses) <= {"applied", "merged"} and result.statuses, result.statuses
            with psycopg.connect(pg.dsn(DATABASE)) as primary:
                status = primary.execute("SELECT enrollment_status FROM children WHERE id = %s",
                                         (child["id"],)).fetchone()[0]
            assert status == "dropped_out"
            # The map is read from the paused replica: the child is not on it yet.
            assert child["id"] not in _out_of_school_on_map(server, token)
            rates = _get(server, "/api/v1/reports/rates?by=town", token)
            assert rates  # the report answers from the replica too
            connections = standby.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'notoneless-read'").fetchone()[0]
            assert connections >= 1
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    with psycopg.connect(pg.dsn()) as primary:
        on_primary = primary.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'notoneless-read'").fetchone()[0]
    assert on_primary == 0
    wait_for(lambda: child["id"] in _out_of_school_on_map(server, token), 30, "the replica to replay the push")


def test_the_read_engine_refuses_writes(pg):
    """Even pointed at a primary by mistake, the read engine's sessions are read-only."""
    from server.db import Database

    database = Database(pg.url(DATABASE), pg.url(DATABASE))
    try:
        with database.read_sessionmaker() as session:
            from sqlalchemy import text
            from sqlalchemy.exc import DBAPIError

            with pytest.raises(DBAPIError, match="read-only"):
                session.execute(text("CREATE TABLE should_not_exist (id int)"))
    finally:
        database.engine.dispose()
        database.read_engine.dispose()
