"""Where a visit list's background build stands: a small Redis hash per team, written by the job.

The request that asks for a build writes an outbox row (server/jobs) carrying a fresh token;
the job writes its phase and counts under that token while it runs, on Redis, so the page that
polls sees them before the job's transaction commits. What the page is told:

- an outbox row of this team is pending and Redis holds nothing of its token: queued;
- Redis holds the token's state: running (with phase and counts), done or failed;
- no pending row: the last state Redis kept (done/failed), or idle.

Redis losing the hash loses only the progress: the list itself is in PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

JOB = "maps.build_team_tasks"
TTL_SECONDS = 7 * 24 * 3600
PHASES = ("reading", "routing", "saving", "done")


def _key(app, team_id: int) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}visit-list-build:{team_id}"


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write(app, team_id: int, token: str, **fields) -> None:
    """Record the build's state; a Redis outage costs the progress display, never the build."""
    from server import jobs

    values = {"token": token, **{k: "" if v is None else str(v) for k, v in fields.items()}}
    try:
        connection = jobs.redis_connection(app)
        key = _key(app, team_id)
        pipe = connection.pipeline()
        pipe.hset(key, mapping=values)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()
    except RedisError as exc:
        log.warning("visit list build %s of team %s: progress not recorded (%s)", token, team_id, exc)


def read(app, team_id: int) -> dict:
    from server import jobs

    try:
        raw = jobs.redis_connection(app).hgetall(_key(app, team_id))
    except RedisError as exc:
        log.warning("visit list build of team %s: progress unavailable (%s)", team_id, exc)
        return {}
    return {k.decode(): v.decode() for k, v in raw.items()}


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def status(state: dict, pending: list) -> dict:
    """The answer to the page: `state` from Redis, `pending` the team's unfinished outbox rows."""
    tokens = [row.args[1] for row in pending if len(row.args) > 1]
    known = state.get("token")
    if tokens and known not in tokens:
        # asked for, committed, and no worker has started it yet
        requested = pending[0].created_at
        return {"status": "queued", "phase": None, "done": None, "total": None,
                "requested_at": requested, "started_at": None, "finished_at": None, "error": None}
    if not state:
        return {"status": "idle", "phase": None, "done": None, "total": None, "requested_at": None,
                "started_at": None, "finished_at": None, "error": None}
    return {"status": state.get("status") or "running", "phase": state.get("phase") or None,
            "done": _int(state.get("done")), "total": _int(state.get("total")),
            "requested_at": state.get("requested_at") or None, "started_at": state.get("started_at") or None,
            "finished_at": state.get("finished_at") or None, "error": state.get("error") or None}
