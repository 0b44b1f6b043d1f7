"""Background jobs on RQ: separate queues, enqueued only after the transaction commits.

Three queues so that a long import never starves a notice or a tile refresh. A job is a
module-level function that takes ids (never ORM objects) and is safe to run twice.
"""

from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

QUEUES = ("imports", "reports", "maps")


def redis_connection(app=None) -> Redis:
    app = app or current_app
    conn = app.extensions.get("notoneless.redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["notoneless.redis"] = conn
    return conn


def queue(name: str, app=None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    app = app or current_app
    return Queue(app.config["RQ_QUEUE_PREFIX"] + name, connection=redis_connection(app))


def enqueue_after_commit(session: Session, queue_name: str, func, *args, **kwargs) -> None:
    """Enqueue `func(*args)` once `session` commits; drop it if the session rolls back.

    Enqueuing inside the transaction would let a fast worker look for rows that are not
    committed yet (or never will be): the race that microblog's tutorial code has.
    """
    q = queue(queue_name)
    session.info.setdefault("after_commit_jobs", []).append((q, func, args, kwargs))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for q, func, args, kwargs in session.info.pop("after_commit_jobs", []):
        q.enqueue(func, *args, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint inside the request keeps the request's jobs; the outermost
    # transaction rolling back drops them with the rows they were about.
    if previous_transaction.parent is None:
        session.info.pop("after_commit_jobs", None)
