"""Use cases of out-of-school cases: open, list, read, move along, notices, support plans.

Services take a session, flush, raise DomainError and never commit (the HTTP edge does).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

from sqlalchemy.orm import Session

from server import disclosure
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.campaigns import queries as campaign_queries
from server.cases import deadlines, machine, queries
from server.cases.models import NOTICE_KINDS, Case, Notice, SupportPlan
from server.cases.notices import NoticeSettings, format_number
from server.errors import DomainError, FieldError, not_found
from server.jobs import enqueue_after_commit
from server.people.protection import IdNumberVault, child_subject
from server.records import writer

# What closing a case says about the child: the child's record follows the case, so that the
# counts of the reports and the tablets agree with the case's outcome.
_EXEMPTION_STATUS = {"illness": "sick_deferral", "moved_away": "moved_out", "deceased": "deceased"}


def phases_of(campaign) -> deadlines.Phases | None:
    if campaign is None:
        return None
    return deadlines.Phases(campaign.persuasion_start, campaign.enforcement_start, campaign.enforcement_end)


def open_cases(session: Session, scope: Scope, person: Person | None) -> dict:
    """Open a case for each confirmed out-of-school child in scope that has none open."""
    ids = queries.open_missing_cases(session, scope, person.id if person else None)
    session.flush()
    return {"opened": len(ids), "case_ids": ids}


def _row(case: Case, today: dt.date, viewer: str, child_name=None, birth_date=None, gender=None, village_name=None,
         town_code=None, town_name=None, id_number=None, *, full_record: bool = False) -> dict:
    child = disclosure.show(viewer, "child", {"name": child_name, "gender": gender, "birth_date": birth_date,
                                              "id_number": id_number}, full_record=full_record)
    return {
        "id": case.id, "child_id": case.child_id, "child_name": child.get("name"), "gender": child.get("gender"),
        "id_number": child.get("id_number"),
        "birth_date": child.get("birth_date"), "village_code": case.village_code, "village_name": village_name,
        "town_code": town_code, "town_name": town_name, "status": case.status,
        "status_label": machine.STATUSES[case.status], "opened_at": case.opened_at, "due_on": case.due_on,
        "deadline": case.deadline,
        "overdue": case.closed_at is None and deadlines.is_overdue(case.due_on, today),
        "closed_at": case.closed_at, "return_school_id": case.return_school_id,
        "return_school_name": case.return_school_name, "return_date": case.return_date,
        "exemption_reason": case.exemption_reason,
    }


_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


def search_terms(vault: IdNumberVault, q: str | None) -> dict:
    """What a search box's text asks for: a whole ID number (found exactly, by its lookup hash)
    or a part of a child's name. A number cut short is said to be so, never searched in part."""
    text = (q or "").strip().upper()
    if not text:
        return {}
    if _ID_NUMBER.match(text):
        return {"id_lookup": vault.lookup(text)}
    if re.fullmatch(r"\d[\dX]*", text):
        raise DomainError("request.invalid", None, [FieldError(
            "q", "cases.id_number_incomplete", "an ID number is searched whole: 18 characters")])
    return {"name": text}


def list_cases(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, today: dt.date, page: int,
               page_size: int, q: str | None = None, **filters) -> dict:
    """A page of cases, overdue first; `q` searches a child's name (a part of it) or ID number (whole)."""
    filters.update(search_terms(vault, q))
    total, rows = queries.cases_page(session, scope, today, (page - 1) * page_size, page_size, **filters)
    items = []
    for case, *rest, cipher in rows:
        number = None if cipher is None else vault.decrypt(cipher, child_subject(case.child_id))
        items.append(_row(case, today, viewer, *rest, number))
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _add_child_and_household(session: Session, out: dict, viewer: str, child) -> None:
    """The child and the household as the case page shows them: the audited read of one record
    (GET /cases/<id>), where the policy may show a field in full."""
    out["id_number_masked"] = disclosure.level(viewer, "child", "id_number", full_record=True) != disclosure.FULL
    out["child"] = disclosure.show(viewer, "child", {
        "school_id": child.school_id, "school_name": child.school_name, "grade": child.grade,
        "class_name": child.class_name, "enrollment_status": child.enrollment_status,
        "disability": child.disability, "disability_type": child.disability_type,
        "disability_level": child.disability_level, "guardian_name": child.guardian_name,
        "guardian_phone": child.guardian_phone, "dropout_reason": child.dropout_reason,
    }, full_record=True)
    home = queries.household_of(session, child.household_id)
    out["household"] = None if home is None else disclosure.show(viewer, "household", {
        "id": home.id, "head_name": home.head_name, "group_name": home.group_name,
        "household_number": home.household_number, "address": home.address, "phone": home.phone,
    }, full_record=True)


