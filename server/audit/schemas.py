from __future__ import annotations

import marshmallow as ma

from server.db import INT4_MAX
from server.people.schemas import PageArgsSchema, page_of

ACTIONS = ("read", "read_child", "read_attachment", "export", "import", "change")


class TrailQuerySchema(PageArgsSchema):
    person_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=INT4_MAX))
    action = ma.fields.String(validate=ma.validate.OneOf(ACTIONS))
    subject_type = ma.fields.String(validate=ma.validate.Length(min=1, max=30))
    subject_id = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    since = ma.fields.AwareDateTime(metadata={"description": "from this instant (inclusive)"})
    until = ma.fields.AwareDateTime(metadata={"description": "before this instant"})
    record_id = ma.fields.UUID(metadata={"description": "events about this child or household: the reads whose "
                                                        "answer showed it (lists included) and its changes"})
    endpoint = ma.fields.String(validate=ma.validate.Length(min=1, max=120),
                                metadata={"description": 'a read\'s request, e.g. "GET /api/v1/children"'})

    @ma.validates_schema
    def window(self, data, **_kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ma.ValidationError("must be after since", "until")


class ActorSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True)
    username = ma.fields.String(allow_none=True)
    full_name = ma.fields.String(allow_none=True)
    role = ma.fields.String(allow_none=True)


class TrailEntrySchema(ma.Schema):
    at = ma.fields.DateTime()
    person = ma.fields.Nested(ActorSchema)
    device_id = ma.fields.String(allow_none=True, metadata={"description": "the tablet, for changes it pushed"})
    action = ma.fields.String(metadata={"description": "read (personal data in a list, a map or any record but a "
                                                      "child's full one), read_child, read_attachment, export, "
                                                      "import or change"})
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    remote_addr = ma.fields.String(allow_none=True)
    source = ma.fields.String(metadata={"description": "audit (recorded events), sync (tablet submissions) or cases"})
    detail = ma.fields.Dict()
    endpoint = ma.fields.String(allow_none=True, metadata={"description": "a read's request: method and rule"})
    filters = ma.fields.Dict(allow_none=True, metadata={"description": "a read's query and path parameters"})
    record_count = ma.fields.Integer(allow_none=True, metadata={"description": "records in a read's answer"})
    record_ids = ma.fields.List(ma.fields.UUID(), allow_none=True,
                                metadata={"description": "the children and households a read's answer showed"})


TrailPageSchema = page_of(TrailEntrySchema)
