"""Every query of the accounts domain: people, tokens, and what a person's scope is made of."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from server.accounts.models import AccessToken, Person, Team, team_members, team_villages
from server.cases.models import Case
from server.people.models import Child
from server.places.models import Village

# --- people and tokens --------------------------------------------------------------------------


def person_by_username(session: Session, username: str) -> Person | None:
    return session.scalar(select(Person).where(Person.username == username))


def people_by_username(session: Session, usernames: list[str]) -> dict[str, Person]:
    return {p.username: p for p in session.scalars(select(Person).where(Person.username.in_(usernames)))}


def _live_token():
    token_hash = bindparam("token_hash")
    return (
        select(Person, AccessToken, *town_columns(Person.town_code), *assignment_columns(Person.id))
        .join(AccessToken, AccessToken.person_id == Person.id)
        .where(
            AccessToken.token_hash == token_hash,
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > func.now(),
            Person.active.is_(True),
        )
    )


def live_token(session: Session, token_hash: bytes) -> tuple[Person, AccessToken, tuple] | None:
    """The active person behind an unexpired, unrevoked token's hash, their token, and what
    their scope is made of (town_columns' two arrays, then assignment_columns' four).

    One round trip: every request of a supervisor starts here, and a town supervisor's paid
    two more for their town's villages and teams before it read anything of its own (a town's
    rates made nine round trips, each a wait for the GIL and a CPU under a field day's load)."""
    row = session.execute(_LIVE_TOKEN, {"token_hash": token_hash}).first()
    return None if row is None else (row[0], row[1], tuple(row[2:]))


def revoke_token(session: Session, token_id: int) -> None:
    session.execute(update(AccessToken).where(AccessToken.id == token_id).values(revoked_at=func.now()))


def revoke_tokens_of(session: Session, person_id: int, keep: int | None = None) -> int:
    statement = update(AccessToken).where(AccessToken.person_id == person_id, AccessToken.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(AccessToken.id != keep)
    result = session.execute(statement.values(revoked_at=func.now()))
    return result.rowcount


# --- what a scope is made of --------------------------------------------------------------------


def town_villages(session: Session, town_code: str) -> frozenset[str]:
    return frozenset(session.scalars(select(Village.code).where(Village.town_code == town_code)))


def town_teams(session: Session, town_code: str) -> frozenset[int]:
    return frozenset(session.scalars(select(Team.id).where(Team.town_code == town_code)))


def town_columns(town_code) -> tuple:
    """A town supervisor's scope as two array subqueries on a town code (a column to correlate
    with, or a value): the town's villages and its teams (NULL for no town)."""
    return (
        select(func.array_agg(Village.code)).where(Village.town_code == town_code).scalar_subquery(),
        select(func.array_agg(Team.id)).where(Team.town_code == town_code).scalar_subquery(),
    )


def assignment_columns(person_id) -> tuple:
    """What a team member's scope is made of, as four array subqueries on a person id (a column
    to correlate with, or a value): the teams they are a member of, the teams they lead, and the
    villages of each. A device's token lookup reads them in the same round trip."""
    # Joins, not nested IN subqueries: a subquery two levels down would not correlate with the
    # outer query's person and would read every team of everyone.
    return (
        select(func.array_agg(team_members.c.team_id)).where(team_members.c.person_id == person_id)
        .scalar_subquery(),
        select(func.array_agg(Team.id)).where(Team.leader_id == person_id).scalar_subquery(),
        select(func.array_agg(team_villages.c.village_code))
        .join(team_members, team_members.c.team_id == team_villages.c.team_id)
        .where(team_members.c.person_id == person_id).scalar_subquery(),
        select(func.array_agg(team_villages.c.village_code))
        .join(Team, Team.id == team_villages.c.team_id)
        .where(Team.leader_id == person_id).scalar_subquery(),
    )


# Built once: building and keying this statement on every request cost more than running it.
_LIVE_TOKEN = _live_token()


def assignments(session: Session, person_id: int) -> tuple:
    """assignment_columns' four arrays for one person, in one round trip (None for an empty one)."""
    return tuple(session.execute(select(*assignment_columns(person_id))).one())


def school_villages(session: Session, school_id: int) -> frozenset[str]:
    """Where a school's students live, and the villages of the cases whose return names it."""
    return frozenset(session.scalars(
        select(Child.village_code).where(Child.school_id == school_id).union(
            select(Case.village_code).where(Case.return_school_id == school_id))))


def students_of(school_id: int) -> Select:
    """The ids of a school's students, as a subquery for a filter."""
    return select(Child.id).where(Child.school_id == school_id)


def homes_of_students(school_id: int) -> Select:
    """The households where a school's students live, as a subquery for a filter."""
    return select(Child.household_id).where(Child.school_id == school_id)
