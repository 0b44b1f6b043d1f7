from __future__ import annotations

import uuid

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import personal_read
from server.conflicts import service
from server.http import Blueprint, current_person, current_scope
from server.people.schemas import PageArgsSchema, page_of
from server.sync.schemas import ConflictValueSchema

blp = Blueprint("conflicts", __name__, description="Sync conflicts for supervisors to review")


class ConflictQuerySchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "resolved"]))
    village = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))


class ConflictRecordSchema(ma.Schema):
    type = ma.fields.String()
    id = ma.fields.String()
    village_code = ma.fields.String()


class ConflictSchema(ma.Schema):
    conflict_id = ma.fields.String()
    record = ma.fields.Nested(ConflictRecordSchema)
    record_label = ma.fields.String(allow_none=True, metadata={"description": "a child's name or a household's head"})
    field = ma.fields.String()
    values = ma.fields.List(ma.fields.Nested(ConflictValueSchema))
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    resolution = ma.fields.Dict(allow_none=True)


ConflictPageSchema = page_of(ConflictSchema)


class ResolveSchema(ma.Schema):
    value = ma.fields.Raw(required=True, allow_none=True)
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))


@blp.route("/conflicts")
class Conflicts(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(ConflictQuerySchema, location="query")
    @blp.response(200, ConflictPageSchema)
    @personal_read("conflict", shown=lambda page: ([c["record"]["id"] for c in page["items"]], len(page["items"])))
    def get(self, args):
        """List conflicts in your villages (open ones by default order: oldest first)."""
        return service.list_conflicts(db.session(), current_scope(), disclosure.viewer_of(current_person()),
                                      current_app.extensions["notoneless.vault"], args.get("status"),
                                      args.get("village"), args["page"], args["page_size"])


@blp.route("/conflicts/<uuid:conflict_id>/resolve")
class Resolve(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(ResolveSchema)
    @blp.response(200, ConflictSchema)
    def post(self, body, conflict_id: uuid.UUID):
        """Decide a conflict; the value is written as a new version that flows to tablets."""
        return service.resolve(db.session(), current_scope(), current_app.extensions["notoneless.vault"],
                               current_person(), conflict_id, body["value"], body["note"], request.remote_addr)
