from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import personal_read
from server.conflicts.schemas import GiverSchema, PlaceSchema
from server.duplicates import service
from server.http import Blueprint, current_person, current_scope
from server.people.schemas import PageArgsSchema, page_of

blp = Blueprint("duplicates", __name__, description="Possible duplicate children: merge or keep both")


class DuplicateQuerySchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "resolved"]))


class HouseholdBriefSchema(ma.Schema):
    id = ma.fields.String()
    head_name = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    group_name = ma.fields.String(allow_none=True)
    household_number = ma.fields.String(allow_none=True)


class RecordedBySchema(GiverSchema):
    source = ma.fields.String(metadata={"description": "tablet (a surveyor created it) or roster (the import)"})


class ChildBriefSchema(ma.Schema):
    id = ma.fields.String()
    household_id = ma.fields.String()
    village_code = ma.fields.String()
    version = ma.fields.Integer()
    created_at = ma.fields.String(allow_none=True)
    updated_at = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    gender = ma.fields.String()
    birth_date = ma.fields.String()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    enrollment_status = ma.fields.String()
    fields = ma.fields.Dict(metadata={"description": "the compared fields as the reader policy shows them "
                                                     "(an ID number masked)"})
    household = ma.fields.Nested(HouseholdBriefSchema, allow_none=True)
    village = ma.fields.Nested(PlaceSchema)
    town = ma.fields.Nested(PlaceSchema, allow_none=True)
    recorded_by = ma.fields.Nested(RecordedBySchema, metadata={"description": "who created this record"})


class DuplicateSchema(ma.Schema):
    id = ma.fields.Integer()
    reason = ma.fields.String(metadata={"description": "same_id_number or same_name_birth_household"})
    status = ma.fields.String()
    outcome = ma.fields.String(allow_none=True)
    village_code = ma.fields.String()
    created_at = ma.fields.DateTime()
    resolved_at = ma.fields.DateTime(allow_none=True)
    resolved_by_name = ma.fields.String(allow_none=True)
    differences = ma.fields.List(ma.fields.String(), metadata={
        "description": "fields where the two differ (ID numbers compared by lookup hash); household when "
                       "they live in different households"})
    same_id_number = ma.fields.Boolean()
    children = ma.fields.List(ma.fields.Nested(ChildBriefSchema, allow_none=True))


DuplicatePageSchema = page_of(DuplicateSchema)


class MergeSchema(ma.Schema):
    survivor = ma.fields.UUID(required=True, metadata={"description": "the child record that stays"})


def _vault():
    return current_app.extensions["notoneless.vault"]


def _shown_ids(items) -> list[str]:
    """The records a page shows: both children of each pair and their households."""
    ids = []
    for pair in items:
        for child in pair["children"]:
            if child:
                ids.append(child["id"])
                if child["household"]:
                    ids.append(child["household"]["id"])
    return list(dict.fromkeys(ids))


@blp.route("/duplicates")
class Duplicates(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(DuplicateQuerySchema, location="query")
    @blp.response(200, DuplicatePageSchema)
    @personal_read("duplicate", shown=lambda page: (_shown_ids(page["items"]), len(page["items"])))
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
        return service.dismiss(db.session(), current_scope(), _vault(), current_person(), candidate_id,
                               request.remote_addr)
