from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import personal_read
from server.duplicates import service
from server.http import Blueprint, current_person, current_scope
from server.people.schemas import PageArgsSchema, page_of

blp = Blueprint("duplicates", __name__, description="Possible duplicate children: merge or keep both")


class DuplicateQuerySchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "resolved"]))


class ChildBriefSchema(ma.Schema):
    id = ma.fields.String()
    household_id = ma.fields.String()
    village_code = ma.fields.String()
    version = ma.fields.Integer()
    name = ma.fields.String()
    gender = ma.fields.String()
    birth_date = ma.fields.String()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    enrollment_status = ma.fields.String()


class DuplicateSchema(ma.Schema):
    id = ma.fields.Integer()
    reason = ma.fields.String(metadata={"description": "same_id_number or same_name_birth_household"})
    status = ma.fields.String()
    outcome = ma.fields.String(allow_none=True)
    village_code = ma.fields.String()
    created_at = ma.fields.DateTime()
    children = ma.fields.List(ma.fields.Nested(ChildBriefSchema, allow_none=True))


DuplicatePageSchema = page_of(DuplicateSchema)


class MergeSchema(ma.Schema):
    survivor = ma.fields.UUID(required=True, metadata={"description": "the child record that stays"})


def _vault():
    return current_app.extensions["notoneless.vault"]


@blp.route("/duplicates")
class Duplicates(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(DuplicateQuerySchema, location="query")
    @blp.response(200, DuplicatePageSchema)
    @personal_read("duplicate", shown=lambda page: ([c["id"] for pair in page["items"] for c in pair["children"] if c],
                                                    len(page["items"])))
    def get(self, args):
        """List possible duplicate children in your villages."""
        return service.list_candidates(db.session(), current_scope(), _vault(), disclosure.viewer_of(current_person()),
                                       args.get("status"), args["page"], args["page_size"])


@blp.route("/duplicates/<int:candidate_id>/merge")
class Merge(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(MergeSchema)
    @blp.response(200, DuplicateSchema)
    def post(self, body, candidate_id: int):
        """Merge the pair into the survivor; the other becomes a tombstone tablets learn of."""
        return service.merge(db.session(), current_scope(), _vault(), current_person(), candidate_id,
                             body["survivor"], request.remote_addr)


@blp.route("/duplicates/<int:candidate_id>/dismiss")
class Dismiss(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.response(200, DuplicateSchema)
    def post(self, candidate_id: int):
        """Keep both: they are different children."""
        return service.dismiss(db.session(), current_scope(), _vault(), current_person(), candidate_id)
