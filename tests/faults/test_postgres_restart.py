"""PostgreSQL goes away in the middle of field work and comes back (a crash: no checkpoint,
recovery from the WAL). The app must recover by itself, refuse clearly while the database is
away (503 db.unavailable, never a 500), and lose no write it acknowledged."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from mobile_contract.client import RetriesExhausted
from mobile_contract.client.api import ApiError
from mobile_contract.client.transport import TransportError
from tests.faults.conftest import wait_for
from tests.sync_e2e.conftest import city_supervisor, enroll_tablet, quick_retry, surveyor_ids

SURVEYOR = "t01g01.s1"
ACKNOWLEDGED = {"applied", "merged", "duplicate", "conflict"}


def test_a_postgres_crash_mid_run_loses_no_acknowledged_write(pg, server, pg_engine, tmp_path):
    supervisor = city_supervisor(server.transport())
    manifest_village = "320685001001"
    ids = surveyor_ids(supervisor, manifest_village)
    tablet = enroll_tablet(supervisor, ids[SURVEYOR], tmp_path / "tablet.sqlite3", server.transport(timeout=10),
                           retry=quick_retry(attempts=1))
    tablet.pull()
    households = sorted(tablet.records("household"), key=lambda r: r["id"])[:20]
    assert households

    acknowledged: dict[str, str] = {}  # submission_id -> receipt status
    refusals: list[tuple[int | None, str]] = []
    edits = 0
    stop = threading.Event()

    def field_work():
        nonlocal edits
        round_ = 0
        while not stop.is_set():
            household = households[round_ % len(households)]
            tablet.edit("household", household["id"], {"notes": f"第{round_}轮"})
            edits += 1
            round_ += 1
            try:
                _acknowledge(tablet.push(), acknowledged)
            except RetriesExhausted as exc:
                last = exc.last
                refusals.append((getattr(last, "status", None), type(last).__name__))
            except ApiError as exc:
                refusals.append((exc.status, exc.code))
            except TransportError as exc:
                refusals.append((None, type(exc).__name__))
            time.sleep(0.02)

    worker = threading.Thread(target=field_work, daemon=True)
    worker.start()
    try:
        wait_for(lambda: len(acknowledged) >= 10, 60, "pushes before the crash")
        pg.stop("immediate")  # a crash: what was acknowledged must be in the WAL
        time.sleep(2)
        before_restart = len(acknowledged)
        pg.start()
        wait_for(lambda: len(acknowledged) >= before_restart + 10, 90, "pushes after the restart")
    finally:
        stop.set()
        worker.join(timeout=60)

    # The outbox drains now that the database is back: every edit reaches the server.
    wait_for(lambda: _drained(tablet, acknowledged), 60, "the tablet's outbox to drain")
    with pg_engine.connect() as conn:
        stored = {str(r[0]) for r in conn.execute(text("SELECT submission_id FROM submissions"))}
        latest = dict(conn.execute(text(
            "SELECT id::text, notes FROM households WHERE id = ANY(:ids)"),
            {"ids": [h["id"] for h in households]}).all())
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged submissions lost"
    assert len(stored) == edits  # and nothing of the tablet's outbox was lost either
    for household in households:
        assert tablet.record("household", household["id"])["fields"]["notes"] == latest[household["id"]]

    # While the database was away the server said so: 503 db.unavailable or no answer, never a 500.
    assert refusals, "the crash should have been noticed by some push"
    assert all(status in (None, 503) for status, _ in refusals), (refusals, server.log_tail(120))


def _drained(tablet, acknowledged) -> bool:
    try:
        result = tablet.push()
    except (RetriesExhausted, ApiError, TransportError):
        return False
    _acknowledge(result, acknowledged)
    return not tablet.outbox()


def _acknowledge(result, acknowledged: dict[str, str]) -> None:
    """Keep the submissions the server acknowledged (their receipts say it holds them)."""
    for receipt in result.receipts:
        if receipt["status"] in ACKNOWLEDGED:
            acknowledged[receipt["submission_id"]] = receipt["status"]