def get_case(session: Session, scope: Scope, person: Person, case_id: int, today: dt.date,
             vault: IdNumberVault | None = None) -> dict:
    """A case with its child, household, steps, visits, notices and plans.

    Without `vault` (the answer of a step, which is no audited read) the ID number, the child's
    school and contacts and the household are left out; the page reads the case again."""
    case = queries.case_in_scope(session, scope, case_id)
    if case is None:
        raise not_found("case")
    child, village_name, town_code, town_name = queries.child_context(session, case.child_id)
    viewer = disclosure.viewer_of(person)
    number = None
    if vault is not None and child.id_number_cipher is not None:
        number = vault.decrypt(child.id_number_cipher, child_subject(child.id))
    out = _row(case, today, viewer, child.name, child.birth_date, child.gender, village_name,
               town_code, town_name, number, full_record=True)
    if vault is not None:
        _add_child_and_household(session, out, viewer, child)
    events = queries.events(session, case.id)
    names = queries.person_names(session, (e.person_id for e in events))
    out["events"] = [{"id": e.id, "from_status": e.from_status, "to_status": e.to_status, "at": e.at,
                      "person_id": e.person_id, "person_name": names.get(e.person_id), "note": e.note,
                      "detail": e.detail}
                     for e in events]
    out["visits"] = [{"id": v.id, "visit_date": v.visit_date, "visitors": v.visitors, "outcome": v.outcome,
                      "next_step": v.next_step, "deadline": v.deadline, "note": v.note}
                     for v in queries.visits_of_child(session, case.child_id)]
    out["notices"] = [_notice(n) for n in queries.notices_of_case(session, case.id)]
    out["support_plans"] = [_plan(p) for p in queries.plans_of_case(session, case.id)]
    out["allowed_next"] = machine.allowed_next(case.status, person.role)
    return out


def transition(session: Session, scope: Scope, person: Person, case_id: int, body: dict,
               today: dt.date, *, at: dt.datetime | None = None) -> dict:
    """Move a case one step, if the table allows it for this person; record who and when.

    `at` is when the step was taken if that was not now: a step written down after the fact
    (the demo's field week is replayed in one go); `today` is then that day, for the rules."""
    case = queries.case_in_scope(session, scope, case_id, lock=True)
    if case is None:
        raise not_found("case")
    request = machine.Request(
        to=body["to"], role=person.role, today=today, school_id=body.get("school_id"),
        school_name=body.get("school_name"), return_date=body.get("return_date"),
        own_school_id=person.school_id, reason=body.get("reason"), evidence=body.get("evidence"),
        deadline=body.get("deadline"),
    )
    decision = machine.decide(case.status, request)
    if not decision.allowed:
        raise DomainError(decision.code, None, [FieldError(p.field, p.code, p.message) for p in decision.problems])
    before = case.status
    case.status = request.to
    # What the step says of the child goes through the records writer (version, field states,
    # audit): a tablet editing the child from an older version is then concurrent with it.
    child_fields: dict = {}
    child_columns: dict = {}
    if request.to == "escalated":
        case.deadline = request.deadline
    elif request.to == "returned":
        school_name = request.school_name
        if request.school_id is not None:
            from server.schools.models import School
            school = session.get(School, request.school_id)
            if school is None:
                raise DomainError("request.invalid", None, [FieldError("school_id", "cases.unknown_school",
                                                                       "no such school")])
            school_name = school.name
        case.return_school_id, case.return_school_name = request.school_id, school_name
        case.return_date = request.return_date
        child_fields.update(enrollment_status="enrolled", school_name=school_name)
        child_columns["school_id"] = request.school_id
    elif request.to == "exempted":
        case.exemption_reason, case.evidence = request.reason, request.evidence
        child_fields["enrollment_status"] = _EXEMPTION_STATUS[request.reason]
        if request.reason == "illness":
            child_fields["certificate_photo"] = request.evidence
    if child_fields:
        writer.change(session, None, person.id, "child", case.child_id, child_fields, raw_columns=child_columns,
                      case_id=case.id, case_step=request.to)
    moment = at or dt.datetime.now(dt.UTC)
    if request.to in machine.CLOSED_STATUSES:
        case.closed_at = moment
    case.due_on = deadlines.due_on(case.status, phases_of(campaign_queries.active(session)), case.deadline)
    case.updated_at = moment
    detail = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in body.items()
              if k not in ("to", "note") and v is not None}
    event = {"case_id": case.id, "from_status": before, "to_status": case.status, "person_id": person.id,
             "note": body.get("note"), "detail": detail}
    queries.add_events(session, [{**event, "at": at} if at else event])
    session.flush()
    return get_case(session, scope, person, case.id, today)


