"""The case state machine, as a table: which step may follow which, who may take it, and what
evidence it needs. Pure: no Flask, no SQLAlchemy; the service applies the decision it returns.

    identified → persuading → returned (school + date, confirmed by the school)
                            → exempted (illness + certificate; moved away + receipt; deceased)
                            → escalated (to the town government, with a 限期 deadline)
                                → notice_issued → judicial
Returned and exempted close the case; a child who drops out again gets a new case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

STATUSES = {
    "identified": "已确认未入学/辍学",
    "persuading": "劝返中",
    "escalated": "已报区镇政府（限期）",
    "notice_issued": "已发书面通知",
    "judicial": "司法程序",
    "returned": "已复学",
    "exempted": "依规免于入学",
}
OPEN_STATUSES = ("identified", "persuading", "escalated", "notice_issued", "judicial")
CLOSED_STATUSES = ("returned", "exempted")

EXEMPTION_REASONS = {"illness": "因病缓学", "moved_away": "异地就读", "deceased": "死亡"}
# The evidence an exemption needs (campaign.md: each legitimate absence needs its proof).
EXEMPTION_EVIDENCE = {"illness": "certificate", "moved_away": "receipt", "deceased": None}

STAFF = ("city", "town_supervisor", "team_leader")
GOVERNMENT = ("city", "town_supervisor")

# (from, to) -> roles that may take the step. Escalating and what follows is the town
# government's act (the plan: failed persuasion "is reported to the town government, which sets
# a deadline"), so team leaders stop at persuasion. A return is the school's word: the school
# account confirms it; the bureau may record one on the school's behalf.
_RETURN_ROLES = ("school", "city")
_ANY_OPEN = OPEN_STATUSES
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("identified", "persuading"): STAFF,
    ("persuading", "escalated"): GOVERNMENT,
    ("escalated", "escalated"): GOVERNMENT,  # a new deadline after the first one passed
    ("escalated", "notice_issued"): GOVERNMENT,
    ("notice_issued", "notice_issued"): GOVERNMENT,  # the next notice of the ladder
    ("notice_issued", "judicial"): GOVERNMENT,
    **{(s, "returned"): _RETURN_ROLES for s in _ANY_OPEN},
    **{(s, "exempted"): STAFF for s in _ANY_OPEN},
}


@dataclass(frozen=True)
class Request:
    """What the person asks for, with the details the target status needs."""

    to: str
    role: str
    today: dt.date
    school_id: int | None = None  # returned: the school the child is back in
    school_name: str | None = None
    return_date: dt.date | None = None
    own_school_id: int | None = None  # the school of a school account
    reason: str | None = None  # exempted
    evidence: str | None = None  # exempted: "sha256:<hex>" of the certificate or receipt photo
    deadline: dt.date | None = None  # escalated: the 限期 the town sets


@dataclass(frozen=True)
class Problem:
    field: str | None
    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str | None = None  # cases.transition_not_allowed, auth.forbidden, cases.missing_details
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def decide(current: str, request: Request) -> Decision:
    """Whether `request` may move a case from `current`, and why not."""
    if request.to not in STATUSES:
        return Decision(False, "cases.transition_not_allowed",
                        (Problem("to", "cases.unknown_status", f"unknown status {request.to!r}"),))
    roles = TRANSITIONS.get((current, request.to))
    if roles is None:
        return Decision(False, "cases.transition_not_allowed",
                        (Problem("to", "cases.transition_not_allowed", f"{current} → {request.to} is not a step"),))
    if request.role not in roles:
        return Decision(False, "auth.forbidden",
                        (Problem(None, "auth.forbidden", f"a {request.role} account may not set {request.to}"),))
    problems = _details(request)
    if problems:
        return Decision(False, "cases.missing_details", tuple(problems))
    return Decision(True)


def _details(r: Request) -> list[Problem]:
    out: list[Problem] = []
    if r.to == "returned":
        if r.school_id is None and not r.school_name:
            out.append(Problem("school_id", "cases.school_required", "say which school the child is back in"))
        if r.return_date is None:
            out.append(Problem("return_date", "cases.date_required", "say since when the child attends"))
        elif r.return_date > r.today:
            out.append(Problem("return_date", "cases.date_in_future", "a return cannot be confirmed ahead"))
        # A school confirms only its own students: it cannot speak for another school.
        if r.role == "school" and (r.school_id is None or r.school_id != r.own_school_id):
            out.append(Problem("school_id", "cases.not_your_school", "a school confirms returns to itself only"))
    elif r.to == "exempted":
        if r.reason not in EXEMPTION_REASONS:
            out.append(Problem("reason", "cases.reason_required", "illness, moved_away or deceased"))
        elif EXEMPTION_EVIDENCE[r.reason] and not _is_sha256(r.evidence):
            what = EXEMPTION_EVIDENCE[r.reason]
            out.append(Problem("evidence", "cases.evidence_required",
                               f"attach the {what} photo (sha256:<hex> of an uploaded attachment)"))
    elif r.to == "escalated":
        if r.deadline is None:
            out.append(Problem("deadline", "cases.deadline_required", "the town sets a deadline (限期)"))
        elif r.deadline <= r.today:
            out.append(Problem("deadline", "cases.deadline_in_past", "a deadline must lie ahead"))
    return out


def _is_sha256(value: str | None) -> bool:
    if not value or not value.startswith("sha256:") or len(value) != 71:
        return False
    return all(c in "0123456789abcdef" for c in value[7:])


def allowed_next(current: str, role: str) -> list[str]:
    """The statuses `role` may move a `current` case to (for the page's buttons)."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == current and role in roles]
