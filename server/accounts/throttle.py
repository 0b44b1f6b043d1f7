"""Failed attempts per client address, for the doors that take a secret: logging in and
enrolling a tablet.

The login back-off (below) slows guessing one account's password; this stops one address
from trying many accounts (or many enrollment codes). Counters live in Redis, shared by every web
node, in fixed windows. If Redis is down the door stays open: refusing every login because
a counter is unreachable would stop the field work the counters protect.
"""

from __future__ import annotations

import hashlib
import logging
import time

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


# --- back-off of failed logins, per account ------------------------------------------------------
# A lockout after five wrong passwords let anyone lock the bureau's `city` account out (and only
# real usernames answered `auth.locked`, so it told which exist). Instead, failures make the next
# try wait, doubling from LOGIN_BACKOFF_FREE_ATTEMPTS on (1 s, 2 s, 4 s … at most
# LOGIN_BACKOFF_MAX_SECONDS), counted twice: for the account from addresses it never logged in
# from, and for the account from this one address. An address the account logged in from before
# (LOGIN_KNOWN_ADDRESS_DAYS) answers only to its own count, so a stranger's guessing never keeps
# the right password out from the clerk's office. Usernames are counted whether or not they
# exist (by a hash): an unknown one answers exactly like a known one.

def _account(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _backoff_keys(username: str) -> tuple[str, str, str]:
    prefix = f"{current_app.config['RQ_QUEUE_PREFIX']}login"
    account, address = _account(username), request.remote_addr or "unknown"
    return f"{prefix}:strangers:{account}", f"{prefix}:pair:{account}:{address}", f"{prefix}:known:{account}:{address}"


def _wait(failures: int, last: float, now: float) -> int:
    free, most = current_app.config["LOGIN_BACKOFF_FREE_ATTEMPTS"], current_app.config["LOGIN_BACKOFF_MAX_SECONDS"]
    if failures < free:
        return 0
    delay = min(2 ** min(failures - free, 30), most)
    return max(int(last + delay - now + 0.999), 0)


def check_login(username: str) -> None:
    """Refuse (429 auth.backoff, with Retry-After) a login tried before its back-off ran out."""
    strangers, pair, known = _backoff_keys(username)
    try:
        conn = redis_connection()
        counters = [pair] if conn.exists(known) else [strangers, pair]
        now = time.time()
        wait = 0
        for key in counters:
            failures, last = conn.hmget(key, "failures", "last")
            wait = max(wait, _wait(int(failures or 0), float(last or 0), now))
    except RedisError as exc:
        log.warning("login back-off unchecked: Redis unavailable (%s)", exc)
        return
    if wait:
        raise DomainError("auth.backoff", f"Too many wrong passwords; try again in {wait} seconds.",
                          headers={"Retry-After": str(wait)})


def login_failed(username: str) -> None:
    """Count a wrong password (or an unknown username) for the account and this address."""
    strangers, pair, known = _backoff_keys(username)
    keep = 2 * current_app.config["LOGIN_BACKOFF_MAX_SECONDS"] + 3600
    try:
        conn = redis_connection()
        counters = [pair] if conn.exists(known) else [strangers, pair]
        pipe = conn.pipeline()
        for key in counters:
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", time.time())
            pipe.expire(key, keep)
        pipe.execute()
    except RedisError as exc:
        log.warning("login back-off not counted: Redis unavailable (%s)", exc)


def login_succeeded(username: str) -> None:
    """Remember this address as the account's own and clear its count (the strangers' stays)."""
    _strangers, pair, known = _backoff_keys(username)
    try:
        pipe = redis_connection().pipeline()
        pipe.delete(pair)
        pipe.set(known, 1, ex=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"] * 86400)
        pipe.execute()
    except RedisError as exc:
        log.warning("login not remembered: Redis unavailable (%s)", exc)
