"""Every query of staff administration: people and teams in a caller's scope, team members and villages."""

from __future__ import annotations

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.scope import Scope
from server.places.models import Town, Village
from server.schools.models import School


def _in_town(town_code: str):
    """People of a town: its own accounts (a supervisor, a surveyor the bureau placed there) and
    the members and leaders of its teams."""
    town_teams = select(Team.id).where(Team.town_code == town_code)
    return or_(Person.town_code == town_code,
               exists().where(team_members.c.person_id == Person.id, team_members.c.team_id.in_(town_teams)),
               Person.id.in_(select(Team.leader_id).where(Team.town_code == town_code)))


def people_page(session: Session, town_code: str | None, *, role: str | None, active: bool | None,
                q: str | None, offset: int, limit: int) -> tuple[int, list[Person]]:
    """People in one town (None: everyone), filtered, by username."""
    query = select(Person)
    if town_code is not None:
        query = query.where(_in_town(town_code))
    if role:
        query = query.where(Person.role == role)
    if active is not None:
        query = query.where(Person.active.is_(active))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Person.username.ilike(pattern), Person.full_name.ilike(pattern)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(session.scalars(query.order_by(Person.username).offset(offset).limit(limit)))
    return total, rows


def person_in_town(session: Session, person_id: int, town_code: str | None) -> Person | None:
    query = select(Person).where(Person.id == person_id)
    if town_code is not None:
        query = query.where(_in_town(town_code))
    return session.scalar(query)


def teams_of_people(session: Session, person_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """person id -> [(team id, team name)] of the teams they are members of."""
    out: dict[int, list[tuple[int, str]]] = {}
    if not person_ids:
        return out
    rows = session.execute(select(team_members.c.person_id, Team.id, Team.name)
                           .join(Team, Team.id == team_members.c.team_id)
                           .where(team_members.c.person_id.in_(person_ids)).order_by(Team.name))
    for person_id, team_id, name in rows:
        out.setdefault(person_id, []).append((team_id, name))
    return out


def person_team_ids(session: Session, person_id: int) -> list[int]:
    return list(session.scalars(select(team_members.c.team_id).where(team_members.c.person_id == person_id)))


def username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(exists().where(func.lower(Person.username) == username.lower())))


def town(session: Session, code: str) -> Town | None:
    return session.get(Town, code)


def school(session: Session, school_id: int) -> School | None:
    return session.get(School, school_id)


def town_names(session: Session, codes) -> dict[str, str]:
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    return dict(session.execute(select(Town.code, Town.name).where(Town.code.in_(codes))).all())


def school_names(session: Session, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    return dict(session.execute(select(School.id, School.name).where(School.id.in_(ids))).all())


# --- teams -----------------------------------------------------------------------------------------

def teams(session: Session, scope: Scope, town_code: str | None) -> list[Team]:
    query = select(Team).where(scope.managed(Team.id))
    if town_code:
        query = query.where(Team.town_code == town_code)
    return list(session.scalars(query.order_by(Team.town_code, Team.name)))


def team(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def team_for_update(session: Session, team_id: int) -> Team | None:
    return session.scalar(select(Team).where(Team.id == team_id).with_for_update())


def villages_of_teams(session: Session, team_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    if not team_ids:
        return out
    rows = session.execute(select(team_villages.c.team_id, Village.code, Village.name)
                           .join(Village, Village.code == team_villages.c.village_code)
                           .where(team_villages.c.team_id.in_(team_ids)).order_by(Village.code))
    for team_id, code, name in rows:
        out.setdefault(team_id, []).append((code, name))
    return out


def members_of_teams(session: Session, team_ids: list[int]) -> dict[int, list[Person]]:
    out: dict[int, list[Person]] = {}
    if not team_ids:
        return out
    rows = session.execute(select(team_members.c.team_id, Person)
                           .join(Person, Person.id == team_members.c.person_id)
                           .where(team_members.c.team_id.in_(team_ids)).order_by(Person.role, Person.username))
    for team_id, person in rows:
        out.setdefault(team_id, []).append(person)
    return out


def villages_of_town(session: Session, town_code: str, codes: list[str]) -> set[str]:
    """Which of `codes` are villages of the town."""
    if not codes:
        return set()
    return set(session.scalars(select(Village.code).where(Village.town_code == town_code, Village.code.in_(codes))))


def add_team(session: Session, name: str, town_code: str, line: str) -> Team:
    team_row = Team(name=name, town_code=town_code, line=line)
    session.add(team_row)
    session.flush()
    return team_row


def set_villages(session: Session, team_id: int, codes: list[str]) -> None:
    session.execute(delete(team_villages).where(team_villages.c.team_id == team_id))
    if codes:
        session.execute(insert(team_villages), [{"team_id": team_id, "village_code": c} for c in codes])


def is_member(session: Session, team_id: int, person_id: int) -> bool:
    return session.scalar(select(exists().where(team_members.c.team_id == team_id,
                                                team_members.c.person_id == person_id)))


def add_member(session: Session, team_id: int, person_id: int) -> None:
    session.execute(insert(team_members).values(team_id=team_id, person_id=person_id))


def remove_member(session: Session, team_id: int, person_id: int) -> int:
    return session.execute(delete(team_members).where(team_members.c.team_id == team_id,
                                                      team_members.c.person_id == person_id)).rowcount


def set_leader(session: Session, team_id: int, person_id: int | None) -> None:
    session.execute(update(Team).where(Team.id == team_id).values(leader_id=person_id))
