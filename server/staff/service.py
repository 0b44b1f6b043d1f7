"""The bureau's accounts and teams: who creates, deactivates and resets whom; who manages which
team's members. Scope decides the area (server/accounts/scope.py): the city everywhere, a town
supervisor its own town's teams and people. Every change is written to the audit trail."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from server.accounts import service as accounts
from server.accounts.models import LINES, ROLES, Person, Team
from server.accounts.passwords import hash_password
from server.accounts.scope import TEAM_ROLES, Scope
from server.audit import service as audit
from server.errors import DomainError, FieldError, not_found
from server.staff import queries

# Unambiguous characters (no 0/O, 1/I/l): an initial password is read off a screen and typed.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
INITIAL_PASSWORD_LENGTH = 12


def _invalid(field: str, code: str, message: str) -> DomainError:
    return DomainError("request.invalid", errors=[FieldError(field, code, message)])


def _town_of(person: Person, scope: Scope) -> str | None:
    """The town a caller's people administration is limited to (None: the whole county)."""
    return None if scope.everywhere else person.town_code


def _new_password(chosen: str | None, username: str) -> tuple[str, bool]:
    """The password to set and whether it was generated (then it is shown once)."""
    if chosen is None:
        return "".join(secrets.choice(_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH)), True
    if len(chosen) < accounts.MIN_PASSWORD_LENGTH:
        raise _invalid("password", "auth.weak_password", f"at least {accounts.MIN_PASSWORD_LENGTH} characters")
    if chosen.strip().lower() == username.lower():
        raise _invalid("password", "auth.weak_password", "must differ from the username")
    return chosen, False


# --- people ---------------------------------------------------------------------------------------

def list_people(session: Session, caller: Person, scope: Scope, *, role=None, active=None, q=None,
                page: int = 1, page_size: int = 50):
    total, rows = queries.people_page(session, _town_of(caller, scope), role=role, active=active, q=q,
                                      offset=(page - 1) * page_size, limit=page_size)
    return total, describe_people(session, rows)


def describe_people(session: Session, people: list[Person]) -> list[dict]:
    teams = queries.teams_of_people(session, [p.id for p in people])
    towns = queries.town_names(session, [p.town_code for p in people])
    schools = queries.school_names(session, [p.school_id for p in people])
    return [{"id": p.id, "username": p.username, "full_name": p.full_name, "role": p.role, "line": p.line,
             "town_code": p.town_code, "town_name": towns.get(p.town_code), "school_id": p.school_id,
             "school_name": schools.get(p.school_id), "phone": p.phone, "active": p.active,
             "created_at": p.created_at,
             "teams": [{"id": t, "name": n} for t, n in teams.get(p.id, [])]} for p in people]


def create_person(session: Session, caller: Person, body: dict, remote_addr: str | None) -> tuple[Person, str | None]:
    """A new account from the bureau; returns it and the generated initial password (or None
    when the bureau chose one)."""
    username = body["username"].strip()
    if queries.username_taken(session, username):
        raise _invalid("username", "staff.username_taken", "this username is taken")
    role, line = body["role"], body.get("line")
    town_code, school_id = body.get("town_code"), body.get("school_id")
    if town_code is not None and queries.town(session, town_code) is None:
        raise _invalid("town_code", "staff.unknown_town", "no town with this code")
    if role == "town_supervisor" and town_code is None:
        raise _invalid("town_code", "staff.town_required", "a town supervisor needs a town")
    if role in TEAM_ROLES and line is None:
        raise _invalid("line", "staff.line_required", "a team member works on one line: government or school")
    if role == "school":
        school = queries.school(session, school_id) if school_id is not None else None
        if school is None:
            raise _invalid("school_id", "staff.unknown_school", "a school account needs an existing school")
        if town_code is not None and town_code != school.town_code:
            raise _invalid("town_code", "staff.school_elsewhere", "the school is in another town")
        town_code = school.town_code
    elif school_id is not None:
        raise _invalid("school_id", "staff.school_not_for_role", "only a school account names a school")
    if role == "city" and town_code is not None:
        raise _invalid("town_code", "staff.town_not_for_role", "the bureau's accounts are county-wide")
    password, generated = _new_password(body.get("password"), username)
    person = Person(username=username, full_name=body["full_name"].strip(), role=role, line=line,
                    town_code=town_code, school_id=school_id, phone=body.get("phone"),
                    password_hash=hash_password(password))
    session.add(person)
    session.flush()
    audit.record(session, caller.id, "change", "person", str(person.id), remote_addr=remote_addr,
                 what="create", username=username, role=role, town_code=town_code)
    return person, password if generated else None


