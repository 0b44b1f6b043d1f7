from __future__ import annotations

import marshmallow as ma

from server import caps
from server.db import INT4_MAX
from server.people import statuses


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=INT4_MAX))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


class HouseholdQuerySchema(PageArgsSchema):
    village = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))
    survey_status = ma.fields.String(validate=ma.validate.OneOf(list(statuses.SURVEY_STATUSES)))


class ChildQuerySchema(caps.Capped, PageArgsSchema):
    CAPS = {"status": caps.MAX_LIST_ITEMS}
    village = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))
    household = ma.fields.UUID()
    status = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(statuses.ENROLLMENT_STATUSES))),
        metadata={"description": "repeat to ask for several statuses"},
    )


class LocationSchema(ma.Schema):
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    approximate = ma.fields.Boolean(metadata={"description": "the village centroid, not a GPS fix"})


class HouseholdSchema(ma.Schema):
    id = ma.fields.UUID()
    village_code = ma.fields.String()
    group_name = ma.fields.String(allow_none=True)
    household_number = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    head_name = ma.fields.String(allow_none=True)
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    survey_status = ma.fields.String()
    version = ma.fields.Integer()
    updated_at = ma.fields.DateTime()


class ChildSummarySchema(ma.Schema):
    id = ma.fields.UUID()
    household_id = ma.fields.UUID()
    village_code = ma.fields.String()
    name = ma.fields.String()
    gender = ma.fields.String()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked: the region (first 6) only"})
    birth_date = ma.fields.Date()
    enrollment_status = ma.fields.String()
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer(allow_none=True)
    disability = ma.fields.Boolean()
    left_behind = ma.fields.Boolean()
    migrant = ma.fields.Boolean()
    vulnerable_family_types = ma.fields.List(ma.fields.String())
    version = ma.fields.Integer()
    updated_at = ma.fields.DateTime()


class ChildSchema(ChildSummarySchema):
    id_number = ma.fields.String(allow_none=True, metadata={"description": "full for city and town supervisors, else masked"})
    id_number_masked = ma.fields.Boolean()
    id_number_warnings = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "id_number.birth_date_mismatch, id_number.gender_mismatch"},
    )
    ethnicity = ma.fields.String(allow_none=True)
    relation_to_head = ma.fields.String(allow_none=True)
    guardian_name = ma.fields.String(allow_none=True)
    guardian_phone = ma.fields.String(allow_none=True)
    disability_type = ma.fields.String(allow_none=True)
    disability_level = ma.fields.Integer(allow_none=True)
    school_id = ma.fields.Integer(allow_none=True)
    class_name = ma.fields.String(allow_none=True)
    dropout_reason = ma.fields.String(allow_none=True)
    dropout_reason_note = ma.fields.String(allow_none=True)


def page_of(item_schema):
    class Page(ma.Schema):
        items = ma.fields.List(ma.fields.Nested(item_schema))
        total = ma.fields.Integer()
        page = ma.fields.Integer()
        page_size = ma.fields.Integer()

    Page.__name__ = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    return Page


HouseholdPageSchema = page_of(HouseholdSchema)
ChildPageSchema = page_of(ChildSummarySchema)
