"""Failed attempts per client address, for the doors that take a secret: logging in and
enrolling a tablet.

The account lockout stops guessing one account's password; this stops one address from
trying many accounts (or many enrollment codes). Counters live in Redis, shared by every web
node, in fixed windows. If Redis is down the door stays open: refusing every login because
a counter is unreachable would stop the field work the counters protect.
"""

from __future__ import annotations

import logging

from flask import current_app, request
from redis.exceptions import RedisError

from server.errors import DomainError
from server.jobs import redis_connection

log = logging.getLogger(__name__)


def _key(kind: str) -> str:
    return f"{current_app.config['RQ_QUEUE_PREFIX']}throttle:{kind}:{request.remote_addr or 'unknown'}"


def _limits() -> tuple[int, int]:
    return current_app.config["FAILED_ATTEMPTS_PER_ADDRESS"], current_app.config["FAILED_ATTEMPTS_WINDOW_SECONDS"]


def check(kind: str) -> None:
    """Refuse (429 auth.rate_limited, with Retry-After) an address with too many failures."""
    limit, _window = _limits()
    try:
        conn = redis_connection()
        failures = int(conn.get(_key(kind)) or 0)
        if failures >= limit:
            wait = max(int(conn.ttl(_key(kind))), 1)
            raise DomainError("auth.rate_limited",
                              f"Too many failed attempts from this address; try again in {wait // 60 + 1} minutes.",
                              headers={"Retry-After": str(wait)})
    except RedisError as exc:
        log.warning("throttle %s unchecked: Redis unavailable (%s)", kind, exc)


def failed(kind: str) -> None:
    """Count one failure of this address; the window starts with its first failure."""
    _limit, window = _limits()
    try:
        pipe = redis_connection().pipeline()
        pipe.incr(_key(kind))
        pipe.expire(_key(kind), window, nx=True)
        pipe.execute()
    except RedisError as exc:
        log.warning("throttle %s not counted: Redis unavailable (%s)", kind, exc)