def _managed_person(session: Session, caller: Person, scope: Scope, person_id: int) -> Person:
    person = queries.person_in_town(session, person_id, _town_of(caller, scope))
    if person is None:
        raise not_found("person")
    return person


def get_person(session: Session, caller: Person, scope: Scope, person_id: int) -> dict:
    return describe_people(session, [_managed_person(session, caller, scope, person_id)])[0]


def set_active(session: Session, caller: Person, scope: Scope, person_id: int, active: bool,
               remote_addr: str | None) -> tuple[Person, int]:
    """Deactivate (every login of theirs ends; their tablets are refused) or reactivate an account."""
    person = _managed_person(session, caller, scope, person_id)
    if person.id == caller.id and not active:
        raise _invalid("person_id", "staff.not_yourself", "you cannot deactivate your own account")
    person.active = active
    revoked = accounts.revoke_all(session, person.id) if not active else 0
    audit.record(session, caller.id, "change", "person", str(person.id), remote_addr=remote_addr,
                 what="deactivate" if not active else "reactivate", tokens_revoked=revoked)
    return person, revoked


def edit_person(session: Session, caller: Person, scope: Scope, person_id: int, changes: dict,
                remote_addr: str | None) -> Person:
    """Correct an account's name or phone; the trail keeps which fields changed (not their
    values: a phone is personal data, and the trail is read by more people than the account)."""
    person = _managed_person(session, caller, scope, person_id)
    changed = []
    if "full_name" in changes and changes["full_name"].strip() != person.full_name:
        person.full_name = changes["full_name"].strip()
        changed.append("full_name")
    if "phone" in changes:
        phone = (changes["phone"] or "").strip() or None
        if phone != person.phone:
            person.phone = phone
            changed.append("phone")
    if changed:
        session.flush()
        audit.record(session, caller.id, "change", "person", str(person.id), remote_addr=remote_addr,
                     what="edit", fields=changed)
    return person


def reset_password(session: Session, caller: Person, scope: Scope, person_id: int, chosen: str | None,
                   remote_addr: str | None) -> tuple[Person, str | None]:
    """A new password for someone who forgot theirs; every login of theirs ends."""
    person = _managed_person(session, caller, scope, person_id)
    password, generated = _new_password(chosen, person.username)
    person.password_hash = hash_password(password)
    revoked = accounts.revoke_all(session, person.id)
    audit.record(session, caller.id, "change", "person", str(person.id), remote_addr=remote_addr,
                 what="reset_password", tokens_revoked=revoked)
    return person, password if generated else None


# --- teams ----------------------------------------------------------------------------------------

def describe_teams(session: Session, teams: list[Team]) -> list[dict]:
    ids = [t.id for t in teams]
    villages = queries.villages_of_teams(session, ids)
    members = queries.members_of_teams(session, ids)
    towns = queries.town_names(session, [t.town_code for t in teams])
    out = []
    for t in teams:
        people = members.get(t.id, [])
        leader = next((p for p in people if p.id == t.leader_id), None)
        if leader is None and t.leader_id is not None:
            leader = session.get(Person, t.leader_id)
        out.append({"id": t.id, "name": t.name, "town_code": t.town_code, "town_name": towns.get(t.town_code),
                    "line": t.line,
                    "leader": None if leader is None else {"id": leader.id, "full_name": leader.full_name,
                                                           "username": leader.username},
                    "villages": [{"code": c, "name": n} for c, n in villages.get(t.id, [])],
                    "members": [{"id": p.id, "username": p.username, "full_name": p.full_name, "role": p.role,
                                 "active": p.active} for p in people]})
    return out


def list_teams(session: Session, scope: Scope, town_code: str | None) -> list[dict]:
    return describe_teams(session, queries.teams(session, scope, town_code))


def _managed_team(session: Session, scope: Scope, team_id: int) -> Team:
    team = queries.team_for_update(session, team_id)
    if team is None or not scope.manages_team(team.id):
        raise not_found("team")
    return team


