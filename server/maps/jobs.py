"""Jobs of the "maps" queue: rebuilding every visit list of a town (a few seconds of routing)."""

from __future__ import annotations

from server.accounts.scope import Scope
from server.jobs.registry import job
from server.maps import queries, tasks


@job("maps.regenerate_town_tasks", queue="maps")
def regenerate_town_tasks(session, town_code: str) -> dict:
    """Rebuild the visit list of every team of a town; safe to run twice (tasks are upserted)."""
    counts = {}
    # the job acts for the supervisor who asked, already checked; each team only ever gets
    # households of its own villages
    for team_id in queries.teams_of_town(session, town_code):
        counts[team_id] = len(tasks.generate(session, Scope(True), team_id, None))
    return counts