def name_return_school(session: Session, scope: Scope, person: Person, case_id: int, body: dict,
                       today: dt.date, *, at: dt.datetime | None = None) -> dict:
    """Name the school an open case's child is back in: that school then sees the case and confirms it.

    `at` as for transition: when it was done, if not now."""
    from server.schools.models import School

    case = queries.case_in_scope(session, scope, case_id, lock=True)
    if case is None:
        raise not_found("case")
    if case.closed_at is not None:
        raise DomainError("cases.closed")
    school = session.get(School, body["school_id"])
    if school is None:
        raise DomainError("request.invalid", None, [FieldError("school_id", "cases.unknown_school", "no such school")])
    # The return stays the school's word (machine.py): naming it only puts the case before it.
    case.return_school_id, case.return_school_name = school.id, school.name
    case.updated_at = at or dt.datetime.now(dt.UTC)
    event = {"case_id": case.id, "from_status": case.status, "to_status": case.status, "person_id": person.id,
             "note": body.get("note"), "detail": {"return_school_id": school.id}}
    queries.add_events(session, [{**event, "at": at} if at else event])
    session.flush()
    return get_case(session, scope, person, case.id, today)


# --- notices ----------------------------------------------------------------------------------

# The notices of the enforcement ladder; 入学通知书 and 劝返复学通知书 accompany persuasion.
LADDER_NOTICES = ("deadline", "violation")


def _notice(n: Notice) -> dict:
    return {"id": n.id, "case_id": n.case_id, "kind": n.kind, "kind_label": NOTICE_KINDS[n.kind],
            "number": n.number_text, "issued_on": n.issued_on, "deadline": n.deadline, "status": n.status,
            "issuer": n.issuer, "school_name": n.school_name, "report_place": n.report_place,
            "contact_name": n.contact_name, "contact_phone": n.contact_phone,
            "created_at": n.created_at, "rendered_at": n.rendered_at}


