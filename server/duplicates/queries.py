"""The queries of duplicate candidates: children who may be one child recorded twice."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.sync.models import DuplicateCandidate


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
