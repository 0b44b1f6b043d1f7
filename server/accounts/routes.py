from __future__ import annotations

import datetime as dt

from flask import current_app, g
from flask.views import MethodView

from server import db
from server.accounts import schemas, service, throttle
from server.http import Blueprint, ErrorSchema, current_person, current_scope

blp = Blueprint("accounts", __name__, description="Logging in and who you are")


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(schemas.LoginSchema)
    @blp.response(200, schemas.TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="auth.invalid_credentials")
    @blp.alt_response(429, schema=ErrorSchema, description="auth.backoff (this account's wrong passwords) or "
                      "auth.rate_limited (this address); Retry-After says when to try again")
    def post(self, args):
        """Log in with username and password; get an expiring bearer token."""
        ttl = dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
        throttle.check("login")
        throttle.check_login(args["username"])
        try:
            token, access, person = service.log_in(db.session(), args["username"], args["password"], ttl)
        except service.LoginRefused:
            throttle.failed("login")
            throttle.login_failed(args["username"])
            raise
        throttle.login_succeeded(args["username"])
        return {"token": token, "expires_at": access.expires_at, "person": person}


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.login_required()
    @blp.response(204)
    def post(self):
        """Revoke the token this request carries."""
        current_person()
        service.log_out(db.session(), g.access_token)


@blp.route("/me")
class Me(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.MeSchema)
    def get(self):
        """Show who you are and which villages you may touch."""
        person, scope = current_person(), current_scope()
        data = schemas.PersonSchema().dump(person)
        data["village_codes"] = None if scope.everywhere else sorted(scope.village_codes)
        return data


@blp.route("/me/password")
class Password(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.PasswordChangeSchema)
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema, description="auth.wrong_password: the current password is wrong")
    @blp.alt_response(422, schema=ErrorSchema, description="request.invalid: new_password auth.weak_password")
    @blp.alt_response(429, schema=ErrorSchema, description="auth.backoff: too many wrong current passwords")
    def post(self, body):
        """Change your password; your other logins end, this one stays."""
        person = current_person()
        # the current password is a password guess like a login's: the same back-off guards it
        throttle.check_login(person.username)
        try:
            service.change_password(db.session(), person, g.access_token, body["current_password"],
                                    body["new_password"])
        except service.DomainError as error:
            if error.code == "auth.wrong_password":
                throttle.login_failed(person.username)
            raise
