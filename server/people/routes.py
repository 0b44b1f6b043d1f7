from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import current as current_read
from server.audit.reads import items, one, personal_read
from server.http import Blueprint, current_person, current_scope
from server.people import schemas, service

blp = Blueprint("people", __name__, description="Households and children")


def _vault():
    return current_app.extensions["notoneless.vault"]


@blp.route("/households")
class Households(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.HouseholdQuerySchema, location="query")
    @blp.response(200, schemas.HouseholdPageSchema)
    @personal_read("household", shown=items())
    def get(self, args):
        """List households in your villages, a page at a time."""
        return service.list_households(
            db.session(), current_scope(), disclosure.viewer_of(current_person()), args["page"], args["page_size"],
            village_code=args.get("village"), survey_status=args.get("survey_status"),
        )


@blp.route("/children")
class Children(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.ChildQuerySchema, location="query")
    @blp.response(200, schemas.ChildPageSchema)
    @personal_read("child", shown=items())
    def get(self, args):
        """List children in your villages (ID numbers masked), a page at a time."""
        return service.list_children(
            db.session(), current_scope(), _vault(), disclosure.viewer_of(current_person()),
            args["page"], args["page_size"],
            village_code=args.get("village"), town_code=args.get("town"),
            enrollment_status=args.get("status"), household_id=args.get("household"),
        )


@blp.route("/children/<uuid:child_id>")
class ChildDetail(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.ChildSchema)
    @personal_read("child", shown=one(), subject="child_id", action="read_child")
    def get(self, child_id: uuid.UUID):
        """Show a child's full record; the read is written to the audit trail."""
        record = service.read_child(db.session(), current_scope(), _vault(), current_person(), child_id)
        current_read().detail["id_number"] = "masked" if record["id_number_masked"] else "full"
        return record
