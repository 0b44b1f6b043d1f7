"""A real RQ worker (`notoneless worker --burst`, another process) runs an import while the job
endpoint shows its progress move. The data is really committed, so this test has a database of
its own, dropped afterwards."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select

from server import create_app
from server.demo import generator, loader
from server.people import id_number
from server.people.models import Child
from tests.conftest import (
    ROOT,
    TEST_CONFIG,
    TEST_PASSWORD,
    alembic_config,
    database_url,
    drop_database,
    recreate_database,
)
from tests.imports.conftest import file_bytes

ROWS = 30_000


@pytest.fixture
def worker_app(db_url):
    name = f"notoneless_test_worker_{os.getpid() % 100000}"
    recreate_database(name)
    url = database_url(name)
    previous = os.environ.get("DATABASE_URL")
    try:
        command.upgrade(alembic_config(url), "head")
    finally:
        if previous is not None:
            os.environ["DATABASE_URL"] = previous
    application = create_app({**TEST_CONFIG, "DATABASE_URL": url,
                              "RQ_QUEUE_PREFIX": f"worker-test-{uuid.uuid4().hex[:8]}:"})
    yield application
    application.extensions["notoneless.db"].engine.dispose()
    drop_database(name)


def _big_roster(county) -> bytes:
    towns = {t.code: t.name for t in county.towns}
    villages = {v.code: v for v in county.villages}
    households = county.households
    first = dt.date(2012, 1, 1)
    rows = []
    for i in range(ROWS):
        h = households[i % len(households)]
        v = villages[h.village_code]
        birth = first + dt.timedelta(days=i % 3000)
        seq = 1 + 2 * (i // 3000)
        rows.append([f"儿童{i}", "男", id_number.make("320685", birth, seq), birth.isoformat(), towns[v.town_code],
                     v.name, h.household_number, h.head_name])
    return file_bytes(["姓名", "性别", "公民身份号码", "出生日期", "区镇", "村(社区)", "户号", "户主姓名"], rows)


@pytest.mark.slow
def test_a_real_worker_runs_the_import_and_the_job_endpoint_shows_progress(worker_app, redis_conn):
    db = worker_app.extensions["notoneless.db"]
    county = generator.generate("tiny", seed=3)
    with db.sessionmaker() as session:
        loader.load(session, county, worker_app.extensions["notoneless.vault"], TEST_PASSWORD,
                    with_children=False)
        session.commit()
    client = worker_app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "city", "password": TEST_PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}

    posted = client.post("/api/v1/imports/roster", headers=headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(_big_roster(county)), "roster.csv")})
    assert posted.status_code == 202, posted.json
    import_id = posted.json["id"]

    env = {**os.environ, "DATABASE_URL": worker_app.config["DATABASE_URL"],
           "REDIS_URL": worker_app.config["REDIS_URL"], "RQ_QUEUE_PREFIX": worker_app.config["RQ_QUEUE_PREFIX"],
           "SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "ID_NUMBER_KEY": TEST_CONFIG["ID_NUMBER_KEY"],
           "ID_LOOKUP_KEY": TEST_CONFIG["ID_LOOKUP_KEY"]}
    cli = Path(sys.executable).parent / "notoneless"
    worker = subprocess.Popen([str(cli), "worker", "--burst", "--queue", "imports"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            shown = client.get(f"/api/v1/imports/{import_id}", headers=headers).json
            seen.append((shown["status"], shown["progress"]["rows_read"], shown["progress"]["percent"]))
            if shown["status"] in ("done", "failed"):
                break
            time.sleep(0.02)
        output = worker.communicate(timeout=60)[0].decode(errors="replace")
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert seen[-1] == ("done", ROWS, 100.0), (seen[-1], output)
    # The endpoint showed the job part-way: running, some rows read but not all.
    assert any(status == "running" and 0 < read < ROWS and 0 < percent < 100 for status, read, percent in seen), seen
    reads = [read for _status, read, _percent in seen]
    assert reads == sorted(reads)
    with db.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Child)) == ROWS
