"""Jobs by name: a decorator registers a job and owns its shell; domain code enqueues by name.

A service asks for `jobs.enqueue_after_commit(session, "reports.build_export", export.id)` and
never imports a job module, and a job module may call back into its services: the import runs
one way only (ODK Central's `lib/worker/jobs.js` maps event names to job functions the same
way). The worker loads the job modules listed here by name when it first needs one.

The shell is the same for every job and lives here once: the app the job runs in (the worker's,
or one built from the environment), an application context, a session of its own committed
when the work returns and closed whatever happens. The work itself is a plain function of a
session and ids, which the tests call inside their own transaction.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

# Every module that defines jobs. The worker imports them by name, so a job module is never
# imported by the code that enqueues its jobs.
JOB_MODULES = ("server.imports.jobs", "server.reports.jobs", "server.maps.jobs", "server.cases.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    queue: str
    run: Callable  # the shell: call it with the job's ids
    timeout: int | None = None


_JOBS: dict[str, Job] = {}


def job(name: str, *, queue: str, timeout: int | None = None, own_session: bool = True):
    """Register `work(session, *ids)` as the job `name` on `queue`; return the job's shell.

    With own_session=False the work is `work(app, *ids)` and handles its own transactions
    (an import commits its rows and writes its progress on separate connections).
    """
    from server.jobs import QUEUES

    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(work: Callable) -> Callable:
        @functools.wraps(work)
        def shell(*ids):
            from server.db import database
            from server.jobs import job_app

            app = job_app()
            with app.app_context():
                if not own_session:
                    return work(app, *ids)
                session = database().sessionmaker()
                try:
                    result = work(session, *ids)
                    session.commit()
                    return result
                finally:
                    session.close()

        known = _JOBS.get(name)
        if known is not None and known.run.__qualname__ != shell.__qualname__:
            raise ValueError(f"job {name!r} is registered twice")
        _JOBS[name] = Job(name, queue, shell, timeout)
        shell.job_name = name
        return shell

    return register


def get(name: str) -> Job:
    """The registered job `name` (loading the job modules on first use)."""
    if name not in _JOBS:
        load()
    try:
        return _JOBS[name]
    except KeyError:
        raise LookupError(f"no job is registered as {name!r}") from None


def load() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


def names() -> list[str]:
    load()
    return sorted(_JOBS)
