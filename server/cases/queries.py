"""Every query of the cases domain."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from server.accounts.models import Person
from server.accounts.scope import Scope
from server.cases import machine
from server.cases.models import Case, CaseEvent, Notice, NoticeCounter, SupportPlan
from server.people.models import Child, Household
from server.places.models import Town, Village
from server.schools.models import School
from server.visits.models import Visit


def open_missing_cases(session: Session, scope: Scope, person_id: int | None) -> list[int]:
    """Open a case for every out-of-school child in scope without an open one; the new ids.

    Which statuses open a case, and the due date, are the database function
    open_case_for_child (migrations/versions/20261201_2200_open_case_function.py), the one the
    trigger on children calls too; its ON CONFLICT makes a second run open nothing more.
    """
    open_case = select(Case.id).where(Case.child_id == Child.id, Case.closed_at.is_(None)).exists()
    opened = func.open_case_for_child(Child.id, Child.village_code, Child.enrollment_status, person_id)
    return [i for i in session.scalars(select(opened).where(~open_case, scope.children(Child)))
            if i is not None]


def outcomes_per_child():
    """One row per child that has had a case: whether a case of theirs ended returned (已复学),
    and whether one was opened from dropped_out.

    The one definition of "returned" every count uses (rates, the cases header, the choropleth,
    the village tiles): a case closed as returned, never a status change on its own. A register
    import that moves a suspected child to enrolled found a child who was in school all along;
    nobody brought that child back. Aggregated once per child to be hash-joined: a correlated
    EXISTS per child cost 80,000 index probes on the full county.
    """
    return (
        select(Case.child_id,
               func.bool_or(Case.status == "returned").label("returned"),
               func.bool_or(Case.opened_from == "dropped_out").label("dropped_case"))
        .group_by(Case.child_id)
        .subquery("outcomes")
    )


def add_events(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(CaseEvent), rows)


def _filters(scope: Scope, today: dt.date, *, status=None, overdue=None, village_code=None,
             town_code=None, child_id=None, name=None, id_lookup=None):
    conds = [scope.cases(Case)]
    if status:
        conds.append(Case.status.in_(status))
    if overdue is True:
        conds.append(and_(Case.closed_at.is_(None), Case.due_on < today))
    elif overdue is False:
        conds.append(or_(Case.closed_at.is_not(None), Case.due_on.is_(None), Case.due_on >= today))
    if village_code:
        conds.append(Case.village_code == village_code)
    if town_code:
        conds.append(Village.town_code == town_code)
    if child_id:
        conds.append(Case.child_id == child_id)
    if name:
        # a part of the child's name, typed as is (% and _ are letters here, not wildcards)
        conds.append(Child.name.contains(name, autoescape=True))
    if id_lookup is not None:
        # an ID number is found exactly, through its keyed hash: the digits are never compared
        conds.append(Child.id_number_lookup == id_lookup)
    return conds


def cases_page(session: Session, scope: Scope, today: dt.date, offset: int, limit: int, **filters):
    conds = _filters(scope, today, **filters)
    base = (select(Case).join(Child, Child.id == Case.child_id)
            .join(Village, Village.code == Case.village_code).where(*conds))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(
        select(Case, Child.name, Child.birth_date, Child.gender, Village.name, Village.town_code, Town.name,
               Child.id_number_cipher)
        .join(Child, Child.id == Case.child_id)
        .join(Village, Village.code == Case.village_code)
        .join(Town, Town.code == Village.town_code)
        .where(*conds)
        # Overdue first, then the soonest due: the order a supervisor works through them.
        .order_by(Case.closed_at.is_not(None), Case.due_on.asc().nulls_last(), Case.id)
        .offset(offset).limit(limit)
    ).all()
    return total, rows


def case_in_scope(session: Session, scope: Scope, case_id: int, *, lock: bool = False) -> Case | None:
    stmt = select(Case).where(Case.id == case_id, scope.cases(Case))
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def visits_of_child(session: Session, child_id: uuid.UUID) -> list[Visit]:
    return list(session.scalars(
        select(Visit).where(Visit.child_id == child_id)
        .order_by(Visit.visit_date.asc().nulls_last(), Visit.created_at)
    ))


def notices_of_case(session: Session, case_id: int) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)))


def plans_of_case(session: Session, case_id: int) -> list[SupportPlan]:
    return list(session.scalars(select(SupportPlan).where(SupportPlan.case_id == case_id).order_by(SupportPlan.id)))


def household_of(session: Session, household_id: uuid.UUID | None) -> Household | None:
    return None if household_id is None else session.get(Household, household_id)


def person_names(session: Session, ids) -> dict[int, str]:
    """The names of the people who took a case's steps (full name, else the username)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {pid: full or user for pid, full, user in
            session.execute(select(Person.id, Person.full_name, Person.username).where(Person.id.in_(ids)))}


