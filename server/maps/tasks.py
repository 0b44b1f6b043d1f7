"""Visit lists: which doors a team knocks on next, in what order, and their GPX/KML exports."""

from __future__ import annotations

from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.audit import service as audit
from server.errors import DomainError
from server.maps import queries, routing

# Tiers of campaign.md's "who gets priority", most urgent first: children found out of school,
# then the priority groups, then households nobody has surveyed yet.
TIERS = {"out_of_school": 1, "priority_group": 2, "unsurveyed": 3}

def _reason(row) -> str:
    if row.priority == "out_of_school":
        return "out_of_school"
    if row.priority == "priority_group":
        for flag, reason in ((row.vulnerable, "vulnerable_family"), (row.disabled, "disabled"),
                             (row.left_behind, "left_behind"), (row.migrant, "migrant")):
            if flag:
                return reason
    return "unsurveyed"

def _team_in_scope(session: Session, scope: Scope, team_id: int, *, manage: bool = False):
    team, villages = queries.team(session, team_id)
    # A team whose list the asker does not read (or, to rebuild or export it, manage) does not
    # exist for them: the other line's team over the same villages included.
    allowed = scope.manages_team(team_id) if manage else scope.reads_team(team_id)
    if team is None or not villages or not allowed:
        raise DomainError("request.not_found")
    return team, villages

def plan(rows, start: routing.Point, time_limit_s: float = 1.0) -> list[dict]:
    """Order candidates tier by tier; each tier's walk starts where the previous one ended."""
    tasks, here, order = [], start, 0
    for tier_name, tier in TIERS.items():
        members = [r for r in rows if r.priority == tier_name]
        located = [r for r in members if r.lon is not None]
        unlocated = [r for r in members if r.lon is None]
        points = [(r.lon, r.lat) for r in located]
        walk = [located[i] for i in routing.order_route(here, points, time_limit_s)] if located else []
        if walk:
            here = (walk[-1].lon, walk[-1].lat)
        # households without a point yet go last in their tier, in village order
        for r in walk + unlocated:
            order += 1
            tasks.append({"household_id": r.id, "village_code": r.village_code, "priority": tier,
                          "reason": _reason(r), "route_order": order})
    return tasks

def generate(session: Session, scope: Scope, team_id: int, start: dict | None) -> list:
    """Rebuild a team's open tasks in walking order from `start` (default: its first village's centre)."""
    _team, villages = _team_in_scope(session, scope, team_id, manage=True)
    if start is not None:
        origin = (start["lon"], start["lat"])
    else:
        centre = queries.village_centroid(session, villages[0])
        origin = (centre[0], centre[1]) if centre and centre[0] is not None else (0.0, 0.0)
    # The list is the team's whole villages, whoever rebuilds it (a town supervisor, its leader).
    rows = queries.visit_candidates(session, Scope(True), villages)
    queries.save_tasks(session, team_id, plan(rows, origin))
    session.flush()
    return list_tasks(session, scope, team_id, None)

def list_tasks(session: Session, scope: Scope, team_id: int, status: str | None) -> list:
    _team_in_scope(session, scope, team_id)
    return queries.tasks_of_team(session, team_id, status)

def enqueue_town(session: Session, scope: Scope, town_code: str) -> dict:
    """Queue the rebuild of every team's list in a town, once this request commits."""
    from server import jobs

    teams = queries.teams_of_town(session, town_code)
    if not teams or not all(scope.manages_team(t) for t in teams):
        raise DomainError("request.not_found")
    jobs.enqueue_after_commit(session, "maps.regenerate_town_tasks", town_code)
    return {"town_code": town_code, "teams": len(teams), "queued": True}


REASON_LABELS = {"out_of_school": "疑似失学辍学", "vulnerable_family": "五种弱势家庭", "disabled": "残疾儿童",
                 "left_behind": "留守儿童", "migrant": "随迁子女", "unsurveyed": "未走访"}

def export(session: Session, scope: Scope, person, team_id: int, fmt: str, remote_addr: str | None) -> tuple[str, str]:
    """The team's open tasks as GPX or KML (route order; heads' names, never ID numbers)."""
    team, _ = _team_in_scope(session, scope, team_id, manage=True)
    rows = [r for r in queries.tasks_of_team(session, team_id, "open") if r.lon is not None]
    audit.record(session, person.id, "export", f"tasks_{fmt}", str(team_id), remote_addr=remote_addr, count=len(rows))
    if fmt == "gpx":
        return _gpx(team.name, rows), "application/gpx+xml"
    return _kml(team.name, rows), "application/vnd.google-earth.kml+xml"

def _label(r) -> str:
    return f"{r.route_order}. {r.head_name or ''}（{r.village_name}）"

def _gpx(name: str, rows) -> str:
    points = "".join(
        f'<rtept lat="{r.lat:.6f}" lon="{r.lon:.6f}"><name>{escape(_label(r))}</name>'
        f"<desc>{escape(REASON_LABELS.get(r.reason, r.reason))}</desc></rtept>"
        for r in rows)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="notoneless" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<rte><name>{escape(name)}</name>{points}</rte></gpx>\n")

def _kml(name: str, rows) -> str:
    marks = "".join(
        f"<Placemark><name>{escape(_label(r))}</name><description>{escape(REASON_LABELS.get(r.reason, r.reason))}"
        f"</description><Point><coordinates>{r.lon:.6f},{r.lat:.6f}</coordinates></Point></Placemark>"
        for r in rows)
    line = " ".join(f"{r.lon:.6f},{r.lat:.6f}" for r in rows)
    route = (f"<Placemark><name>{escape(name)}</name><LineString><coordinates>{line}</coordinates></LineString>"
             "</Placemark>") if len(rows) > 1 else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>{escape(name)}</name>{route}{marks}</Document></kml>\n")
