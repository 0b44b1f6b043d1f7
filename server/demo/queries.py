"""The demo county's statements: is there a county already, wipe it, refresh the statistics, and
what the field week needs to know of the records on file."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.cases.models import Case
from server.people.models import Child, Household
from server.places.models import Town
from server.sync.models import Submission


def has_places(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Town)))


def wipe(session: Session, tables) -> None:
    session.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))


def analyze(session: Session) -> None:
    # The planner needs the new row counts before the first imports and maps run.
    session.execute(text("ANALYZE"))


def household_versions(session: Session) -> dict:
    """Each household's current version: the base a tablet that pulled it edits from."""
    return dict(session.execute(select(Household.id, Household.version)).all())


def children_by_lookup(session: Session) -> dict:
    """Each child on file by the lookup hash of its ID number: (id, version, household id).

    The demo's children reach the database by the loader or by the roster import, under ids of
    their own; the ID number is what names the same child in both."""
    rows = session.execute(select(Child.id_number_lookup, Child.id, Child.version, Child.household_id)
                           .where(Child.id_number_lookup.is_not(None))).all()
    return {bytes(lookup): (cid, version, hid) for lookup, cid, version, hid in rows}


def open_cases(session: Session) -> list:
    """(case id, child id, village code) of the open cases, in the order they opened."""
    return session.execute(select(Case.id, Case.child_id, Case.village_code)
                           .where(Case.closed_at.is_(None)).order_by(Case.id)).all()


def has_submissions(session: Session) -> bool:
    return session.scalar(select(Submission.submission_id).limit(1)) is not None
