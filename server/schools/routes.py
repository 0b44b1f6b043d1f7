from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from server import db
from server.http import Blueprint
from server.schools import queries

blp = Blueprint("schools", __name__, description="Schools of the county")


class SchoolSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "学校标识码"})
    name = ma.fields.String()
    town_code = ma.fields.String(allow_none=True)
    stage = ma.fields.String(metadata={"description": "primary, junior, nine_year or special"})
    lon = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)


class SchoolQuerySchema(ma.Schema):
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))


@blp.route("/schools")
class Schools(MethodView):
    @blp.login_required()
    @blp.arguments(SchoolQuerySchema, location="query")
    @blp.response(200, SchoolSchema(many=True))
    def get(self, args):
        """List schools (public facts, no personal data), optionally of one town."""
        rows = queries.schools(db.session(), args.get("town"))
        return [
            {"id": s.id, "code": s.code, "name": s.name, "town_code": s.town_code, "stage": s.stage,
             "lon": lon, "lat": lat}
            for s, lon, lat in rows
        ]
