"""Every query of the reports domain: counts grouped by village, town, school or the city."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, distinct, func, literal, or_, select, update
from sqlalchemy.orm import Session

from server.accounts.models import Team, team_villages
from server.accounts.scope import Scope
from server.cases import queries as case_queries
from server.cases.models import Case
from server.imports.models import SuspectedDropout
from server.people import statuses
from server.people.models import Child, Household
from server.places.models import Town, Village
from server.reports.models import ReportExport
from server.schools.models import School

GROUPS = ("village", "town", "school", "city")


def _count(cond):
    return func.count().filter(cond)


def counts(session: Session, scope: Scope, born_from: dt.date, born_to: dt.date, by: str,
           town_code: str | None = None) -> list[dict]:
    """One row per group: the counts campaign.md's rates need, over school-age children in scope."""
    # What each child's cases say (cases.queries.outcomes_per_child: the one "returned").
    per_child = case_queries.outcomes_per_child()
    returned = func.coalesce(per_child.c.returned, False)
    dropped = (Child.enrollment_status == "dropped_out") | func.coalesce(per_child.c.dropped_case, False)
    enrolled = Child.enrollment_status.in_(list(statuses.ENROLLED))
    legit = Child.enrollment_status.in_(list(statuses.LEGITIMATELY_NOT_ENROLLED))
    columns = [
        func.count().label("school_age"),
        _count(enrolled).label("enrolled"),
        _count(legit).label("legitimately_absent"),
        _count(Child.enrollment_status.in_(list(statuses.OUT_OF_SCHOOL))).label("out_of_school"),
        _count(returned).label("returned"),
        _count(dropped).label("dropped_out"),
        _count(Child.disability).label("disabled_school_age"),
        _count(and_(Child.disability, enrolled)).label("disabled_enrolled"),
        _count(and_(Child.disability, legit)).label("disabled_legitimately_absent"),
    ]
    if by == "village":
        # The town beside each village: a county reads a village table town by town.
        keys = [Village.code.label("code"), Village.name.label("name"),
                Town.code.label("town_code"), Town.name.label("town_name")]
    elif by == "town":
        keys = [Town.code.label("code"), Town.name.label("name")]
    elif by == "school":
        keys = [func.coalesce(School.code, literal("")).label("code"),
                func.coalesce(School.name, literal("（未在本市学校）")).label("name")]
    else:
        keys = [literal("city").label("code"), literal("全市").label("name")]
    stmt = (
        select(*keys, *columns)
        .select_from(Child)
        .join(Village, Village.code == Child.village_code)
        .join(Town, Town.code == Village.town_code)
        .outerjoin(School, School.id == Child.school_id)
        .outerjoin(per_child, per_child.c.child_id == Child.id)
        .where(scope.children(Child), Child.birth_date.between(born_from, born_to),
               Child.enrollment_status != "not_school_age")
        .group_by(*keys)
        .order_by(keys[0])
    )
    if town_code:
        stmt = stmt.where(Village.town_code == town_code)
    return [dict(row._mapping) for row in session.execute(stmt)]


def village_places(session: Session, scope: Scope, town_code: str | None = None):
    """The villages in scope with their towns, by code (the names beside kept tallies)."""
    stmt = (select(Village.code, Village.name, Town.code.label("town_code"), Town.name.label("town_name"))
            .join(Town, Town.code == Village.town_code).where(scope.villages(Village.code)).order_by(Village.code))
    if town_code:
        stmt = stmt.where(Village.town_code == town_code)
    return session.execute(stmt).all()


def monthly_dropouts(session: Session, scope: Scope, year: int) -> list[dict]:
    """月辍学报告: register-monitoring signals and dropout cases opened, per month and town."""
    month = func.extract("month", SuspectedDropout.detected_on).label("month")
    signals = session.execute(
        select(month, Village.town_code, SuspectedDropout.kind, func.count())
        .join(Village, Village.code == SuspectedDropout.village_code)
        .where(scope.villages(SuspectedDropout.village_code), scope.schools(SuspectedDropout.school_id),
               func.extract("year", SuspectedDropout.detected_on) == year)
        .group_by(month, Village.town_code, SuspectedDropout.kind)
    ).all()
    opened_month = func.extract("month", Case.opened_at).label("month")
    cases = session.execute(
        select(opened_month, Village.town_code, func.count(),
               func.count().filter(Case.status == "returned"))
        .join(Village, Village.code == Case.village_code)
        .where(scope.cases(Case), Case.opened_from == "dropped_out",
               func.extract("year", Case.opened_at) == year)
        .group_by(opened_month, Village.town_code)
    ).all()
    rows: dict[tuple[int, str], dict] = {}
    for m, town, kind, n in signals:
        row = rows.setdefault((int(m), town), {"month": int(m), "town_code": town, "signals": {},
                                               "cases_opened": 0, "returned": 0})
        row["signals"][kind] = n
    for m, town, n, back in cases:
        row = rows.setdefault((int(m), town), {"month": int(m), "town_code": town, "signals": {},
                                               "cases_opened": 0, "returned": 0})
        row["cases_opened"], row["returned"] = n, back
    return [rows[k] for k in sorted(rows)]


