"""The worker process: an RQ worker plus the outbox sweep, carried through Redis outages."""

from __future__ import annotations

import logging
import threading
import time

from redis.exceptions import RedisError
from rq import Worker

from server import jobs
from server.jobs import outbox

log = logging.getLogger(__name__)


def _sweeper(app, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        outbox.sweep_quietly(app)


def run(app, queue_names, *, burst: bool = False) -> None:
    """Serve `queue_names` until stopped (or, with burst, until they are empty).

    The sweep runs beside the worker in a thread: it delivers jobs that Redis never got
    and redelivers jobs whose worker died. When Redis is unreachable the worker waits and
    starts again instead of exiting, so the jobs run once Redis is back.
    """
    every = app.config["OUTBOX_SWEEP_SECONDS"]
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_sweeper, args=(app, every, stop), daemon=True, name="outbox-sweep").start()
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
