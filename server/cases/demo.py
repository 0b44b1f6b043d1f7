"""Field results for the demo county, so that a fresh demo shows cases, overdue ones and rates.

The demo loads children as the cross-match leaves them (enrolled to confirm, or suspected out of
school); a real county's tablets then confirm. This plays that part: a deterministic third of the
suspected children are confirmed out of school, cases open, and some move up the ladder with a
town deadline that has already passed, as a county a few weeks into 督察整改 would look.
The full field week (GPS points, visits, conflicts, duplicates) is server/demo/field_week.py,
which scripts/run.sh plays; this shortcut needs no generated county.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.cases import queries, service
from server.cases.models import Case
from server.records import writer


def field_results(session: Session, today: dt.date) -> dict:
    if queries.any_case(session):
        # The field already spoke on an earlier run: only open what is missing.
        return {"cases_opened": service.open_cases(session, Scope(True), None)["opened"]}
    suspected = queries.suspected_children(session)
    confirmed = suspected[::3]  # every third, in id order: the same ones on every run
    for cid, born in confirmed:
        # Older children had been in school once (dropped out); the youngest never started.
        status = "dropped_out" if (today - born).days > 8 * 365 else "never_enrolled"
        # As a tablet's survey would: through the one writer (version, field states, audit).
        writer.change(session, None, None, "child", cid, {"enrollment_status": status}, demo="field results")
    # The database opened their cases as the statuses changed (the children_open_case trigger);
    # the service call catches any child confirmed before that trigger existed.
    service.open_cases(session, Scope(True), None)
    opened = queries.open_case_ids(session)
    escalated = 0
    confirmed_on = dt.datetime.combine(today - dt.timedelta(days=35), dt.time(9), dt.UTC)
    for n, case_id in enumerate(opened):
        # The field confirmed the child before the first visit and the town's 限期: a case is
        # never opened after its own deadline.
        queries.date_opening(session, case_id, confirmed_on)
        if n % 4 != 0:
            continue
        case = session.get(Case, case_id)
        started = today - dt.timedelta(days=30)
        rows = [{"case_id": case_id, "from_status": "identified", "to_status": "persuading", "person_id": None,
                 "note": "demo: 第一次劝返走访", "detail": {}, "at": started}]
        case.status = "persuading"
        if n % 8 == 0:
            # A 限期 set three weeks ago that ran out ten days ago: the case is overdue.
            case.status, case.deadline = "escalated", today - dt.timedelta(days=10)
            case.due_on = case.deadline
            escalated += 1
            rows.append({"case_id": case_id, "from_status": "persuading", "to_status": "escalated",
                         "person_id": None, "note": "demo: 报区镇政府，限期入学", "at": started + dt.timedelta(days=9),
                         "detail": {"deadline": case.deadline.isoformat()}})
        queries.add_events(session, rows)
    session.flush()
    return {"confirmed_out_of_school": len(confirmed), "cases_opened": len(opened),
            "escalated_overdue": escalated}
