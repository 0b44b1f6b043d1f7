"""The one place that turns a person's role and assignments into what they may see and manage.

Every query that lists places or people takes a `Scope` and filters through it: villages
(`Scope.villages(column)`), and within them the children and households (`Scope.children()`,
`Scope.households()`), the cases (`Scope.cases()`), the teams whose visit lists one reads and
the teams one manages (tablets, visit lists). Nothing else decides who sees what.

The lines of responsibility (campaign.md): the city sees everything; a town supervisor its town
and manages its town's teams; a team leader or surveyor sees its teams' villages, and a team
leader manages the teams it leads (a surveyor manages none); a school sees its own students
(children whose school is that school) and the cases about them or naming it as the school of
a return, and no team's visit list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import Session

from server.accounts import queries
from server.accounts.models import Person
from server.cases.models import Case
from server.people.models import Child, Household


@dataclass(frozen=True)
class Scope:
    everywhere: bool
    village_codes: frozenset[str] = frozenset()
    # A school's scope: within its villages, only children whose school is this one.
    school_id: int | None = None
    teams: frozenset[int] = frozenset()  # teams whose visit lists this person reads
    managed_teams: frozenset[int] = frozenset()  # teams whose tablets and visit lists they manage

    @property
    def students_only(self) -> bool:
        """Whether the scope holds a school's students rather than whole villages."""
        return self.school_id is not None

    def villages(self, column) -> ColumnElement[bool]:
        """A filter on a village-code column that keeps only this scope's villages."""
        if self.everywhere:
            return true()
        if not self.village_codes:
            return false()
        return column.in_(sorted(self.village_codes))

    def covers(self, village_code: str | None) -> bool:
        return self.everywhere or village_code in self.village_codes

    def children(self, child=Child) -> ColumnElement[bool]:
        """A filter on children (the model or an alias with its columns) in this scope."""
        if self.school_id is None:
            return self.villages(child.village_code)
        return and_(self.villages(child.village_code), child.school_id == self.school_id)

    def covers_child(self, child) -> bool:
        return self.covers(child.village_code) and (self.school_id is None or child.school_id == self.school_id)

    def households(self, household=Household) -> ColumnElement[bool]:
        """A filter on households in this scope: for a school, those where one of its students lives."""
        if self.school_id is None:
            return self.villages(household.village_code)
        # IN, not a correlated EXISTS: the tiles compile this filter on its own into their SQL text.
        return and_(self.villages(household.village_code),
                    household.id.in_(queries.homes_of_students(self.school_id)))

    def cases(self, case=Case) -> ColumnElement[bool]:
        """A filter on cases: of children in scope, or (a school) naming it as the school of the return."""
        if self.school_id is None:
            return self.villages(case.village_code)
        return and_(self.villages(case.village_code),
                    or_(case.child_id.in_(queries.students_of(self.school_id)), case.return_school_id == self.school_id))

    def schools(self, school_id_column) -> ColumnElement[bool]:
        """A filter on rows that name a school (register rows): a school's scope keeps its own."""
        return true() if self.school_id is None else school_id_column == self.school_id

    def reads_team(self, team_id: int) -> bool:
        return self.everywhere or team_id in self.teams or team_id in self.managed_teams

    def manages_team(self, team_id: int) -> bool:
        return self.everywhere or team_id in self.managed_teams

    def managed(self, team_id_column) -> ColumnElement[bool]:
        """A filter on a team-id column that keeps the teams this person manages."""
        if self.everywhere:
            return true()
        if not self.managed_teams:
            return false()
        return team_id_column.in_(sorted(self.managed_teams))

    def manages_member(self, team_ids) -> bool:
        """Whether a surveyor of these teams is this person's to manage: every team of theirs is
        managed here (a tablet syncs all its surveyor's villages). One in no team: the city's."""
        if self.everywhere:
            return True
        team_ids = set(team_ids)
        return bool(team_ids) and team_ids <= self.managed_teams


TEAM_ROLES = ("team_leader", "surveyor")


def team_scope(person: Person, member_of, led, member_villages, led_villages) -> Scope:
    """A team member's scope from queries.assignment_columns' arrays (None when empty)."""
    member_of = frozenset(member_of or ())
    if person.role != "team_leader":
        return Scope(False, frozenset(member_villages or ()), teams=member_of)
    # A leader manages the teams it leads (teams.leader_id), not every team it belongs to;
    # in particular not the other line's team over the same villages.
    return Scope(False, frozenset(member_villages or ()) | frozenset(led_villages or ()), teams=member_of,
                 managed_teams=frozenset(led or ()))


def scope_of(session: Session, person: Person, parts: tuple | None = None) -> Scope:
    """What `person` may see and manage, from their role and assignments.

    `parts`: what the token's lookup read with it (queries.live_token: the town's villages and
    teams, then assignment_columns' four arrays), so no query is needed for those roles."""
    if not person.active:
        return Scope(False)
    if person.role == "city":
        return Scope(True)
    if person.role == "town_supervisor":
        if parts is not None:
            villages, teams = frozenset(parts[0] or ()), frozenset(parts[1] or ())
        else:
            villages, teams = queries.town_villages(session, person.town_code), queries.town_teams(session, person.town_code)
        return Scope(False, villages, teams=teams, managed_teams=teams)
    if person.role in TEAM_ROLES:
        return team_scope(person, *(parts[2:6] if parts is not None else queries.assignments(session, person.id)))
    if person.role == "school" and person.school_id is not None:
        # A school's villages are where its students live; within them it sees its students only.
        return Scope(False, queries.school_villages(session, person.school_id), school_id=person.school_id)
    return Scope(False)
