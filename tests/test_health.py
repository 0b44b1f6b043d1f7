"""The health endpoint reports each part, and a real worker process counts as alive: idle or
busy with a job, and no longer within seconds of being killed."""

import os
import signal
import subprocess
import sys
import time

import pytest

from server import create_app
from tests.conftest import ROOT, TEST_CONFIG


def _worker_env(db_url):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in TEST_CONFIG.items() if k != "TESTING"})
    env["DATABASE_URL"] = db_url
    return env


def test_health_reports_everything_up_with_a_worker_running(client, db_url, redis_conn):
    worker = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=_worker_env(db_url),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        report = client.get("/api/v1/health").json
        while report["worker"]["status"] != "up" and time.monotonic() < deadline:
            time.sleep(0.3)
            report = client.get("/api/v1/health").json
        assert report["status"] == "up", report
        assert report["database"]["status"] == "up"
        assert report["postgis"]["version"].startswith("3.")
        assert report["redis"]["status"] == "up"
        assert report["worker"]["queues_without_worker"] == []
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def _wait_for_worker(client, status: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    report = client.get("/api/v1/health").json
    while report["worker"]["status"] != status and time.monotonic() < deadline:
        time.sleep(0.3)
        report = client.get("/api/v1/health").json
    return report


def test_a_busy_worker_is_up_and_a_killed_one_is_down_within_seconds(app, client, db_url, redis_conn):
    # Sweeps every 0.5 s: the worker's announcement lives 3 s (server/jobs/presence.py).
    env = {**_worker_env(db_url), "OUTBOX_SWEEP_SECONDS": "0.5"}
    worker = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for_worker(client, "up", 30)["worker"]["status"] == "up"
        from server import jobs

        with app.app_context():
            q = jobs.queue("reports")
            job = q.enqueue(time.sleep, 8)  # a job that keeps the worker busy past the TTL twice over
        deadline = time.monotonic() + 20
        while job.get_status(refresh=True) != "started" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.get_status(refresh=True) == "started"
        for _ in range(7):  # 7 s of a busy worker, well past its 3 s announcement
            report = client.get("/api/v1/health").json
            assert report["worker"]["status"] == "up", report
            time.sleep(1)
        os.kill(worker.pid, signal.SIGKILL)  # no goodbye: only the expiry can tell
        worker.wait(timeout=10)
        report = _wait_for_worker(client, "down", 10)
        assert report["worker"]["status"] == "down" and report["status"] == "degraded", (worker.pid, report["worker"])
    finally:
        if worker.poll() is None:
            worker.kill()
        with app.app_context():
            jobs.queue("reports").empty()


@pytest.fixture
def app_without_redis(db_url):
    application = create_app({**TEST_CONFIG, "DATABASE_URL": db_url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    yield application
    application.extensions["notoneless.db"].engine.dispose()


def test_health_reports_redis_down_without_failing(app_without_redis):
    response = app_without_redis.test_client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["redis"]["status"] == "down"
    assert response.json["database"]["status"] == "up"
    assert response.json["status"] == "degraded"
