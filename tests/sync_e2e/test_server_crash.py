"""Crash: SIGKILL the server in the middle of a push, restart it, let the tablet retry.

A tablet pushes one big batch (every household and child of its three villages edited, some
twice, new children with visits). The test makes sure the kill lands mid-request: it holds an
uncommitted row with the batch's last submission_id, so the server applies the batch up to
that last submission and then waits on the row lock, its transaction full of uncommitted
writes. Then gunicorn's whole process group gets SIGKILL, the held row is rolled back, the
server restarts and the tablet pushes its outbox again.

The final state (every record's fields and version, the stored submissions and receipts)
must equal that of the same edits pushed without a crash to a second database that started
identical (guarantee 4, and 3 for the retry).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import psycopg
import pytest
from sqlalchemy import text

from mobile_contract.client import RetriesExhausted, TabletClient
from mobile_contract.client.flask_transport import FlaskTransport
from tests.conftest import TEST_CONFIG, database_url
from tests.sync_e2e.conftest import (
    StepClock,
    city_supervisor,
    enroll_tablet,
    quick_retry,
    seeded_ids,
    surveyor_ids,
)

SURVEYOR = "t01g01.s1"
VILLAGE = "320685001001"
# Both runs' tablets capture at the same times (so their submissions are identical).
CLOCK_START = dt.datetime.combine(dt.date.today() - dt.timedelta(days=20), dt.time(8), dt.UTC)


def field_work(tablet: TabletClient) -> None:
    """The same offline edits in both runs: every record of the scope, some twice."""
    rng = random.Random(5)
    for household in sorted(tablet.records("household"), key=lambda r: r["id"]):
        tablet.edit("household", household["id"], {"survey_status": "visited",
                                                   "notes": rng.choice(["门锁着", "家长在家", None])})
        if rng.random() < 0.3:
            tablet.edit("household", household["id"], {"survey_status": "confirmed"})
    for child in sorted(tablet.records("child"), key=lambda r: r["id"]):
        if rng.random() < 0.5:
            fields = {"enrollment_status": "enrolled", "school_name": "海安市城东镇中心小学",
                      "grade": rng.randint(1, 9), "dropout_reason": None}
        else:
            fields = {"enrollment_status": "dropped_out", "dropout_reason": "working", "school_name": None,
                      "grade": None}
        tablet.edit("child", child["id"], fields)
    for household in sorted(tablet.records("household"), key=lambda r: r["id"])[:5]:
        created = tablet.create("child", {
            "name": "新增儿童", "gender": "F", "birth_date": "2014-03-03", "enrollment_status": "never_enrolled",
            "dropout_reason": "poverty", "disability": False, "left_behind": True, "migrant": False,
        }, household_id=household["id"])
        tablet.create("visit", {"visitors": "村主任", "visit_date": "2026-01-05", "outcome": "refused",
                                "next_step": "revisit"}, child_id=created.record_id)


def final_state(engine) -> dict:
    """Records (every column but the times and the server's device id) and submissions."""
    with engine.connect() as conn:
        records = {}
        for table in ("households", "children", "visits"):
            for row in conn.execute(text(
                    f"SELECT id::text, to_jsonb(t) - 'updated_at' - 'created_at' - 'device_id' FROM {table} t")):
                records[(table, row[0])] = row[1]
        submissions = {str(r[0]): (r[1], r[2]) for r in conn.execute(text(
            "SELECT submission_id, payload, receipt FROM submissions"))}
        conflicts = conn.scalar(text("SELECT count(*) FROM conflicts"))
    return {"records": records, "submissions": submissions, "conflicts": conflicts}


def enrolled(transport, path) -> TabletClient:
    supervisor = city_supervisor(transport)
    tablet = enroll_tablet(supervisor, surveyor_ids(supervisor, VILLAGE)[SURVEYOR], path, transport,
                           retry=quick_retry(attempts=2), new_id=seeded_ids(77), clock=StepClock(CLOCK_START))
    tablet.pull()
    return tablet


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_a_push_killed_mid_request_ends_as_if_there_had_been_no_crash(fresh_database, live_server, db_engine,
                                                                       tmp_path):
    crashed_db, reference_db = fresh_database(), fresh_database()
    server = live_server(crashed_db, workers=2, threads=4)
    engine = db_engine(crashed_db)
    tablet = enrolled(server.transport(), tmp_path / "crashed.sqlite3")
    field_work(tablet)
    outbox = [o["submission"] for o in tablet.outbox()]
    assert len(outbox) > 250
    last = outbox[-1]

    admin = psycopg.connect(database_url(crashed_db).replace("+psycopg", ""))
    # The blocker: an uncommitted submission row with the batch's last id. The server's own
    # INSERT of it waits for this transaction, after applying everything before it.
    admin.execute(
        "INSERT INTO submissions (submission_id, device_id, person_id, device_seq, received_at, content_sha256,"
        " record_type, record_id, payload, receipt) SELECT %s, d.id, d.person_id, 0, now(), 'blocker', %s, %s,"
        " '{}', '{}' FROM devices d WHERE d.id = %s",
        (last["submission_id"], last["record"]["type"], last["record"]["id"], tablet.device_id))
    outcome: list[BaseException | object] = []

    def push() -> None:
        try:
            outcome.append(tablet.push(batch_size=1000))  # the whole outbox in one request
        except BaseException as exc:  # noqa: BLE001 - inspected by the main thread
            outcome.append(exc)

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        waiting = []

        def server_waits_on_the_blocker() -> bool:
            with engine.connect() as conn:
                waiting[:] = conn.execute(text(
                    "SELECT query, backend_xid IS NOT NULL AS wrote FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND wait_event_type = 'Lock'")).all()
            return bool(waiting)

        wait_for(server_waits_on_the_blocker, "the push to reach its last submission")
        (query, wrote), = waiting
        # Mid-request: the records and all but one submission are written, not committed.
        assert "INSERT INTO submissions" in query and wrote
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM submissions")) == 0
        server.kill()
    finally:
        admin.rollback()
        admin.close()
    pusher.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], RetriesExhausted), outcome

    def old_server_gone() -> bool:  # its database sessions end and roll back
        with engine.connect() as conn:
            return not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))

    wait_for(old_server_gone, "the killed server's sessions to end")
    nothing = final_state(engine)
    assert nothing["submissions"] == {}, "nothing of the killed push may be committed"
    assert [o["submission"] for o in tablet.outbox()] == outbox, "the tablet keeps its whole outbox"

    server.start()
    tablet.api.retry = quick_retry(attempts=6)
    result = tablet.sync()
    assert sum(result.push.statuses.values()) == len(outbox)
    assert set(result.push.statuses) <= {"applied", "merged"}, result.push.statuses
    assert tablet.outbox() == [] and tablet.rejected() == []
    assert result.pull.agreed and not result.pull.repaired

    # The same edits, no crash, on the twin database (the app in process, committing for real).
    from server import create_app

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url(reference_db)})
    try:
        twin = enrolled(FlaskTransport(app.test_client()), tmp_path / "reference.sqlite3")
        field_work(twin)
        assert [o["submission"] for o in twin.outbox()] == outbox, "both runs make the same submissions"
        twin.sync(batch_size=1000)
        reference = final_state(db_engine(reference_db))
        assert tablet.server_copies().keys() == twin.server_copies().keys()
        twin.close()
    finally:
        app.extensions["notoneless.db"].engine.dispose()

    after = final_state(engine)
    assert len(after["submissions"]) == len(outbox) == len(reference["submissions"])
    assert after == reference
    tablet.close()
