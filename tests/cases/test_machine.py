"""The case state machine and deadlines: pure, table-driven."""

import datetime as dt
import subprocess
import sys

import pytest

from server.cases import deadlines, machine
from server.cases.machine import Request
from tests.conftest import ROOT

TODAY = dt.date(2027, 6, 20)
SHA = "sha256:" + "a" * 64

ALLOWED = [
    ("identified", Request("persuading", "team_leader", TODAY)),
    ("identified", Request("persuading", "town_supervisor", TODAY)),
    ("persuading", Request("escalated", "town_supervisor", TODAY, deadline=dt.date(2027, 7, 5))),
    ("escalated", Request("notice_issued", "city", TODAY)),
    ("notice_issued", Request("judicial", "town_supervisor", TODAY)),
    ("persuading", Request("returned", "school", TODAY, school_id=7, own_school_id=7, return_date=TODAY)),
    ("escalated", Request("returned", "city", TODAY, school_name="外县某中学", return_date=TODAY)),
    ("persuading", Request("exempted", "team_leader", TODAY, reason="illness", evidence=SHA)),
    ("identified", Request("exempted", "town_supervisor", TODAY, reason="moved_away", evidence=SHA)),
    ("judicial", Request("exempted", "city", TODAY, reason="deceased")),
]

REFUSED = [
    # (current, request, code, field code)
    ("identified", Request("escalated", "town_supervisor", TODAY, deadline=dt.date(2027, 7, 5)),
     "cases.transition_not_allowed", "cases.transition_not_allowed"),
    ("returned", Request("persuading", "city", TODAY), "cases.transition_not_allowed", "cases.transition_not_allowed"),
    ("exempted", Request("returned", "city", TODAY, school_id=1, return_date=TODAY),
     "cases.transition_not_allowed", "cases.transition_not_allowed"),
    ("persuading", Request("identified", "city", TODAY), "cases.transition_not_allowed",
     "cases.transition_not_allowed"),
    ("persuading", Request("nonsense", "city", TODAY), "cases.transition_not_allowed", "cases.unknown_status"),
    ("persuading", Request("escalated", "team_leader", TODAY, deadline=dt.date(2027, 7, 5)),
     "auth.forbidden", "auth.forbidden"),
    ("identified", Request("persuading", "school", TODAY), "auth.forbidden", "auth.forbidden"),
    ("persuading", Request("returned", "team_leader", TODAY, school_id=7, return_date=TODAY),
     "auth.forbidden", "auth.forbidden"),
    ("identified", Request("persuading", "surveyor", TODAY), "auth.forbidden", "auth.forbidden"),
    ("persuading", Request("escalated", "town_supervisor", TODAY), "cases.missing_details",
     "cases.deadline_required"),
    ("persuading", Request("escalated", "town_supervisor", TODAY, deadline=TODAY), "cases.missing_details",
     "cases.deadline_in_past"),
    ("persuading", Request("returned", "school", TODAY, school_id=8, own_school_id=7, return_date=TODAY),
     "cases.missing_details", "cases.not_your_school"),
    ("persuading", Request("returned", "city", TODAY, school_id=8), "cases.missing_details",
     "cases.date_required"),
    ("persuading", Request("returned", "city", TODAY, return_date=TODAY), "cases.missing_details",
     "cases.school_required"),
    ("persuading", Request("returned", "city", TODAY, school_id=8, return_date=TODAY + dt.timedelta(days=1)),
     "cases.missing_details", "cases.date_in_future"),
    ("persuading", Request("exempted", "town_supervisor", TODAY, reason="illness"), "cases.missing_details",
     "cases.evidence_required"),
    ("persuading", Request("exempted", "town_supervisor", TODAY, reason="moved_away", evidence="a photo"),
     "cases.missing_details", "cases.evidence_required"),
    ("persuading", Request("exempted", "town_supervisor", TODAY), "cases.missing_details",
     "cases.reason_required"),
]


@pytest.mark.parametrize(("current", "request_"), ALLOWED)
def test_allowed_transitions(current, request_):
    assert machine.decide(current, request_) == machine.Decision(True)


@pytest.mark.parametrize(("current", "request_", "code", "field_code"), REFUSED)
def test_refused_transitions(current, request_, code, field_code):
    decision = machine.decide(current, request_)
    assert not decision.allowed
    assert decision.code == code
    assert field_code in {p.code for p in decision.problems}


def test_closed_cases_go_nowhere():
    for status in machine.CLOSED_STATUSES:
        for role in ("city", "town_supervisor", "team_leader", "school"):
            assert machine.allowed_next(status, role) == []


def test_allowed_next_for_the_page_buttons():
    assert machine.allowed_next("persuading", "team_leader") == ["exempted"]
    assert set(machine.allowed_next("persuading", "town_supervisor")) == {"escalated", "exempted"}
    assert set(machine.allowed_next("persuading", "school")) == {"returned"}


PHASES = deadlines.Phases(dt.date(2027, 6, 10), dt.date(2027, 7, 1), dt.date(2027, 7, 10))


@pytest.mark.parametrize(("status", "decided", "due"), [
    ("identified", None, dt.date(2027, 6, 30)),  # the end of 劝返复学: the day before 督察整改
    ("persuading", None, dt.date(2027, 6, 30)),
    ("escalated", dt.date(2027, 7, 5), dt.date(2027, 7, 5)),  # the town's 限期
    ("escalated", None, dt.date(2027, 7, 10)),  # no 限期: the end of 督察整改
    ("notice_issued", dt.date(2027, 7, 8), dt.date(2027, 7, 8)),
    ("judicial", dt.date(2027, 7, 8), None),
    ("returned", None, None),
    ("exempted", None, None),
])
def test_due_dates(status, decided, due):
    assert deadlines.due_on(status, PHASES, decided) == due


def test_overdue_starts_the_day_after_the_due_date():
    due = dt.date(2027, 6, 30)
    assert not deadlines.is_overdue(due, dt.date(2027, 6, 30))
    assert deadlines.is_overdue(due, dt.date(2027, 7, 1))
    assert not deadlines.is_overdue(None, dt.date(2030, 1, 1))
    assert deadlines.due_on("identified", None, None) is None


def test_the_rules_are_pure():
    # Loaded by path: importing `server` itself builds the Flask app factory.
    code = ("import importlib.util, sys\n"
            "for name in ('machine', 'deadlines'):\n"
            "    spec = importlib.util.spec_from_file_location(name, f'server/cases/{name}.py')\n"
            "    module = sys.modules[name] = importlib.util.module_from_spec(spec)\n"
            "    spec.loader.exec_module(module)\n"
            "print(any(m in sys.modules for m in ('flask', 'sqlalchemy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
