"""The one place that turns a person's role and assignments into the villages they may touch.

Every query that lists places or people takes a `Scope` and filters through
`Scope.villages(column)`; nothing else decides who sees what.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from server.accounts.models import Person, team_members, team_villages
from server.places.models import Village
from server.schools.models import School


@dataclass(frozen=True)
class Scope:
    everywhere: bool
    village_codes: frozenset[str] = frozenset()

    def villages(self, column) -> ColumnElement[bool]:
        """A filter on a village-code column that keeps only this scope's villages."""
        if self.everywhere:
            return true()
        if not self.village_codes:
            return false()
        return column.in_(sorted(self.village_codes))

    def covers(self, village_code: str | None) -> bool:
        return self.everywhere or village_code in self.village_codes


def scope_of(session: Session, person: Person) -> Scope:
    """The villages `person` may see and change, from their role and assignments."""
    if not person.active:
        return Scope(False)
    if person.role == "city":
        return Scope(True)
    if person.role == "town_supervisor":
        query = select(Village.code).where(Village.town_code == person.town_code)
    elif person.role in ("team_leader", "surveyor"):
        query = (
            select(team_villages.c.village_code)
            .join(team_members, team_members.c.team_id == team_villages.c.team_id)
            .where(team_members.c.person_id == person.id)
        )
    elif person.role == "school":
        # A school sees the villages of its own town (its catchment); children's full records
        # need more than that and are decided where they are read.
        query = (
            select(Village.code)
            .join(School, School.town_code == Village.town_code)
            .where(School.id == person.school_id)
        )
    else:
        return Scope(False)
    return Scope(False, frozenset(session.scalars(query)))
