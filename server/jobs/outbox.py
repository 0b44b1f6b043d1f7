"""Running outbox jobs, and the sweep that delivers the ones Redis never ran.

The sweep runs in every worker (`notoneless worker`) every few seconds and on demand
(`notoneless jobs sweep`). It looks at the outbox rows older than a grace period and at what
RQ knows of their latest delivery:

- no such job in Redis (Redis was down at commit, or restarted empty): deliver it;
- queued or deferred: leave it;
- started, but no heartbeat for a while (its worker was killed): deliver it again;
- failed or stopped: deliver it again, up to MAX_ATTEMPTS deliveries in all;
- finished while the row survived (its delete failed): delete the row.

Rows are taken with FOR UPDATE SKIP LOCKED, so several workers sweep without delivering
the same row twice at once.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from server import jobs
from server.jobs import queries, registry
from server.jobs.models import OutboxJob

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def run_outbox_job(outbox_id: int):
    """The RQ job: run the outbox row's job (by its registered name), then delete the row.

    A row that is gone was finished by an earlier delivery: nothing to do.
    """
    app = jobs.job_app()
    with app.app_context():
        sessionmaker = app.extensions["notoneless.db"].sessionmaker
        with sessionmaker() as session:
            row = session.get(OutboxJob, outbox_id)
            if row is None:
                log.info("outbox job %s already done", outbox_id)
                return None
            job, args = registry.get(row.function), list(row.args)
        result = job.run(*args)
        with sessionmaker() as session, session.begin():
            queries.delete_row(session, outbox_id)
        return result


def sweep(app=None, *, now: dt.datetime | None = None, grace_seconds: int | None = None,
          stale_seconds: int | None = None) -> dict:
    """Deliver what Redis lost or never got; return counts by what was done."""
    app = app or current_app._get_current_object()
    now = now or dt.datetime.now(dt.UTC)
    # OUTBOX_GRACE_SECONDS: the request that committed a row delivers it itself within this;
    # OUTBOX_STALE_SECONDS: a started job silent this long has lost its worker.
    grace = dt.timedelta(seconds=app.config["OUTBOX_GRACE_SECONDS"] if grace_seconds is None else grace_seconds)
    stale = dt.timedelta(seconds=app.config["OUTBOX_STALE_SECONDS"] if stale_seconds is None else stale_seconds)
    counts = {"delivered": 0, "redelivered": 0, "waiting": 0, "given_up": 0, "cleared": 0}
    connection = jobs.redis_connection(app)
    with app.extensions["notoneless.db"].sessionmaker() as session, session.begin():
        rows = queries.rows_to_sweep(session, now - grace)
        for row in rows:
            outcome = _sweep_one(session, app, connection, row, now, stale)
            counts[outcome] += 1
    if any(counts[k] for k in ("delivered", "redelivered", "given_up")):
        log.info("outbox sweep: %s", counts)
    return counts


def _sweep_one(session: Session, app, connection, row: OutboxJob, now: dt.datetime, stale: dt.timedelta) -> str:
    q = jobs.queue(row.queue, app)
    try:
        job = Job.fetch(f"outbox-{row.id}-{row.attempts}", connection=connection)
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        job, status = None, None
    if job is None:
        jobs.deliver(q, row.id, row.attempts, row.options)
        _mark(session, row, row.attempts, now)
        return "delivered"
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return "waiting"
    if status == JobStatus.FINISHED:
        queries.delete_row(session, row.id)
        return "cleared"
    if status == JobStatus.STARTED:
        beat = job.last_heartbeat or job.started_at
        if beat is not None and (beat if beat.tzinfo else beat.replace(tzinfo=dt.UTC)) > now - stale:
            return "waiting"
    if row.attempts + 1 >= MAX_ATTEMPTS:
        return "given_up"
    jobs.deliver(q, row.id, row.attempts + 1, row.options)
    _mark(session, row, row.attempts + 1, now)
    return "redelivered"


def _mark(session: Session, row: OutboxJob, attempts: int, now: dt.datetime) -> None:
    queries.mark_delivered(session, row.id, attempts, now)


def sweep_quietly(app) -> None:
    """The worker's periodic sweep: a Redis or database outage is reported, not raised."""
    try:
        with app.app_context():
            sweep(app)
    except RedisError as exc:
        log.warning("outbox sweep skipped: Redis unavailable (%s)", exc)
    except Exception:
        log.exception("outbox sweep failed")
