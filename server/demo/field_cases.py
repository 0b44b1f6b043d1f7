"""The cases of the field week: each opened the day a tablet confirmed its child out of school,
then the persuasion visits (劝返走访) its team's tablet recorded and the steps they led to.

The visits are pushed like any tablet's; the steps are the cases service's, taken by whom the
state machine says (the team leader starts persuading, the town government escalates with a
限期, the school confirms a return), each dated the day it was taken. Cases in turn: one
waits for its first visit, one is being persuaded, one was escalated with a 限期 that has run
out (overdue), one waits for its school, one ended returned, one was escalated with a 限期
still ahead.
"""

from __future__ import annotations

import collections
import datetime as dt

from server.accounts.scope import scope_of
from server.campaigns import school_age
from server.cases import queries as case_queries
from server.cases import service as cases
from server.demo import queries as demo_queries
from server.demo.generator import _uuid
from server.demo.tablets import at

PLANS = ("identified", "persuading", "escalated_overdue", "waiting_for_school", "returned", "escalated_on_time")
OVERDUE_DEADLINE_AGO = 8  # the 限期 of an overdue case ran out this many days before today
ON_TIME_DEADLINE_AHEAD = 10

_NOTES = {
    "refused": "家长认为孩子不愿上学，暂不同意返校，约定再访",
    "not_found": "家中无人，邻居称家长外出务工",
    "persuaded": "家长同意送孩子返校，学校已安排班级",
    "refused_again": "第二次走访仍拒绝返校，拟报区镇政府",
}


def follow_up(week) -> dict:
    """Date the cases the survey opened, push their visits, take their steps."""
    session, rng = week.session, week.rng
    planned, visits = [], 0
    for n, (case_id, child_id, village_code) in enumerate(
            c for c in demo_queries.open_cases(session) if c[1] in week.confirmed_at):
        opened = week.confirmed_at[child_id]
        case_queries.date_opening(session, case_id, opened)
        plan = PLANS[n % len(PLANS)]
        first = opened.date() + dt.timedelta(days=rng.randint(3, 6))
        second = first + dt.timedelta(days=rng.randint(5, 8))
        planned.append((case_id, child_id, village_code, plan, first, second))
        visits += _visits(week, child_id, village_code, plan, first, second)
    week.upload()
    for case_id, child_id, village_code, plan, first, second in planned:
        _steps(week, case_id, child_id, village_code, plan, first, second)
    counts = collections.Counter(p[3] for p in planned)
    return {"cases": len(planned), "visits": visits, **{f"cases_{k}": v for k, v in sorted(counts.items())}}


def _deadline(week, plan: str) -> dt.date:
    if plan == "escalated_overdue":
        return week.today - dt.timedelta(days=OVERDUE_DEADLINE_AGO)
    return week.today + dt.timedelta(days=ON_TIME_DEADLINE_AHEAD)


def _visits(week, child_id, village_code: str, plan: str, first: dt.date, second: dt.date) -> int:
    if plan == "identified":
        return 0
    team = week.team_of[(village_code, "government")]
    visitors = "、".join(week.people[u].full_name for u in team.members[:2])
    tablet = week.tablet(village_code, "government")
    rows = {
        "persuading": [(first, "refused", "revisit", None, "refused")],
        "escalated_overdue": [(first, "refused", "revisit", None, "refused"),
                              (second, "refused", "report_to_town", _deadline(week, plan), "refused_again")],
        "escalated_on_time": [(first, "refused", "revisit", None, "refused"),
                              (second, "refused", "report_to_town", _deadline(week, plan), "refused_again")],
        "waiting_for_school": [(first, "not_found", "revisit", None, "not_found"),
                               (second, "persuaded", "school_confirm", None, "persuaded")],
        "returned": [(first, "persuaded", "school_confirm", None, "persuaded")],
    }[plan]
    for day, outcome, next_step, deadline, note in rows:
        fields = {"visitors": visitors, "visit_date": day.isoformat(), "outcome": outcome,
                  "next_step": next_step, "note": _NOTES[note]}
        if deadline is not None:
            fields["deadline"] = deadline.isoformat()
        tablet.submit(week.rng, {"type": "visit", "id": str(_uuid(week.rng)), "base_version": None,
                                 "child_id": str(child_id), "fields": fields},
                      at(day, week.rng.randint(9, 17), week.rng.randrange(60)))
    return len(rows)


def _steps(week, case_id: int, child_id, village_code: str, plan: str, first: dt.date, second: dt.date) -> None:
    if plan == "identified":
        return
    session = week.session
    team = week.team_of[(village_code, "government")]
    leader = week.people[team.leader]
    leader_scope = scope_of(session, leader)
    cases.transition(session, leader_scope, leader, case_id, {"to": "persuading", "note": "第一次劝返走访"}, first,
                     at=at(first, 18, 0))
    if plan.startswith("escalated"):
        supervisor = week.supervisor(team.town_code)
        day = second + dt.timedelta(days=1)
        cases.transition(session, scope_of(session, supervisor), supervisor, case_id,
                         {"to": "escalated", "deadline": _deadline(week, plan), "note": "劝返无效，区镇政府责令限期入学"},
                         day, at=at(day, 10, 0))
    elif plan == "returned":
        school = _return_school(week, week.truth[child_id], village_code)
        cases.name_return_school(session, leader_scope, leader, case_id, {"school_id": school.id, "note": "家长同意返校"},
                                 first, at=at(first, 18, 5))
        day = first + dt.timedelta(days=3)
        body = {"to": "returned", "school_id": school.id, "return_date": day, "note": "学生已到校报到"}
        account = week.people[f"school{school.code[-6:]}"]
        scope = scope_of(session, account)
        if case_queries.case_in_scope(session, scope, case_id) is None:
            # A school sees the cases of the villages its students live in: a child from
            # elsewhere is recorded back by the bureau on the school's behalf (machine.py).
            account = week.people["city"]
            scope = scope_of(session, account)
        cases.transition(session, scope, account, case_id, body, day, at=at(day, 9, 0))


def _return_school(week, child, village_code: str):
    """The school a child goes back to: the special school for a severe disability, else its
    town's school of its stage (as the register would put it)."""
    schools = week.county.schools
    if child.disability and (child.disability_level or 4) <= 2:
        special = next((s for s in schools if s.stage == "special"), None)
        if special is not None:
            return special
    grade = school_age.expected_grade(child.birth_date, week.county.school_year) or 1
    stage = "primary" if grade <= 6 else "junior"
    town = village_code[:9] + "000"
    return next((s for s in schools if s.town_code == town and s.stage == stage),
                next(s for s in schools if s.stage == stage))