def semester_check(session: Session, scope: Scope, start: dt.date, days: int = 7) -> list[SuspectedDropout]:
    """开学一周内未报到: the students register monitoring found missing in the first week."""
    return list(session.scalars(
        select(SuspectedDropout)
        .where(scope.villages(SuspectedDropout.village_code), scope.schools(SuspectedDropout.school_id),
               SuspectedDropout.detected_on.between(start, start + dt.timedelta(days=days)))
        .order_by(SuspectedDropout.village_code, SuspectedDropout.name)
    ))


def case_status_counts(session: Session, scope: Scope, today: dt.date) -> dict:
    """Open, overdue and closed cases in scope, for the supervisor page's header."""
    # Returned counts children (a child brought back twice is one child back in school), as
    # the rates' and the map's "returned" do.
    row = session.execute(
        select(func.count().filter(Case.closed_at.is_(None)),
               func.count().filter(and_(Case.closed_at.is_(None), Case.due_on < today)),
               func.count(distinct(Case.child_id)).filter(Case.status == "returned"),
               func.count().filter(Case.status == "exempted"))
        .where(scope.cases(Case))
    ).one()
    return dict(zip(("open", "overdue", "returned", "exempted"), row, strict=True))


def finish_export(session: Session, export_id: int, content: bytes) -> None:
    session.execute(update(ReportExport).where(ReportExport.id == export_id)
                    .values(content=content, status="done", finished_at=func.now()))


def out_of_school_register(session: Session, scope: Scope, born_from: dt.date, born_to: dt.date,
                           town_code: str | None = None, village_code: str | None = None) -> list:
    """登记造册: every child in scope out of school now, with household, place and open case.

    School-age as the rates count it, and also the children whose birth date is unknown: the
    register is there so that no out-of-school child is missed, and nothing says they are not
    of school age.
    """
    stmt = (
        select(Child.id, Child.name, Child.gender, Child.birth_date, Child.id_number_cipher,
               Child.guardian_name, Child.guardian_phone, Child.enrollment_status, Child.dropout_reason,
               Child.dropout_reason_note, Child.school_name,
               Household.id.label("household_id"), Household.group_name, Household.household_number,
               Household.head_name, Household.phone.label("household_phone"),
               Village.code.label("village_code"), Village.name.label("village_name"),
               Town.code.label("town_code"), Town.name.label("town_name"),
               Case.id.label("case_id"), Case.status.label("case_status"), Case.due_on, Case.deadline)
        .select_from(Child)
        .join(Household, Household.id == Child.household_id)
        .join(Village, Village.code == Child.village_code)
        .join(Town, Town.code == Village.town_code)
        # At most one open case per child (uq_cases_open_child).
        .outerjoin(Case, and_(Case.child_id == Child.id, Case.closed_at.is_(None)))
        .where(scope.children(Child), Child.enrollment_status.in_(list(statuses.OUT_OF_SCHOOL)),
               or_(Child.birth_date.between(born_from, born_to), Child.birth_date.is_(None)))
        .order_by(Town.code, Village.code, Household.group_name, Household.household_number,
                  Household.id, Child.birth_date, Child.id)
    )
    if town_code:
        stmt = stmt.where(Village.town_code == town_code)
    if village_code:
        stmt = stmt.where(Child.village_code == village_code)
    return session.execute(stmt).all()


def town_name_in_scope(session: Session, scope: Scope, town_code: str) -> str | None:
    """A town's name if the scope holds one of its villages (a title names no town beyond it)."""
    return session.scalar(select(Town.name).join(Village, Village.town_code == Town.code)
                          .where(Town.code == town_code, scope.villages(Village.code)).limit(1))


def village_name_in_scope(session: Session, scope: Scope, village_code: str) -> str | None:
    return session.scalar(select(Village.name).where(Village.code == village_code, scope.villages(Village.code)))


def school_name(session: Session, school_id: int) -> str | None:
    return session.scalar(select(School.name).where(School.id == school_id))


# --- the campaign's promise: every child on the roster accounted for ---------------------------

ACCOUNTED = ("surveyed", "in_case", "exempt")
UNACCOUNTED_REASONS = ("not_surveyed", "no_case", "no_evidence", "unresolved")


