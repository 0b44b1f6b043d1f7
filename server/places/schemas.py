from __future__ import annotations

import marshmallow as ma

from server.people import statuses


class CountsSchema(ma.Schema):
    households = ma.fields.Integer()
    households_surveyed = ma.fields.Integer(metadata={"description": "visited or confirmed"})
    children = ma.fields.Integer()
    children_by_status = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(),
        metadata={"description": "children by enrollment_status: " + ", ".join(statuses.ENROLLMENT_STATUSES)},
    )
    out_of_school = ma.fields.Integer(metadata={"description": "suspected, never enrolled or dropped out"})


class TownSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    villages = ma.fields.Integer()
    counts = ma.fields.Nested(CountsSchema)


class LonLatSchema(ma.Schema):
    lon = ma.fields.Float()
    lat = ma.fields.Float()


class VillageSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    town_code = ma.fields.String()
    town_name = ma.fields.String()
    centroid = ma.fields.Nested(LonLatSchema, allow_none=True)
    counts = ma.fields.Nested(CountsSchema)


class VillageDetailSchema(VillageSchema):
    boundary = ma.fields.Dict(allow_none=True, metadata={"description": "GeoJSON MultiPolygon, WGS84"})


class VillageQuerySchema(ma.Schema):
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"), metadata={"description": "town code"})


class VillageRefSchema(ma.Schema):
    """A village named beside something else (a team's villages, a visit list's)."""

    code = ma.fields.String()
    name = ma.fields.String()
