"""Which workers are alive, told by the workers themselves every few seconds.

RQ's own heartbeat is no measure of life: an idle worker blocks on Redis for up to
worker_ttl - 15 s (405 s by default) between heartbeats, so any threshold short enough to notice a
dead worker reports idle ones dead, and one long enough keeps a killed worker "up" for minutes.
Each `notoneless worker` instead keeps a key of its own alive from the thread that sweeps the
outbox, which runs whether the worker is idle or busy with a job; the key expires three sweeps
after the worker stops answering, so /health tells the truth within seconds either way.
"""

from __future__ import annotations

import json
import os
import socket
import time

from redis import Redis

_KEY = "notoneless:worker:"


def name() -> str:
    """This process's worker name: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ttl_for(sweep_seconds: float) -> int:
    return max(3, int(3 * sweep_seconds + 0.999))


def announce(connection: Redis, prefix: str, worker: str, queues: list[str], ttl: int) -> None:
    """Say that `worker` serves `queues`, for the next `ttl` seconds."""
    connection.set(prefix + _KEY + worker, json.dumps({"name": worker, "queues": queues, "at": time.time()}), ex=ttl)


def withdraw(connection: Redis, prefix: str, worker: str) -> None:
    connection.delete(prefix + _KEY + worker)


def present(connection: Redis, prefix: str) -> list[dict]:
    """The workers whose announcement has not expired."""
    keys = list(connection.scan_iter(match=prefix + _KEY + "*", count=100))
    values = connection.mget(keys) if keys else []
    return sorted((json.loads(v) for v in values if v), key=lambda w: w["name"])
