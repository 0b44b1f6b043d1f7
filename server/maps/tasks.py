"""Visit lists: which doors a team knocks on next, in what order, and their GPX/KML exports."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.audit import service as audit
from server.errors import DomainError
from server.maps import builds, queries, routing

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

def natural(text: str | None) -> tuple:
    """组/号 in their order as numbers: 2组 before 10组, 号 9 before 10 (as the register sorts them)."""
    parts = re.split(r"(\d+)", text or "")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


# "…北陆社区2组33号": the 组 and the door's 号 as the address writes them. The roster's 户号
# (0010020003) numbers registrations, not doors, so the address's 号 comes first where it has one.
_DOOR = re.compile(r"(\d+)\s*组\s*(\d+)\s*号")


def door(group: str | None, number: str | None, address: str | None) -> tuple[str | None, str | None]:
    """The household's (组, 号): from its address where it names both, else the roster's 组 and 户号."""
    found = _DOOR.search(address or "")
    if found:
        return f"{found[1]}组", found[2]
    return group, number


def surveyed_point(r) -> bool:
    """A point someone stood at: an import's village centre is no place to walk to."""
    return r.lon is not None and not r.location_approximate


def plan(rows, start: routing.Point, time_limit_s: float = 1.0, progress=None) -> list[dict]:
    """Order candidates tier by tier; each tier's walk starts where the previous one ended.

    Within a tier the households with a surveyed GPS point are walked (OR-Tools); the ones
    without (never surveyed, or only at their village's centre) follow in 组/号 order,
    village by village, as the roster numbers the doors.
    """
    tasks, here, order = [], start, 0
    total = len(rows)
    for tier_name, tier in TIERS.items():
        members = [r for r in rows if r.priority == tier_name]
        located = [r for r in members if surveyed_point(r)]
        unlocated = sorted((r for r in members if not surveyed_point(r)),
                           key=lambda r: (r.village_code, *map(natural, door(r.group_name, r.household_number,
                                                                              r.address)), str(r.id)))
        points = [(r.lon, r.lat) for r in located]
        walk = [located[i] for i in routing.order_route(here, points, time_limit_s)] if located else []
        if walk:
            here = (walk[-1].lon, walk[-1].lat)
        for r in walk + unlocated:
            order += 1
            tasks.append({"household_id": r.id, "village_code": r.village_code, "priority": tier,
                          "reason": _reason(r), "route_order": order})
        if progress is not None:
            progress(order, total)
    return tasks


def _origin(session: Session, villages: list[str], start: dict | None) -> routing.Point:
    if start is not None:
        return (start["lon"], start["lat"])
    centre = queries.village_centroid(session, villages[0])
    return (centre[0], centre[1]) if centre and centre[0] is not None else (0.0, 0.0)


def build(session: Session, team_id: int, start: dict | None = None, report=None) -> int:
    """Rebuild a team's open tasks (the job's work and the synchronous request's); returns their count.

    `report(phase, done, total)` hears how far it got. The asker was checked by the caller; the
    list is the team's whole villages, whoever rebuilds it (a town supervisor, its leader).
    """
    report = report or (lambda *a: None)
    team, villages = queries.team(session, team_id)
    if team is None or not villages:
        return 0
    queries.lock_team_list(session, team_id)
    report("reading", 0, None)
    rows = queries.visit_candidates(session, Scope(True), villages)
    report("routing", 0, len(rows))
    tasks = plan(rows, _origin(session, villages, start), progress=lambda done, total: report("routing", done, total))
    report("saving", len(tasks), len(rows))
    queries.save_tasks(session, team_id, tasks)
    session.flush()
    return len(tasks)


def generate(session: Session, scope: Scope, team_id: int, start: dict | None) -> list:
    """Rebuild a team's open tasks in walking order from `start` (default: its first village's centre)."""
    _team_in_scope(session, scope, team_id, manage=True)
    build(session, team_id, start)
    return list_tasks(session, scope, team_id, None)


def enqueue_build(session: Session, scope: Scope, app, team_id: int) -> dict:
    """Queue the build of a team's list once this request commits; a build still waiting is not queued twice."""
    import uuid

    from server import jobs

    _team_in_scope(session, scope, team_id, manage=True)
    now = build_status(session, scope, app, team_id)
    if now["status"] != "queued":
        token = uuid.uuid4().hex
        jobs.enqueue_after_commit(session, builds.JOB, team_id, token,
                                  description=f"{builds.JOB}(team {team_id})")
        session.flush()
        now = build_status(session, scope, app, team_id)
    return now


def build_status(session: Session, scope: Scope, app, team_id: int) -> dict:
    _team_in_scope(session, scope, team_id)
    answer = builds.status(builds.read(app, team_id), queries.pending_builds(session, builds.JOB, team_id))
    counts = queries.task_counts(session, team_id)
    return {"team_id": team_id, **answer, "tasks_open": counts[0], "tasks_done": counts[1]}


def visit_lists(session: Session, scope: Scope) -> list[dict]:
    """The teams whose lists the asker reads, with their villages and whether the asker may rebuild them."""
    teams = queries.teams_in_scope(session, scope)
    villages: dict[int, list] = {}
    for team_id, code, name in queries.villages_of_teams(session, [t.id for t in teams]):
        villages.setdefault(team_id, []).append({"code": code, "name": name})
    return [{**t._asdict(), "villages": villages.get(t.id, []), "manages": scope.manages_team(t.id)}
            for t in teams]


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

