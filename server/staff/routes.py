from __future__ import annotations

from flask import request
from flask.views import MethodView

from server import db
from server.http import Blueprint, ErrorSchema, current_person, current_scope
from server.staff import queries, schemas, service

blp = Blueprint("staff", __name__, description="People and teams: the bureau's accounts, 包村工作组, their villages "
                                               "and members")

CITY = ("city",)
GOVERNMENT = ("city", "town_supervisor")  # a town supervisor manages its own town's teams


def _team(team_id: int) -> dict:
    session = db.session()
    session.flush()
    return service.describe_teams(session, [queries.team(session, team_id)])[0]


@blp.route("/staff/people")
class People(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.arguments(schemas.PeopleQuerySchema, location="query")
    @blp.response(200, schemas.PeoplePageSchema)
    def get(self, args):
        """List the accounts in your area: the city every one, a town supervisor its town's (its
        own accounts and its teams' members and leaders)."""
        total, items = service.list_people(db.session(), current_person(), current_scope(), role=args.get("role"),
                                           active=args.get("active"), q=args.get("q"), page=args["page"],
                                           page_size=args["page_size"])
        return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}

    @blp.login_required(*CITY)
    @blp.arguments(schemas.NewPersonSchema)
    @blp.response(201, schemas.CreatedPersonSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: username staff.username_taken, "
                      "town_code staff.unknown_town / staff.town_required, line staff.line_required, school_id "
                      "staff.unknown_school, password auth.weak_password …")
    def post(self, body):
        """Create an account (the bureau). Without a password one is generated and answered once."""
        session = db.session()
        person, password = service.create_person(session, current_person(), body, request.remote_addr)
        return {**service.describe_people(session, [person])[0], "initial_password": password}


@blp.route("/staff/people/<int:person_id>")
class OnePerson(MethodView):
    @blp.login_required(*CITY)
    @blp.arguments(schemas.PersonEditSchema)
    @blp.response(200, schemas.StaffPersonSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: full_name, phone")
    def patch(self, body, person_id: int):
        """Correct an account's name or phone (the bureau); the audit trail keeps what changed."""
        session = db.session()
        person = service.edit_person(session, current_person(), current_scope(), person_id, body, request.remote_addr)
        return service.describe_people(session, [person])[0]


@blp.route("/staff/people/<int:person_id>/deactivate")
class Deactivate(MethodView):
    @blp.login_required(*CITY)
    @blp.response(200, schemas.ActiveSchema)
    def post(self, person_id: int):
        """Deactivate an account: its logins end at once and its tablets are refused."""
        person, revoked = service.set_active(db.session(), current_person(), current_scope(), person_id, False,
                                             request.remote_addr)
        return {"id": person.id, "active": person.active, "tokens_revoked": revoked}


@blp.route("/staff/people/<int:person_id>/reactivate")
class Reactivate(MethodView):
    @blp.login_required(*CITY)
    @blp.response(200, schemas.ActiveSchema)
    def post(self, person_id: int):
        """Open a deactivated account again (it logs in with a new password: reset it)."""
        person, revoked = service.set_active(db.session(), current_person(), current_scope(), person_id, True,
                                             request.remote_addr)
        return {"id": person.id, "active": person.active, "tokens_revoked": revoked}


@blp.route("/staff/people/<int:person_id>/password")
class ResetPassword(MethodView):
    @blp.login_required(*CITY)
    @blp.arguments(schemas.PasswordResetSchema)
    @blp.response(200, schemas.PasswordResetDoneSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: password auth.weak_password")
    def post(self, body, person_id: int):
        """Reset someone's password (generated and answered once, or the one given); their logins end."""
        person, password = service.reset_password(db.session(), current_person(), current_scope(), person_id,
                                                  body.get("password"), request.remote_addr)
        return {"id": person.id, "initial_password": password}


@blp.route("/staff/teams")
class Teams(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.arguments(schemas.TeamQuerySchema, location="query")
    @blp.response(200, schemas.TeamSchema(many=True))
    def get(self, args):
        """List the teams you manage with their villages, leader and members."""
        return service.list_teams(db.session(), current_scope(), args.get("town"))

    @blp.login_required(*CITY)
    @blp.arguments(schemas.NewTeamSchema)
    @blp.response(201, schemas.TeamSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: town_code staff.unknown_town, "
                      "village_codes staff.village_not_in_town")
    def post(self, body):
        """Create a team (包村工作组) of one line in a town, over some of its villages (the bureau)."""
        team = service.create_team(db.session(), current_person(), body, request.remote_addr)
        return _team(team.id)


@blp.route("/staff/teams/<int:team_id>/villages")
class TeamVillages(MethodView):
    @blp.login_required(*CITY)
    @blp.arguments(schemas.TeamVillagesSchema)
    @blp.response(200, schemas.TeamSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: village_codes staff.village_not_in_town")
    def put(self, body, team_id: int):
        """Set the villages a team covers (villages of its town)."""
        service.set_villages(db.session(), current_person(), current_scope(), team_id, body["village_codes"],
                             request.remote_addr)
        return _team(team_id)


@blp.route("/staff/teams/<int:team_id>/members")
class TeamMembers(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.arguments(schemas.MemberBodySchema)
    @blp.response(200, schemas.TeamSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: person_id staff.not_joinable (no "
                      "active surveyor or team leader of your area) or staff.other_line")
    def post(self, body, team_id: int):
        """Add a surveyor or team leader of your town to one of your town's teams."""
        service.add_member(db.session(), current_person(), current_scope(), team_id, body["person_id"],
                           request.remote_addr)
        return _team(team_id)


@blp.route("/staff/teams/<int:team_id>/members/<int:person_id>")
class TeamMember(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.response(200, schemas.TeamSchema)
    def delete(self, team_id: int, person_id: int):
        """Take someone off one of your town's teams (a leader taken off leaves the team without one)."""
        service.remove_member(db.session(), current_person(), current_scope(), team_id, person_id,
                              request.remote_addr)
        return _team(team_id)


@blp.route("/staff/teams/<int:team_id>/leader")
class TeamLeader(MethodView):
    @blp.login_required(*GOVERNMENT)
    @blp.arguments(schemas.LeaderBodySchema)
    @blp.response(200, schemas.TeamSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: person_id staff.not_joinable")
    def put(self, body, team_id: int):
        """Name the leader of one of your town's teams (a team leader account of your town), or none."""
        service.set_leader(db.session(), current_person(), current_scope(), team_id, body["person_id"],
                           request.remote_addr)
        return _team(team_id)