def issue_notice(session: Session, scope: Scope, person: Person, case_id: int, body: dict, today: dt.date,
                 settings: NoticeSettings) -> dict:
    """Number a notice for a case and have its PDF rendered once the transaction commits.

    The school the child reports to is the one asked for, else the school of the case's
    return, else the child's own; the contact is the one asked for, else the issuing person.
    """
    case = queries.case_in_scope(session, scope, case_id, lock=True)
    if case is None:
        raise not_found("case")
    if case.closed_at is not None:
        raise DomainError("cases.closed")
    kind = body["kind"]
    context = queries.notice_context(session, case.id)
    school_name = context.school_name
    if body.get("school_id") is not None:
        school_name = queries.school_name(session, body["school_id"])
        if school_name is None:
            raise DomainError("request.invalid", errors=[FieldError("school_id", "request.not_found",
                                                                    "no such school")])
    number = queries.next_notice_number(session, kind, today.year)
    notice = Notice(case_id=case.id, kind=kind, year=today.year, number=number,
                    number_text=format_number(settings.series_prefix(kind), today.year, number), issued_on=today,
                    deadline=body.get("deadline") or case.deadline, created_by=person.id,
                    issuer=settings.issuer(kind, context.town_name, context.town_kind),
                    school_name=school_name, report_place=body.get("report_place") or school_name,
                    contact_name=body.get("contact_name") or person.full_name,
                    contact_phone=body.get("contact_phone") or person.phone)
    session.add(notice)
    session.flush()
    queries.add_events(session, [{"case_id": case.id, "from_status": case.status, "to_status": case.status,
                                  "person_id": person.id, "note": f"{NOTICE_KINDS[kind]} {notice.number_text}",
                                  "detail": {"notice_id": notice.id, "kind": kind}}])
    session.flush()
    enqueue_after_commit(session, "cases.render_notice", notice.id)
    if kind in LADDER_NOTICES and case.status == "escalated":
        # The written notice is the ladder's next rung (责令限期改正 → 告知书): issuing one on an
        # escalated case is that step, taken under the same rules as any other.
        transition(session, scope, person, case.id, {"to": "notice_issued", "note": notice.number_text}, today)
    return _notice(notice)


def notice_pdf(session: Session, scope: Scope, person: Person, notice_id: int, remote_addr: str | None):
    from server.audit import service as audit

    notice = queries.notice_in_scope(session, scope, notice_id)
    if notice is None:
        raise not_found("notice")
    if notice.pdf is None:
        raise DomainError("notices.not_ready")
    audit.record(session, person.id, "export", "notice", str(notice.id), remote_addr=remote_addr,
                 number=notice.number_text)
    return notice


def notices_batch(session: Session, scope: Scope, person: Person, town_code: str | None, kind: str | None,
                  remote_addr: str | None) -> list[Notice]:
    """The rendered notices of a town (in scope), for one zip; the export is audited."""
    from server.audit import service as audit

    rows = [n for n in queries.notices_in_scope(session, scope, town_code=town_code, kind=kind) if n.pdf]
    audit.record(session, person.id, "export", "notice_batch", town_code or "all", remote_addr=remote_addr,
                 kind=kind, numbers=[n.number_text for n in rows])
    return rows


def combined_pdf(rows: list[Notice]) -> bytes:
    """The notices' own PDFs (the pages as numbered and rendered, not drawn again) in one file,
    in number order, for a town to print in one go."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for notice in rows:
        writer.append(io.BytesIO(notice.pdf))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- support plans (一生一案) -------------------------------------------------------------------

def _plan(p: SupportPlan) -> dict:
    return {"id": p.id, "case_id": p.case_id, "measures": p.measures, "responsible_name": p.responsible_name,
            "responsible_phone": p.responsible_phone, "review_on": p.review_on, "note": p.note,
            "created_at": p.created_at}


def add_support_plan(session: Session, scope: Scope, person: Person, case_id: int, body: dict) -> dict:
    case = queries.case_in_scope(session, scope, case_id)
    if case is None:
        raise not_found("case")
    plan = SupportPlan(case_id=case.id, measures=body["measures"], responsible_name=body["responsible_name"],
                       responsible_phone=body.get("responsible_phone"), review_on=body.get("review_on"),
                       note=body.get("note"), created_by=person.id)
    session.add(plan)
    session.flush()
    queries.add_events(session, [{"case_id": case.id, "from_status": case.status, "to_status": case.status,
                                  "person_id": person.id, "note": "制定帮扶方案（一生一案）",
                                  "detail": {"support_plan_id": plan.id}}])
    session.flush()
    return _plan(plan)


def case_for_child(session: Session, scope: Scope, viewer: str, child_id: uuid.UUID, today: dt.date) -> dict | None:
    total, rows = queries.cases_page(session, scope, today, 0, 1, child_id=child_id)
    return _row(rows[0][0], today, viewer, *rows[0][1:-1]) if rows else None
