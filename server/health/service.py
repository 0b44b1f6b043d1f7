"""Check each part the product needs; a part that is down is reported, never raised."""

from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.health import queries
from server.jobs import presence


def check(session: Session, redis: Redis, queue_names: list[str], prefix: str = "") -> dict:
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
        # Each worker's own announcement, refreshed every sweep (server/jobs/presence.py).
        alive = [{"name": w["name"], "queues": w["queues"]} for w in presence.present(redis, prefix)]
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
