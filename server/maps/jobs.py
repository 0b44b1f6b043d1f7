"""Jobs of the "maps" queue: rebuilding every visit list of a town (a few seconds of routing)."""

from __future__ import annotations

from server.accounts.scope import Scope
from server.jobs.registry import job
from server.maps import builds, queries, tasks


@job("maps.regenerate_town_tasks", queue="maps")
def regenerate_town_tasks(session, town_code: str) -> dict:
    """Rebuild the visit list of every team of a town; safe to run twice (tasks are upserted)."""
    counts = {}
    # the job acts for the supervisor who asked, already checked; each team only ever gets
    # households of its own villages
    for team_id in queries.teams_of_town(session, town_code):
        counts[team_id] = len(tasks.generate(session, Scope(True), team_id, None))
    return counts


@job(builds.JOB, queue="maps", own_session=False)
def build_team_tasks(app, team_id: int, token: str) -> int:
    """Build one team's visit list in the background, its progress on Redis for the page.

    Safe to run twice: the tasks are upserted, and the builds of one team take turns (an
    advisory lock). The state is written as `done` only after the list is committed.
    """
    from server.db import database

    started = builds.now_text()

    def report(phase: str, done: int, total: int | None) -> None:
        builds.write(app, team_id, token, status="running", phase=phase, done=done, total=total,
                     started_at=started, finished_at=None, error=None)

    report("reading", 0, None)
    session = database().sessionmaker()
    try:
        count = tasks.build(session, team_id, None, report)
        session.commit()
    except Exception as exc:
        session.rollback()
        builds.write(app, team_id, token, status="failed", phase=None, started_at=started,
                     finished_at=builds.now_text(), error=type(exc).__name__)
        raise
    finally:
        session.close()
    builds.write(app, team_id, token, status="done", phase="done", done=count, total=count, started_at=started,
                 finished_at=builds.now_text(), error=None)
    return count
