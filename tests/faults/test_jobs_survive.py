"""Jobs through faults: Redis down (sync goes on, the jobs asked for meanwhile run once Redis
is back) and a worker killed in the middle of a job (the job is delivered again and its second
run leaves the same result as one clean run)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import psycopg
from sqlalchemy import text

from server.demo import files
from tests.conftest import ROOT, TEST_PASSWORD
from tests.faults.conftest import TEST_CONFIG_ENV, fault_environment, wait_for
from tests.sync_e2e.conftest import (
    city_supervisor,
    enroll_tablet,
    live_county,
    quick_retry,
    surveyor_ids,
)

SURVEYOR = "t01g01.s2"
VILLAGE = "320685001001"


def _call(server, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _token(server) -> str:
    status, body = _call(server, "POST", "/api/v1/auth/login", body={"username": "city", "password": TEST_PASSWORD})
    assert status == 200, body
    return body["token"]


def _outbox(pg_engine) -> int:
    with pg_engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM job_outbox"))


def test_redis_down_sync_goes_on_and_jobs_run_once_it_is_back(server, redis_box, worker, pg_engine, tmp_path):
    worker.start()
    token = _token(server)
    supervisor = city_supervisor(server.transport())
    tablet = enroll_tablet(supervisor, surveyor_ids(supervisor, VILLAGE)[SURVEYOR], tmp_path / "tablet.sqlite3",
                           server.transport(), retry=quick_retry(attempts=1))
    tablet.pull()

    redis_box.stop()
    # Field work does not need Redis: pull, push, manifest.
    household = sorted(tablet.records("household"), key=lambda r: r["id"])[0]
    tablet.edit("household", household["id"], {"notes": "Redis 停了也能同步"})
    result = tablet.push()
    assert set(result.statuses) <= {"applied", "merged"} and sum(result.statuses.values()) == 1, result.statuses
    assert not tablet.outbox()
    tablet.pull()
    tablet.fetch_manifest()
    # A report export asked for now is accepted; its job waits in the outbox.
    status, export = _call(server, "POST", "/api/v1/reports/exports", token, {"by": "town"})
    assert status == 202, export
    status, health = _call(server, "GET", "/api/v1/health")
    assert health["status"] == "degraded" and health["redis"]["status"] == "down", (status, health)
    assert _outbox(pg_engine) >= 1

    redis_box.start()  # back, and empty: it kept nothing
    wait_for(lambda: _call(server, "GET", f"/api/v1/reports/exports/{export['id']}", token)[1]["status"] == "done",
             60, f"the export to be built once Redis is back\n{worker.log_tail()}")
    wait_for(lambda: _outbox(pg_engine) == 0, 30, "the outbox to empty")


def test_a_worker_killed_mid_job_the_job_runs_again_safely(pg, redis_box, worker, pg_engine, tmp_path):
    roster = files.write_table(tmp_path / "roster.csv", files.roster_table(live_county(), seed=3))
    env = {**TEST_CONFIG_ENV, **fault_environment(pg, redis_box), "PYTHONPATH": ROOT}
    # The command queues the import, then follows its progress until it is done.
    follower = subprocess.Popen([sys.executable, "-m", "server.cli", "import", "roster", str(roster)], cwd=ROOT,
                                env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_line = follower.stdout.readline()
    assert first_line.startswith("import "), first_line + follower.stdout.read()
    import_id = int(first_line.split()[1].rstrip(":"))

    # Hold the import's row: the job starts, then waits on its first progress write, its
    # worker busy with it. Then the worker and its work horse are killed.
    with psycopg.connect(pg.dsn("notoneless")) as holder:
        holder.execute("SELECT 1 FROM imports WHERE id = %s FOR UPDATE", (import_id,))
        worker.start()
        wait_for(lambda: worker.horses(), 60, f"a work horse to start the job\n{worker.log_tail()}")
        wait_for(lambda: _waiting_on_lock(pg), 30, "the job to reach the held row")
        worker.kill()
        holder.rollback()

    with pg_engine.connect() as conn:
        assert conn.scalar(text("SELECT status FROM imports WHERE id = :id"), {"id": import_id}) != "done"
    # A new worker finds the job silent past OUTBOX_STALE_SECONDS and delivers it again.
    worker.start()
    wait_for(lambda: _import_status(pg_engine, import_id) == "done", 90,
             f"the import to finish on the second delivery\n{worker.log_tail()}")
    wait_for(lambda: _outbox(pg_engine) == 0, 30, "the outbox to empty")
    # ... as its second delivery (outbox-<id>-1): the first died with its worker.
    assert re.search(r"outbox-\d+-1\b", worker.log_path.read_text()), worker.log_tail()
    first = _import_result(pg_engine, import_id)
    output, _ = follower.communicate(timeout=30)
    assert follower.returncode == 0, output

    # Running the job once more changes nothing (it is done; the outbox row is gone).
    from redis import Redis
    from rq import Queue

    from server.imports.jobs import run_import
    from server.jobs.outbox import run_outbox_job

    q = Queue(TEST_CONFIG_ENV["RQ_QUEUE_PREFIX"] + "imports", connection=Redis.from_url(redis_box.url))
    again = [q.enqueue(run_import, import_id), q.enqueue(run_outbox_job, 1)]
    wait_for(lambda: all(job.get_status(refresh=True) == "finished" for job in again), 60,
             f"the reruns\n{worker.log_tail()}")
    assert _import_result(pg_engine, import_id) == first


def _waiting_on_lock(pg) -> bool:
    with psycopg.connect(pg.dsn("notoneless")) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0] > 0


def _import_status(pg_engine, import_id: int) -> str:
    with pg_engine.connect() as conn:
        return conn.scalar(text("SELECT status FROM imports WHERE id = :id"), {"id": import_id})


def _import_result(pg_engine, import_id: int) -> dict:
    with pg_engine.connect() as conn:
        row = conn.execute(text("SELECT rows_total, rows_ok, rows_bad FROM imports WHERE id = :id"),
                           {"id": import_id}).one()
        counts = {table: conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in  # noqa: S608
                  ("children", "households", "roster_entries", "import_problems", "record_changes")}
    return {"rows": tuple(row), **counts}
