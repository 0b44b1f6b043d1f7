"""The queries of duplicate candidates: children who may be one child recorded twice."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select, text, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.people.models import Child
from server.sync.models import Conflict, DuplicateCandidate, Submission
from server.visits.models import Visit


def possible_duplicates(session: Session, child_ids: list[uuid.UUID]):
    """(new child, other child, same ID number?, village) for each child who may be one of these:
    the same ID number (by lookup hash), or the same name, birth date and household."""
    return session.execute(text("""
        SELECT n.id, c.id, c.id_number_lookup IS NOT NULL AND c.id_number_lookup = n.id_number_lookup, n.village_code
          FROM children n JOIN children c
            ON c.id <> n.id
           AND ((c.id_number_lookup = n.id_number_lookup)
                OR (c.household_id = n.household_id AND c.name = n.name AND c.birth_date = n.birth_date))
         WHERE n.id = ANY(:ids)
    """), {"ids": child_ids}).all()


def add_candidates(session: Session, candidates: list[dict]) -> None:
    session.execute(insert(DuplicateCandidate).on_conflict_do_nothing(), candidates)


def in_scope(scope: Scope):
    """A pair is the scope's when its village is and neither child lies elsewhere: a town-A
    child with the ID number of a town-B child is the city's to decide, not either town's."""
    if scope.everywhere:
        return true()
    elsewhere = select(Child.id).where(Child.id.in_([DuplicateCandidate.child_a, DuplicateCandidate.child_b]),
                                       ~scope.villages(Child.village_code))
    return scope.villages(DuplicateCandidate.village_code) & ~elsewhere.exists()


def candidates_page(session: Session, scope: Scope, status: str | None, offset: int, limit: int):
    query = select(DuplicateCandidate).where(in_scope(scope))
    if status:
        query = query.where(DuplicateCandidate.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(DuplicateCandidate.created_at, DuplicateCandidate.id)
                           .offset(offset).limit(limit)).all()
    return total, list(rows)


def candidate_for_update(session: Session, scope: Scope, candidate_id: int) -> DuplicateCandidate | None:
    return session.scalar(select(DuplicateCandidate).where(DuplicateCandidate.id == candidate_id,
                                                           in_scope(scope)).with_for_update())


def move_to_survivor(session: Session, loser_id, survivor_id, person_id: int, now) -> None:
    """The loser's visits follow the survivor; its open conflicts close, saying where it went."""
    session.execute(update(Visit).where(Visit.child_id == loser_id).values(child_id=survivor_id))
    session.execute(update(Conflict).where(Conflict.record_type == "child", Conflict.record_id == loser_id,
                                           Conflict.status == "open")
                    .values(status="resolved", resolved_at=now, resolved_by=person_id,
                            resolution={"value": None, "note": f"merged into {survivor_id}"}))


def close_other_pairs(session: Session, loser_id, candidate_id: int, person_id: int, now) -> None:
    session.execute(update(DuplicateCandidate).where(
        or_(DuplicateCandidate.child_a == loser_id, DuplicateCandidate.child_b == loser_id),
        DuplicateCandidate.id != candidate_id, DuplicateCandidate.status == "open",
    ).values(status="resolved", outcome="merged", resolved_by=person_id, resolved_at=now))


def delete_child(session: Session, child_id) -> None:
    session.execute(Child.__table__.delete().where(Child.id == child_id))


def first_submissions(session: Session, child_ids) -> dict[uuid.UUID, tuple]:
    """{child id: (device id, captured at)} of the submission that created each child on a
    tablet (no base version); a child the roster import brought has none (tablets update it)."""
    ids = sorted({i for i in child_ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(
        select(Submission.record_id, Submission.device_id, Submission.payload["captured_at"].astext)
        .where(Submission.record_type == "child", Submission.record_id.in_(ids),
               Submission.payload["record"]["base_version"].astext.is_(None))
        .order_by(Submission.received_at.desc(), Submission.device_seq.desc())).all()
    return {r[0]: (r[1], r[2]) for r in rows}  # the earliest last: it stays
