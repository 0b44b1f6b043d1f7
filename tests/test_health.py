"""The health endpoint reports each part, and a real worker process counts as alive."""

import os
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
