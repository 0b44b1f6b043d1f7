"""The conflict queue's payloads: each value with who gave it, the distinct values once, and the
household and village the conflict is about."""

from __future__ import annotations

import marshmallow as ma

from server.people.schemas import PageArgsSchema, page_of
from server.sync.schemas import ConflictValueSchema


class ConflictQuerySchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "resolved"]))
    village = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))


class ConflictRecordSchema(ma.Schema):
    type = ma.fields.String()
    id = ma.fields.String()
    village_code = ma.fields.String()


class NamedSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(allow_none=True)


class GiverSchema(ma.Schema):
    """Who gave a value: a tablet and its surveyor, or the server (a merge of two records)."""

    device_id = ma.fields.String(allow_none=True)
    captured_at = ma.fields.String(metadata={"description": "when the tablet captured it (ISO 8601, UTC)"})
    source = ma.fields.String(metadata={"description": "tablet or server"})
    device_name = ma.fields.String(allow_none=True)
    surveyor = ma.fields.Nested(NamedSchema, allow_none=True)
    team = ma.fields.Nested(NamedSchema, allow_none=True,
                            metadata={"description": "the surveyor's team over the conflict's village"})
    line = ma.fields.String(allow_none=True, metadata={"description": "government or school"})


class GivenValueSchema(ConflictValueSchema, GiverSchema):
    pass


class ConflictOptionSchema(ma.Schema):
    value = ma.fields.Raw(allow_none=True)
    given_by = ma.fields.List(ma.fields.Nested(GiverSchema))


class ContextHouseholdSchema(ma.Schema):
    id = ma.fields.String()
    head_name = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    group_name = ma.fields.String(allow_none=True)
    household_number = ma.fields.String(allow_none=True)


class ContextChildSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    gender = ma.fields.String(allow_none=True)
    birth_date = ma.fields.String(allow_none=True)


class PlaceSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String(allow_none=True)


class ConflictContextSchema(ma.Schema):
    village = ma.fields.Nested(PlaceSchema)
    town = ma.fields.Nested(PlaceSchema, allow_none=True)
    household = ma.fields.Nested(ContextHouseholdSchema, allow_none=True)
    child = ma.fields.Nested(ContextChildSchema, allow_none=True)


class ConflictSchema(ma.Schema):
    conflict_id = ma.fields.String()
    record = ma.fields.Nested(ConflictRecordSchema)
    record_label = ma.fields.String(allow_none=True, metadata={"description": "a child's name or a household's head"})
    field = ma.fields.String()
    values = ma.fields.List(ma.fields.Nested(GivenValueSchema), metadata={"description": "every value as given"})
    options = ma.fields.List(ma.fields.Nested(ConflictOptionSchema),
                             metadata={"description": "the distinct values, each once with all who gave it"})
    context = ma.fields.Nested(ConflictContextSchema)
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    resolved_at = ma.fields.DateTime(allow_none=True)
    resolution = ma.fields.Dict(allow_none=True, metadata={
        "description": "value, note, resolved_by (person id), resolved_by_name, resolved_at"})


ConflictPageSchema = page_of(ConflictSchema)


class ResolveSchema(ma.Schema):
    value = ma.fields.Raw(required=True, allow_none=True)
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))
