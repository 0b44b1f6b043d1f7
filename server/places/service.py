"""Towns and villages as people see them: with household and child counts, within scope."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.errors import not_found
from server.people import statuses
from server.places import queries


def _counts(households: tuple[int, int] | None, by_status: dict[str, int] | None) -> dict:
    households_total, surveyed = households or (0, 0)
    by_status = by_status or {}
    return {
        "households": households_total,
        "households_surveyed": surveyed,
        "children": sum(by_status.values()),
        "children_by_status": {s: by_status.get(s, 0) for s in statuses.ENROLLMENT_STATUSES},
        "out_of_school": sum(by_status.get(s, 0) for s in statuses.OUT_OF_SCHOOL),
    }


def list_towns(session: Session, scope: Scope) -> list[dict]:
    households = queries.household_counts(session, scope, by="town")
    children = queries.child_status_counts(session, scope, by="town")
    village_counts: dict[str, int] = {}
    for v in queries.villages(session, scope):
        village_counts[v.town_code] = village_counts.get(v.town_code, 0) + 1
    return [
        {"code": t.code, "name": t.name, "kind": t.kind, "villages": village_counts.get(t.code, 0),
         "counts": _counts(households.get(t.code), children.get(t.code))}
        for t in queries.towns(session, scope)
    ]


def _village_dict(v, households, children) -> dict:
    out = {
        "code": v.code, "name": v.name, "kind": v.kind, "town_code": v.town_code,
        "town_name": v.town_name,
        "centroid": None if v.lon is None else {"lon": v.lon, "lat": v.lat},
        "counts": _counts(households.get(v.code), children.get(v.code)),
    }
    if "boundary" in v._fields:
        out["boundary"] = json.loads(v.boundary) if v.boundary else None
    return out


def list_villages(session: Session, scope: Scope, town_code: str | None = None) -> list[dict]:
    households = queries.household_counts(session, scope, by="village", town_code=town_code)
    children = queries.child_status_counts(session, scope, by="village", town_code=town_code)
    return [_village_dict(v, households, children) for v in queries.villages(session, scope, town_code)]


def get_village(session: Session, scope: Scope, code: str) -> dict:
    # Out of scope and absent answer alike: a 404 does not tell a surveyor that it exists.
    rows = queries.villages(session, scope, code=code, with_boundary=True)
    if not rows:
        raise not_found("village")
    v = rows[0]
    households = queries.household_counts(session, scope, by="village", town_code=v.town_code)
    children = queries.child_status_counts(session, scope, by="village", town_code=v.town_code)
    return _village_dict(v, households, children)