def _accounting(scope: Scope, born_from: dt.date, born_to: dt.date, town_code: str | None,
                village_code: str | None):
    """One row per school-age child in scope: where it lives and how it is accounted for.

    exempt     lawfully not enrolled with its evidence: a case closed as exempted (the case
               machine asked for the certificate or receipt; a death needs none), or an illness
               deferral with its hospital certificate on the child's record;
    in_case    a case is open, or one ended with the child back in school;
    surveyed   the household was visited (or confirmed) and the child is in school;
    otherwise  unaccounted, with the first reason that applies: the household was never visited,
               the child is out of school with no case, lawfully absent without evidence, or in a
               register state nobody has verified (休学/转出待核实).
    """
    exempted = (
        select(Case.id).where(Case.child_id == Child.id, Case.status == "exempted",
                              or_(Case.evidence.is_not(None), Case.exemption_reason == "deceased"))
        .exists()
    )
    followed = (
        select(Case.id).where(Case.child_id == Child.id,
                              or_(Case.closed_at.is_(None), Case.status == "returned"))
        .exists()
    )
    legit = Child.enrollment_status.in_(list(statuses.LEGITIMATELY_NOT_ENROLLED))
    visited = Household.survey_status != "not_visited"
    exempt = and_(legit, or_(exempted, and_(Child.enrollment_status == "sick_deferral",
                                            Child.certificate_photo.is_not(None))))
    standing = case(
        (exempt, literal("exempt")),
        (followed, literal("in_case")),
        (and_(visited, Child.enrollment_status.in_(list(statuses.ENROLLED))), literal("surveyed")),
        else_=literal("unaccounted"),
    )
    reason = case(
        (~visited, literal("not_surveyed")),
        (Child.enrollment_status.in_(list(statuses.OUT_OF_SCHOOL)), literal("no_case")),
        (legit, literal("no_evidence")),
        else_=literal("unresolved"),
    )
    stmt = (
        select(Child.id.label("child_id"), Child.village_code, Village.town_code, Household.id.label("household_id"),
               standing.label("standing"), reason.label("reason"))
        .select_from(Child)
        .join(Household, Household.id == Child.household_id)
        .join(Village, Village.code == Child.village_code)
        .where(scope.children(Child), Child.birth_date.between(born_from, born_to),
               Child.enrollment_status != "not_school_age")
    )
    if town_code:
        stmt = stmt.where(Village.town_code == town_code)
    if village_code:
        stmt = stmt.where(Child.village_code == village_code)
    return stmt.subquery("accounting")


def accounted_by_village(session: Session, scope: Scope, born_from: dt.date, born_to: dt.date,
                         town_code: str | None = None, village_code: str | None = None) -> list[dict]:
    """Per village in scope: its children by standing, and the unaccounted ones by reason."""
    a = _accounting(scope, born_from, born_to, town_code, village_code)
    columns = [func.count().label("children"),
               *(_count(a.c.standing == s).label(s) for s in ACCOUNTED),
               _count(a.c.standing == "unaccounted").label("unaccounted"),
               *(_count(and_(a.c.standing == "unaccounted", a.c.reason == r)).label(r)
                 for r in UNACCOUNTED_REASONS)]
    stmt = (
        select(Village.code.label("code"), Village.name.label("name"), Town.code.label("town_code"),
               Town.name.label("town_name"), *columns)
        .select_from(a)
        .join(Village, Village.code == a.c.village_code)
        .join(Town, Town.code == Village.town_code)
        .group_by(Village.code, Village.name, Town.code, Town.name)
        .order_by(Town.code, Village.code)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def teams_over(session: Session, village_codes: list[str]) -> list:
    """The teams (包村工作组) over these villages: id, name, line, town and the villages among them."""
    if not village_codes:
        return []
    return session.execute(
        select(Team.id, Team.name, Team.line, Team.town_code,
               func.array_agg(team_villages.c.village_code).label("village_codes"))
        .join(team_villages, team_villages.c.team_id == Team.id)
        .where(team_villages.c.village_code.in_(sorted(village_codes)))
        .group_by(Team.id)
        .order_by(Team.town_code, Team.name, Team.id)
    ).all()


def unaccounted_page(session: Session, scope: Scope, born_from: dt.date, born_to: dt.date, offset: int,
                     limit: int, town_code: str | None = None, village_code: str | None = None,
                     village_codes: list[str] | None = None) -> tuple[int, list]:
    """The children still unaccounted for, in town, village, 组 and 户号 order, a page at a time."""
    a = _accounting(scope, born_from, born_to, town_code, village_code)
    where = [a.c.standing == "unaccounted"]
    if village_codes is not None:
        where.append(a.c.village_code.in_(sorted(village_codes)))
    total = session.scalar(select(func.count()).select_from(a).where(*where))
    rows = session.execute(
        select(Child.id, Child.name, Child.gender, Child.birth_date, Child.id_number_cipher, Child.enrollment_status,
               Household.id.label("household_id"), Household.group_name, Household.household_number,
               Household.head_name, Household.survey_status,
               Village.code.label("village_code"), Village.name.label("village_name"),
               Town.code.label("town_code"), Town.name.label("town_name"), a.c.reason)
        .select_from(a)
        .join(Child, Child.id == a.c.child_id)
        .join(Household, Household.id == a.c.household_id)
        .join(Village, Village.code == a.c.village_code)
        .join(Town, Town.code == Village.town_code)
        .where(*where)
        .order_by(Town.code, Village.code, Household.group_name, Household.household_number, Household.id,
                  Child.birth_date, Child.id)
        .offset(offset).limit(limit)
    ).all()
    return total or 0, rows
