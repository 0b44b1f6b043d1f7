"""The SQL of the village tallies: per-village counts over households and children, which
villages changed since a point of the change log, and the case outcomes counted live."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, and_, cast, func, select, text
from sqlalchemy.orm import Session

from server.cases.models import Case
from server.people import statuses
from server.people.models import Child, Household
from server.places.models import Village
from server.sync.models import ChangeLogEntry

OUT_OF_SCHOOL = sorted(statuses.OUT_OF_SCHOOL)
ENROLLED = sorted(statuses.ENROLLED)
LEGIT = sorted(statuses.LEGITIMATELY_NOT_ENROLLED)

# What the map counts of a village (no cohort: every child on file, as the choropleth always did)
MAP_FIELDS = ("households", "surveyed", "children", "out_of_school")
# What the rates count of a village's school-age cohort, but what the cases add (counted live)
RATE_FIELDS = ("school_age", "enrolled", "legitimately_absent", "out_of_school", "dropped_status",
               "disabled_school_age", "disabled_enrolled", "disabled_legitimately_absent")


def watermark(session: Session) -> tuple[int, int]:
    """The change log's newest number (every change committed so far is at or below it), and
    the log's file: a new one (the table truncated or made again, a demo reloaded) starts
    numbering anew, so numbers kept from the old one mean nothing."""
    seq, epoch = session.execute(select(func.coalesce(func.max(ChangeLogEntry.seq), 0),
                                        func.pg_relation_filenode("change_log"))).one()
    return int(seq), int(epoch)


def villages_changed_since(session: Session, counted_at: dict[str, int]) -> set[str]:
    """Of these villages, those a household or child entered, changed in, or left after the
    village's own number."""
    if not counted_at:
        return set()
    # A probe per village on (village_code, seq): a range scan of the log from a number is what
    # the planner would pick only when it knows how few rows follow, which a bound number hides.
    codes = list(counted_at)
    return set(session.scalars(text(
        "SELECT k.code FROM unnest(CAST(:codes AS varchar[]), CAST(:seqs AS bigint[])) AS k(code, seq)"
        " WHERE EXISTS (SELECT FROM change_log c WHERE c.village_code = k.code AND c.seq > k.seq)"),
        {"codes": codes, "seqs": [counted_at[c] for c in codes]}))


def village_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Village.code).order_by(Village.code)))


def map_counts(session: Session, codes: list[str] | None) -> dict[str, dict]:
    """Per village: households, surveyed households, children of school age, out of school."""
    h = select(Household.village_code, func.count(), func.count().filter(Household.survey_status != "not_visited"))
    c = select(Child.village_code, func.count().filter(Child.enrollment_status != "not_school_age"),
               func.count().filter(Child.enrollment_status.in_(OUT_OF_SCHOOL)))
    if codes is not None:
        h, c = h.where(Household.village_code.in_(codes)), c.where(Child.village_code.in_(codes))
    out = {code: dict.fromkeys(MAP_FIELDS, 0) for code in (codes or [])}
    for code, households, surveyed in session.execute(h.group_by(Household.village_code)):
        out.setdefault(code, dict.fromkeys(MAP_FIELDS, 0)).update(households=households, surveyed=surveyed)
    for code, children, out_of_school in session.execute(c.group_by(Child.village_code)):
        out.setdefault(code, dict.fromkeys(MAP_FIELDS, 0)).update(children=children, out_of_school=out_of_school)
    return out


def rate_counts(session: Session, codes: list[str] | None, born_from: dt.date, born_to: dt.date) -> dict[str, dict]:
    """Per village, over its school-age cohort: the counts of campaign.md's rates that the
    children's own columns decide."""
    enrolled = Child.enrollment_status.in_(ENROLLED)
    legit = Child.enrollment_status.in_(LEGIT)

    def n(cond=None):
        return cast(func.count() if cond is None else func.count().filter(cond), Integer)

    stmt = (
        select(Child.village_code, n(), n(enrolled), n(legit), n(Child.enrollment_status.in_(OUT_OF_SCHOOL)),
               n(Child.enrollment_status == "dropped_out"), n(Child.disability), n(and_(Child.disability, enrolled)),
               n(and_(Child.disability, legit)))
        .where(Child.birth_date.between(born_from, born_to), Child.enrollment_status != "not_school_age")
        .group_by(Child.village_code)
    )
    if codes is not None:
        stmt = stmt.where(Child.village_code.in_(codes))
    out = {code: dict.fromkeys(RATE_FIELDS, 0) for code in (codes or [])}
    for code, *values in session.execute(stmt):
        out[code] = dict(zip(RATE_FIELDS, values, strict=True))
    return out


def case_outcomes(session: Session, born_from: dt.date, born_to: dt.date,
                  codes: list[str] | None = None) -> dict[str, dict]:
    """Per village, from the cases (small beside the children, and not in the change log): the
    children whose case ended returned (every child, as the map counts them; and those of the
    cohort, as the rates do), and the cohort's children not dropped out by status whose case was
    opened from dropped_out (the rates' other half of 辍学)."""
    per_child = (
        select(Case.child_id, func.bool_or(Case.status == "returned").label("returned"),
               func.bool_or(Case.opened_from == "dropped_out").label("dropped_case"))
        .group_by(Case.child_id)
    )
    if codes is not None:
        # by the cases' own village, which the database keeps equal to their child's (migration
        # 20261202_2000): probing the child of every case of the county instead was 12 ms of a
        # town's 28 ms rates after a field week and a load run
        per_child = per_child.where(Case.village_code.in_(codes))
    per_child = per_child.subquery("o")
    cohort = and_(Child.birth_date.between(born_from, born_to), Child.enrollment_status != "not_school_age")
    stmt = (
        select(Child.village_code,
               cast(func.count().filter(per_child.c.returned), Integer),
               cast(func.count().filter(and_(per_child.c.returned, cohort)), Integer),
               cast(func.count().filter(and_(per_child.c.dropped_case, cohort,
                                             Child.enrollment_status != "dropped_out")), Integer))
        .join(per_child, per_child.c.child_id == Child.id)
        .group_by(Child.village_code)
    )
    if codes is not None:
        stmt = stmt.where(Child.village_code.in_(codes))
    return {code: {"returned_all": a, "returned": b, "dropped_case_only": d}
            for code, a, b, d in session.execute(stmt)}
