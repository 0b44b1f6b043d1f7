"""Check each part the product needs; a part that is down is reported, never raised."""

from __future__ import annotations

import datetime as dt

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.health import queries

# RQ workers write a heartbeat every few seconds (worker_ttl 420 s by default, heartbeat at
# most every 90 s); one older than this is taken as dead.
WORKER_HEARTBEAT_MAX_AGE = dt.timedelta(seconds=120)


def check(session: Session, redis: Redis, queue_names: list[str]) -> dict:
    report: dict = {}
    try:
        queries.database_now(session)
        report["database"] = {"status": "up"}
        version = queries.postgis_version(session)
        report["postgis"] = {"status": "up" if version else "down", "version": version}
    except SQLAlchemyError as exc:
        session.rollback()
        report["database"] = {"status": "down", "detail": type(exc).__name__}
        report["postgis"] = {"status": "unknown", "version": None}
    try:
        redis.ping()
        report["redis"] = {"status": "up"}
        now = dt.datetime.now(dt.UTC)
        alive = []
        for worker in Worker.all(connection=redis):
            beat = worker.last_heartbeat
            if beat is not None and beat.tzinfo is None:
                beat = beat.replace(tzinfo=dt.UTC)
            if beat is not None and now - beat <= WORKER_HEARTBEAT_MAX_AGE:
                alive.append({"name": worker.name, "queues": worker.queue_names()})
        listening = {q for w in alive for q in w["queues"]}
        report["worker"] = {
            "status": "up" if alive and set(queue_names) <= listening else "down",
            "workers": alive,
            "queues_without_worker": sorted(set(queue_names) - listening),
        }
    except RedisError as exc:
        report["redis"] = {"status": "down", "detail": type(exc).__name__}
        report["worker"] = {"status": "unknown", "workers": [], "queues_without_worker": queue_names}
    report["status"] = "up" if all(report[k]["status"] == "up" for k in ("database", "postgis", "redis", "worker")) else "degraded"
    return report
