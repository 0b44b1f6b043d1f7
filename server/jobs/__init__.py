"""Background jobs on RQ: separate queues, an outbox in PostgreSQL, delivery after commit.

Three queues so that a long import never starves a notice or a tile refresh. A job is a
module-level function that takes ids (never ORM objects) and is safe to run twice.

A job is first a row of `job_outbox`, written in the transaction that asks for it, and is
handed to Redis only once that transaction commits: a fast worker never looks for rows that
are not committed yet, and a Redis that is down at that moment loses nothing (the worker's
outbox sweep delivers the row once Redis is back; see `server.jobs.outbox`).
"""

from __future__ import annotations

import logging

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.jobs.models import OutboxJob

log = logging.getLogger(__name__)

QUEUES = ("imports", "reports", "maps")


def job_app():
    """The app a job runs in: the worker's (`notoneless worker`), or one built from the
    environment when a bare `rq worker` started the job."""
    try:
        return current_app._get_current_object()
    except RuntimeError:
        from server import create_app

        return create_app()


def redis_connection(app=None) -> Redis:
    app = app or current_app
    conn = app.extensions.get("notoneless.redis")
    if conn is None:
        # Short timeouts: a request that delivers a job after its commit must not hang on a
        # Redis that went away; the outbox delivers it later.
        conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        app.extensions["notoneless.redis"] = conn
    return conn


def queue(name: str, app=None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    app = app or current_app
    return Queue(app.config["RQ_QUEUE_PREFIX"] + name, connection=redis_connection(app))


def enqueue_after_commit(session: Session, name: str, *args, description: str | None = None) -> None:
    """Ask for the job `name` (server/jobs/registry.py) to run with `args` once `session` commits.

    The outbox row is part of the transaction: it disappears with a rollback and survives a
    commit even if Redis is down.
    """
    from server.jobs import registry

    job = registry.get(name)
    q = queue(job.queue)
    # RQ's listings show the outbox runner; the description says what it runs.
    description = description or f"{name}({', '.join(map(repr, args))})"
    options = {"description": description} | ({"job_timeout": job.timeout} if job.timeout else {})
    row = OutboxJob(queue=job.queue, function=name, args=list(args), options=options)
    session.add(row)
    session.info.setdefault("outbox_jobs", []).append((q, row))


def deliver(q: Queue, job_id: int, attempt: int, options: dict) -> None:
    """Hand an outbox row to RQ under an id that is the same for the same delivery attempt."""
    from server.jobs.outbox import run_outbox_job

    q.enqueue(run_outbox_job, job_id, job_id=f"outbox-{job_id}-{attempt}",
              job_timeout=options.get("job_timeout"), description=options.get("description"))


@event.listens_for(Session, "after_commit")
def _deliver_committed(session: Session) -> None:
    for q, row in session.info.pop("outbox_jobs", []):
        try:
            deliver(q, row.id, 0, row.options)
        except RedisError as exc:
            # The transaction is committed and the client will hear so; the job waits in the
            # outbox for the worker's sweep.
            log.warning("job %s (%s) left in the outbox: Redis unavailable (%s)", row.id, row.function, exc)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint inside the request keeps the request's jobs; the outermost
    # transaction rolling back drops them with the rows they were about.
    if previous_transaction.parent is None:
        session.info.pop("outbox_jobs", None)
