from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from server import db
from server.campaigns import queries, service
from server.errors import not_found
from server.http import Blueprint

blp = Blueprint("campaigns", __name__, description="Campaigns and the school-age definition")


class PeriodSchema(ma.Schema):
    start = ma.fields.Date()
    end = ma.fields.Date()


class CohortSchema(ma.Schema):
    grade = ma.fields.Integer()
    born_from = ma.fields.Date()
    born_to = ma.fields.Date()


class BirthRangeSchema(ma.Schema):
    born_from = ma.fields.Date()
    born_to = ma.fields.Date()


class CampaignSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    school_year = ma.fields.Integer(metadata={"description": "the school year starting 1 September of it"})
    cutoff = ma.fields.String(metadata={"description": "MM-DD: last birthday of a cohort"})
    active = ma.fields.Boolean()
    phases = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(PeriodSchema))
    school_age = ma.fields.Nested(BirthRangeSchema)
    cohorts = ma.fields.List(ma.fields.Nested(CohortSchema))


class NewCampaignSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    school_year = ma.fields.Integer(required=True, validate=ma.validate.Range(2000, 2100))
    cutoff = ma.fields.String(load_default="08-31", validate=ma.validate.Regexp(r"^\d{2}-\d{2}$"))
    publicity_start = ma.fields.Date(required=True)
    survey_start = ma.fields.Date(required=True)
    persuasion_start = ma.fields.Date(required=True)
    enforcement_start = ma.fields.Date(required=True)
    enforcement_end = ma.fields.Date(required=True)
    active = ma.fields.Boolean(load_default=False)


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.login_required()
    @blp.response(200, CampaignSchema(many=True))
    def get(self):
        """List campaigns, newest school year first."""
        return [service.describe(c) for c in queries.all_campaigns(db.session())]

    @blp.login_required("city")
    @blp.arguments(NewCampaignSchema)
    @blp.response(201, CampaignSchema)
    def post(self, data):
        """Create a campaign (city bureau only); active makes it the one tablets follow."""
        return service.describe(service.create(db.session(), data))


@blp.route("/campaigns/current")
class CurrentCampaign(MethodView):
    @blp.login_required()
    @blp.response(200, CampaignSchema)
    def get(self):
        """Show the active campaign and who is school-age in it (birth dates per grade)."""
        campaign = queries.active(db.session())
        if campaign is None:
            raise not_found("active campaign")
        return service.describe(campaign)
