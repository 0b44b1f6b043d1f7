"""The worker process: an RQ worker plus the outbox sweep, carried through Redis outages."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from redis.exceptions import RedisError
from rq import Worker

from server import jobs
from server.jobs import outbox, presence

log = logging.getLogger(__name__)


def _announce(app, worker: str, queue_names, ttl: int) -> None:
    try:
        presence.announce(jobs.redis_connection(app), app.config["RQ_QUEUE_PREFIX"], worker,
                          [jobs.queue(n, app).name for n in queue_names], ttl)
    except RedisError as exc:
        log.warning("could not announce the worker: Redis unavailable (%s)", exc)


def _sweeper(app, every: float, stop: threading.Event, worker: str, queue_names, ttl: int) -> None:
    while not stop.wait(every):
        _announce(app, worker, queue_names, ttl)  # alive, idle or busy: /health reads this
        outbox.sweep_quietly(app)


def run(app, queue_names, *, burst: bool = False) -> None:
    """Serve `queue_names` until stopped (or, with burst, until they are empty).

    The sweep runs beside the worker in a thread: it delivers jobs that Redis never got
    and redelivers jobs whose worker died. When Redis is unreachable the worker waits and
    starts again instead of exiting, so the jobs run once Redis is back.
    """
    every = app.config["OUTBOX_SWEEP_SECONDS"]
    stop = threading.Event()
    # RQ forks a work horse per job; the worker's own thread keeps using the pool meanwhile.
    os.register_at_fork(after_in_child=app.extensions["notoneless.db"].forget_inherited_connections)
    me, ttl = presence.name(), presence.ttl_for(every)
    if threading.current_thread() is threading.main_thread():
        # Until RQ installs its own handlers, a SIGTERM ends the worker through `finally`, which
        # withdraws its announcement, instead of leaving it for /health until it expires.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _announce(app, me, queue_names, ttl)
    sweeper = None
    if not burst:
        sweeper = threading.Thread(target=_sweeper, args=(app, every, stop, me, queue_names, ttl), daemon=True,
                                   name="outbox-sweep")
        sweeper.start()
    try:
        while True:
            outbox.sweep_quietly(app)
            try:
                worker = Worker([jobs.queue(n, app) for n in queue_names], connection=jobs.redis_connection(app),
                                job_monitoring_interval=app.config["JOB_HEARTBEAT_SECONDS"])
                # Returns when asked to stop (SIGTERM) or, with burst, when the queues are empty;
                # Redis errors while waiting for work it retries itself.
                worker.work(burst=burst, with_scheduler=False)
                return
            except RedisError as exc:
                log.warning("Redis unavailable (%s); the worker starts again in 2 s", exc)
                time.sleep(2)
    finally:
        stop.set()
        if sweeper is not None:
            sweeper.join(timeout=30)  # a sweep under way finishes first, or it would announce us again
        try:
            presence.withdraw(jobs.redis_connection(app), app.config["RQ_QUEUE_PREFIX"], me)
        except RedisError:
            pass  # the announcement expires by itself
