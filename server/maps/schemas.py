from __future__ import annotations

import re

import marshmallow as ma

from server.db import INT4_MAX
from server.maps import queries
from server.people import id_number, statuses
from server.places.schemas import VillageRefSchema

# 18 characters as an ID number has them: the search then matches exactly, by the lookup hash.
ID_NUMBER_LIKE = re.compile(r"^\d{17}[\dX]$")
PARTIAL_ID_NUMBER = re.compile(r"^[\dX]+$")


class BBox(ma.fields.Field):
    """`minlon,minlat,maxlon,maxlat` in WGS84."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            parts = tuple(float(p) for p in str(value).split(","))
        except ValueError as exc:
            raise ma.ValidationError("bbox is minlon,minlat,maxlon,maxlat") from exc
        if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
            raise ma.ValidationError("bbox is minlon,minlat,maxlon,maxlat")
        return parts


VILLAGE_CODE = ma.validate.Regexp(r"^\d{12}$")
CHILD_STATUS_CHOICES = ["out_of_school", "enrolled", "legitimately_not_enrolled", "unresolved",
                        *statuses.ENROLLMENT_STATUSES]


class LayerArgsSchema(ma.Schema):
    village = ma.fields.String(validate=VILLAGE_CODE)
    bbox = BBox(metadata={"description": "minlon,minlat,maxlon,maxlat (WGS84)", "type": "string"})
    limit = ma.fields.Integer(load_default=10000, validate=ma.validate.Range(1, 50000))


class HouseholdLayerArgsSchema(LayerArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(list(statuses.SURVEY_STATUSES)),
                              metadata={"description": "survey status"})
    priority = ma.fields.String(validate=ma.validate.OneOf(list(queries.PRIORITIES)))
    approximate = ma.fields.Boolean(metadata={
        "description": "false: only households at a surveyed GPS point; true: only those at their village's "
                       "centre (no GPS point yet). The collection's `truncated` says whether `limit` cut it."})


class ChildLayerArgsSchema(LayerArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(CHILD_STATUS_CHOICES),
                              metadata={"description": "an enrollment status or a group of them"})
    priority = ma.fields.String(validate=ma.validate.OneOf(["disabled", "left_behind", "migrant", "vulnerable"]))


class ChoroplethArgsSchema(ma.Schema):
    town = ma.fields.String(validate=VILLAGE_CODE)


class OutsideArgsSchema(ma.Schema):
    village = ma.fields.String(validate=VILLAGE_CODE)
    min_distance_m = ma.fields.Float(load_default=0, validate=ma.validate.Range(0, 100000))


class OutsideHouseholdSchema(ma.Schema):
    id = ma.fields.String()
    village_code = ma.fields.String()
    village_name = ma.fields.String()
    head_name = ma.fields.String(allow_none=True)
    survey_status = ma.fields.String()
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    distance_m = ma.fields.Float(metadata={"description": "metres from the village polygon"})
    point_in_village = ma.fields.String(allow_none=True, metadata={"description": "the village the point is in"})


class MapChildSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    gender = ma.fields.String()
    birth_date = ma.fields.Date()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    enrollment_status = ma.fields.String()
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer(allow_none=True)
    disability = ma.fields.Boolean()
    left_behind = ma.fields.Boolean()
    migrant = ma.fields.Boolean()
    dropout_reason = ma.fields.String(allow_none=True)
    case_id = ma.fields.Integer(allow_none=True, metadata={"description": "the open case, else the latest closed"})


class MapHouseholdSchema(ma.Schema):
    id = ma.fields.String()
    village_code = ma.fields.String()
    village_name = ma.fields.String()
    head_name = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    survey_status = ma.fields.String()
    priority = ma.fields.String()
    location_approximate = ma.fields.Boolean()
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    children = ma.fields.List(ma.fields.Nested(MapChildSchema))


class StartSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))


class GenerateTasksSchema(ma.Schema):
    start = ma.fields.Nested(StartSchema, load_default=None, allow_none=True,
                             metadata={"description": "where the walk starts (default: the first village's centre)"})


class TaskQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "done"]))


class TaskSchema(ma.Schema):
    id = ma.fields.String()
    village_code = ma.fields.String()
    village_name = ma.fields.String()
    household_id = ma.fields.String()
    team_id = ma.fields.Integer()
    priority = ma.fields.Integer(metadata={"description": "1 out of school, 2 priority group, 3 not surveyed"})
    reason = ma.fields.String()
    route_order = ma.fields.Integer()
    status = ma.fields.String()
    version = ma.fields.Integer()
    head_name = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    group_name = ma.fields.String(allow_none=True, metadata={"description": "组"})
    household_number = ma.fields.String(allow_none=True, metadata={"description": "户号"})
    place = ma.fields.String(metadata={"description": "组/号 as printed: 3组12号"})
    phone = ma.fields.String(allow_none=True)
    location_approximate = ma.fields.Boolean(
        allow_none=True, metadata={"description": "the point is the village's centre, not a surveyed one"})
    lon = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)


class VisitListTeamSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    town_code = ma.fields.String()
    town_name = ma.fields.String()
    line = ma.fields.String(metadata={"description": "government or school"})
    leader_name = ma.fields.String(allow_none=True)
    villages = ma.fields.List(ma.fields.Nested(VillageRefSchema))
    tasks_open = ma.fields.Integer()
    tasks_done = ma.fields.Integer()
    tasks_updated_at = ma.fields.DateTime(allow_none=True)
    manages = ma.fields.Boolean(metadata={"description": "whether the asker may build and export this list"})


class TaskBuildSchema(ma.Schema):
    team_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "idle, queued, running, done or failed"})
    phase = ma.fields.String(allow_none=True, metadata={"description": "reading, routing, saving, done"})
    done = ma.fields.Integer(allow_none=True, metadata={"description": "households placed on the route so far"})
    total = ma.fields.Integer(allow_none=True, metadata={"description": "households to place"})
    requested_at = ma.fields.String(allow_none=True)
    started_at = ma.fields.String(allow_none=True)
    finished_at = ma.fields.String(allow_none=True)
    error = ma.fields.String(allow_none=True)
    tasks_open = ma.fields.Integer()
    tasks_done = ma.fields.Integer()


class TownTasksQueuedSchema(ma.Schema):
    town_code = ma.fields.String()
    teams = ma.fields.Integer()
    queued = ma.fields.Boolean()


class WithoutGpsArgsSchema(ma.Schema):
    village = ma.fields.String(validate=VILLAGE_CODE)
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=INT4_MAX))
    page_size = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class WithoutGpsHouseholdSchema(ma.Schema):
    id = ma.fields.String()
    village_code = ma.fields.String()
    village_name = ma.fields.String()
    group_name = ma.fields.String(allow_none=True)
    household_number = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    head_name = ma.fields.String(allow_none=True)
    survey_status = ma.fields.String()
    priority = ma.fields.String()
    children = ma.fields.Integer()
    out_of_school = ma.fields.Integer()


class WithoutGpsPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WithoutGpsHouseholdSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()


class MapConfigSchema(ma.Schema):
    basemap_url = ma.fields.String(metadata={"description": "tile URL template; empty: no basemap"})
    basemap_attribution = ma.fields.String()
    gcj02 = ma.fields.Boolean(metadata={"description": "the basemap is GCJ-02: shift points for display"})


class SearchSchema(ma.Schema):
    """A child's name (a part of it), or a full ID number: matched exactly through the lookup
    hash, and never kept: the audit trail records the hash's hex, not the digits."""

    q = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))

    @ma.post_load
    def split(self, data, **kwargs):
        from flask import current_app

        text = data.pop("q").strip()
        if not text:
            raise ma.ValidationError("empty", "q")
        number = id_number.normalize(text)
        if ID_NUMBER_LIKE.match(number):
            data["id_number_lookup"] = current_app.extensions["notoneless.vault"].lookup(number).hex()
        elif PARTIAL_ID_NUMBER.match(number):
            # part of a number: no prefix search on numbers (the lookup hash matches whole ones only)
            raise ma.ValidationError("an ID number is searched whole: 18 characters (17 digits and a digit or X)",
                                     "q")
        else:
            data["name"] = text
        return data


class SearchChildSchema(ma.Schema):
    id = ma.fields.String()
    household_id = ma.fields.String()
    village_code = ma.fields.String()
    village_name = ma.fields.String()
    town_name = ma.fields.String()
    name = ma.fields.String()
    gender = ma.fields.String()
    birth_date = ma.fields.Date()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    enrollment_status = ma.fields.String()
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer(allow_none=True)
    head_name = ma.fields.String(allow_none=True)
    case_id = ma.fields.Integer(allow_none=True)
    lon = ma.fields.Float(allow_none=True, metadata={"description": "the household's surveyed point; null: none"})
    lat = ma.fields.Float(allow_none=True)


class SearchResultSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SearchChildSchema))
    by = ma.fields.String(metadata={"description": "name or id_number"})
    truncated = ma.fields.Boolean(metadata={"description": "more children matched than `limit`"})