def lines(session: Session, viewer: str, team_id: int) -> list[dict]:
    """The open list as documents show it: route order, 组/号, address, head, phone, reason in Chinese.

    No ID number is read at all; the phone passes disclosure.py as on every other page.
    """
    from server import disclosure

    found = []
    for r in queries.tasks_of_team(session, team_id, "open"):
        shown = disclosure.show(viewer, "household", {"head_name": r.head_name, "phone": r.phone,
                                                      "address": r.address})
        located = r.lon is not None and not r.location_approximate
        found.append({
            "id": r.id, "household_id": r.household_id, "route_order": r.route_order,
            "village_code": r.village_code, "village_name": r.village_name,
            "group_name": r.group_name, "household_number": r.household_number,
            "place": group_number(*door(r.group_name, r.household_number, r.address)),
            "address": shown.get("address"), "head_name": shown.get("head_name"), "phone": shown.get("phone"),
            "reason": r.reason, "reason_label": REASON_LABELS.get(r.reason, r.reason),
            "located": located, "lon": r.lon if located else None, "lat": r.lat if located else None,
        })
    return found


def group_number(group: str | None, number: str | None) -> str:
    """组/号 as a team reads them: "3组12号"; the roster writes 组 sometimes and 号 rarely."""
    group = (group or "").strip()
    number = (number or "").strip()
    text = group + ("" if not group or group.endswith("组") else "组")
    return text + (number + ("" if number.endswith("号") else "号") if number else "")


EXPORT_TYPES = {"gpx": "application/gpx+xml", "kml": "application/vnd.google-earth.kml+xml",
                "pdf": "application/pdf",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export(session: Session, scope: Scope, person, team_id: int, fmt: str, remote_addr: str | None,
           today=None) -> tuple[bytes | str, str]:
    """The team's open list as GPX, KML, PDF or XLSX (route order; heads' names and addresses,
    never ID numbers); the export is in the audit trail with every household in it."""
    from server import disclosure

    team, villages = _team_in_scope(session, scope, team_id, manage=True)
    rows = lines(session, disclosure.viewer_of(person), team_id)
    audit.record_read(session, person.id, "export", f"tasks_{fmt}", str(team_id),
                      endpoint=f"/api/v1/teams/{team_id}/tasks.{fmt}", filters={},
                      record_ids=[r["household_id"] for r in rows], record_count=len(rows),
                      remote_addr=remote_addr, detail={"format": fmt})
    if fmt in ("pdf", "xlsx"):
        from server.maps import documents
        from server.reports.sheets import beijing_today

        names = queries.village_names(session, villages)
        heading = documents.Heading(team=team.name, villages=[names[c] for c in villages if c in names],
                                    on=today or beijing_today())
        body = documents.pdf(heading, rows) if fmt == "pdf" else documents.xlsx(heading, rows)
        return body, EXPORT_TYPES[fmt]
    located = [r for r in rows if r["located"]]
    body = _gpx(team.name, located, len(rows)) if fmt == "gpx" else _kml(team.name, located, len(rows))
    return body, EXPORT_TYPES[fmt]


def _label(r) -> str:
    return f"{r['route_order']}. {r['head_name'] or ''}（{r['village_name']}{r['place']}）"


def _desc(r) -> str:
    parts = [f"地址：{r['address'] or r['village_name'] + r['place']}", f"原因：{r['reason_label']}"]
    if r["phone"]:
        parts.append(f"电话：{r['phone']}")
    return "；".join(parts)


def _unlocated_note(located: int, total: int) -> str:
    missing = total - located
    return f"另有{missing}户尚无定位，按组/号顺序见走访清单（PDF/XLSX）" if missing else "全部有定位"


def _gpx(name: str, rows, total: int) -> str:
    points = "".join(
        f'<rtept lat="{r["lat"]:.6f}" lon="{r["lon"]:.6f}"><name>{escape(_label(r))}</name>'
        f"<desc>{escape(_desc(r))}</desc></rtept>"
        for r in rows)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="notoneless" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<rte><name>{escape(name)}</name><desc>{escape(_unlocated_note(len(rows), total))}</desc>"
            f"{points}</rte></gpx>\n")


def _kml(name: str, rows, total: int) -> str:
    marks = "".join(
        f"<Placemark><name>{escape(_label(r))}</name><address>{escape(r['address'] or '')}</address>"
        f"<description>{escape(_desc(r))}</description>"
        f"<Point><coordinates>{r['lon']:.6f},{r['lat']:.6f}</coordinates></Point></Placemark>"
        for r in rows)
    line = " ".join(f"{r['lon']:.6f},{r['lat']:.6f}" for r in rows)
    route = (f"<Placemark><name>{escape(name)}</name><LineString><coordinates>{line}</coordinates></LineString>"
             "</Placemark>") if len(rows) > 1 else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>{escape(name)}</name><description>{escape(_unlocated_note(len(rows), total))}</description>"
            f"{route}{marks}</Document></kml>\n")