def child_context(session: Session, child_id: uuid.UUID):
    """The child with its village and town names (for notices)."""
    return session.execute(
        select(Child, Village.name, Village.town_code, Town.name)
        .join(Village, Village.code == Child.village_code).join(Town, Town.code == Village.town_code)
        .where(Child.id == child_id)
    ).one()


@dataclass(frozen=True)
class NoticeContext:
    town_name: str
    town_kind: str
    school_name: str | None


def notice_context(session: Session, case_id: int) -> NoticeContext:
    """The town of a case's child and the school it would report to (the return's, else its own)."""
    own_school = aliased(School)
    row = session.execute(
        select(Town.name, Town.kind, func.coalesce(Case.return_school_name, own_school.name))
        .select_from(Case).join(Child, Child.id == Case.child_id)
        .join(Village, Village.code == Child.village_code).join(Town, Town.code == Village.town_code)
        .outerjoin(own_school, own_school.id == Child.school_id)
        .where(Case.id == case_id)
    ).one()
    return NoticeContext(row[0], row[1], row[2])


def school_name(session: Session, school_id: int) -> str | None:
    return session.scalar(select(School.name).where(School.id == school_id))


def next_notice_number(session: Session, kind: str, year: int) -> int:
    """The next number of `kind` in `year`: one upsert, so two supervisors never get the same one."""
    stmt = (
        insert(NoticeCounter).values(year=year, kind=kind, last_number=1)
        .on_conflict_do_update(index_elements=["year", "kind"], set_={"last_number": NoticeCounter.last_number + 1})
        .returning(NoticeCounter.last_number)
    )
    return session.scalar(stmt)


def notices_in_scope(session: Session, scope: Scope, *, town_code=None, kind=None, ids=None) -> list[Notice]:
    stmt = (select(Notice).join(Case, Case.id == Notice.case_id).join(Village, Village.code == Case.village_code)
            .where(scope.cases(Case)))
    if town_code:
        stmt = stmt.where(Village.town_code == town_code)
    if kind:
        stmt = stmt.where(Notice.kind == kind)
    if ids:
        stmt = stmt.where(Notice.id.in_(ids))
    return list(session.scalars(stmt.order_by(Notice.year, Notice.number)))


def notice_in_scope(session: Session, scope: Scope, notice_id: int) -> Notice | None:
    return session.scalar(select(Notice).join(Case, Case.id == Notice.case_id)
                          .where(Notice.id == notice_id, scope.cases(Case)))


def mark_notice_rendered(session: Session, notice_id: int, pdf: bytes) -> None:
    session.execute(update(Notice).where(Notice.id == notice_id)
                    .values(pdf=pdf, status="done", rendered_at=func.now()))


CLOSED = machine.CLOSED_STATUSES


def any_case(session: Session) -> bool:
    return session.scalar(select(Case.id).limit(1)) is not None


def suspected_children(session: Session) -> list:
    """(id, birth date) of the children the cross-match left suspected out of school, in id order."""
    return session.execute(select(Child.id, Child.birth_date)
                           .where(Child.enrollment_status == "suspected_out_of_school").order_by(Child.id)).all()


def open_case_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Case.id).where(Case.closed_at.is_(None)).order_by(Case.id)))


def date_opening(session: Session, case_id: int, at: dt.datetime) -> None:
    """Date a case's opening (and its first event) at `at`: the open_case_for_child trigger
    stamps the transaction's time, which for a survey replayed after the fact (the demo's field
    week) is not the day the tablet confirmed the child."""
    session.execute(update(Case).where(Case.id == case_id).values(opened_at=at, updated_at=at))
    session.execute(update(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.from_status.is_(None))
                    .values(at=at))