def get_team(session: Session, scope: Scope, team_id: int) -> dict:
    team = queries.team(session, team_id)
    if team is None or not scope.manages_team(team.id):
        raise not_found("team")
    return describe_teams(session, [team])[0]


def _check_villages(session: Session, town_code: str, codes: list[str]) -> list[str]:
    codes = sorted(set(codes))
    unknown = sorted(set(codes) - queries.villages_of_town(session, town_code, codes))
    if unknown:
        raise _invalid("village_codes", "staff.village_not_in_town",
                       f"not villages of the team's town: {', '.join(unknown)}")
    return codes


def create_team(session: Session, caller: Person, body: dict, remote_addr: str | None) -> Team:
    town_code = body["town_code"]
    if queries.town(session, town_code) is None:
        raise _invalid("town_code", "staff.unknown_town", "no town with this code")
    codes = _check_villages(session, town_code, body.get("village_codes") or [])
    team = queries.add_team(session, body["name"].strip(), town_code, body["line"])
    queries.set_villages(session, team.id, codes)
    audit.record(session, caller.id, "change", "team", str(team.id), remote_addr=remote_addr,
                 what="create", name=team.name, town_code=town_code, village_codes=codes)
    return team


def set_villages(session: Session, caller: Person, scope: Scope, team_id: int, codes: list[str],
                 remote_addr: str | None) -> Team:
    team = _managed_team(session, scope, team_id)
    codes = _check_villages(session, team.town_code, codes)
    queries.set_villages(session, team.id, codes)
    audit.record(session, caller.id, "change", "team", str(team.id), remote_addr=remote_addr,
                 what="villages", village_codes=codes)
    return team


def _joinable(session: Session, caller: Person, scope: Scope, team: Team, person_id: int, roles) -> Person:
    """A person a caller may put on one of its teams: an active surveyor or leader of the team's
    line, of the caller's town (placed there by the bureau, or on its teams already). Anyone else
    is answered like an unknown id."""
    person = queries.person_in_town(session, person_id, _town_of(caller, scope))
    if person is None or not person.active or person.role not in roles:
        wanted = " or ".join(ROLES[r] for r in roles)
        raise _invalid("person_id", "staff.not_joinable", f"no active {wanted} with this id in your area")
    if person.line is not None and person.line != team.line:
        raise _invalid("person_id", "staff.other_line",
                       f"{person.full_name} works on the {LINES[person.line]}, the team on the {LINES[team.line]}")
    return person


def add_member(session: Session, caller: Person, scope: Scope, team_id: int, person_id: int,
               remote_addr: str | None) -> Team:
    team = _managed_team(session, scope, team_id)
    person = _joinable(session, caller, scope, team, person_id, TEAM_ROLES)
    if not queries.is_member(session, team.id, person.id):
        queries.add_member(session, team.id, person.id)
        audit.record(session, caller.id, "change", "team", str(team.id), remote_addr=remote_addr,
                     what="add_member", member_id=person.id)
    return team


def remove_member(session: Session, caller: Person, scope: Scope, team_id: int, person_id: int,
                  remote_addr: str | None) -> Team:
    team = _managed_team(session, scope, team_id)
    if not queries.remove_member(session, team.id, person_id):
        raise not_found("team member")
    if team.leader_id == person_id:
        queries.set_leader(session, team.id, None)
    audit.record(session, caller.id, "change", "team", str(team.id), remote_addr=remote_addr,
                 what="remove_member", member_id=person_id)
    session.expire(team)
    return team


def set_leader(session: Session, caller: Person, scope: Scope, team_id: int, person_id: int | None,
               remote_addr: str | None) -> Team:
    """Name the team's leader (a team leader account; made a member too), or none."""
    team = _managed_team(session, scope, team_id)
    if person_id is not None:
        person = _joinable(session, caller, scope, team, person_id, ("team_leader",))
        if not queries.is_member(session, team.id, person.id):
            queries.add_member(session, team.id, person.id)
    queries.set_leader(session, team.id, person_id)
    audit.record(session, caller.id, "change", "team", str(team.id), remote_addr=remote_addr,
                 what="leader", leader_id=person_id)
    session.expire(team)
    return team
