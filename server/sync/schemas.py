"""Wire shapes of the sync contract, for the OpenAPI document. The machine-readable contract
with full JSON Schemas is mobile_contract/; these mirror it."""

from __future__ import annotations

import marshmallow as ma

from server import caps


class ConflictValueSchema(ma.Schema):
    value = ma.fields.Raw(allow_none=True)
    device_id = ma.fields.String(allow_none=True)
    captured_at = ma.fields.String()


class RecordConflictSchema(ma.Schema):
    conflict_id = ma.fields.String()
    field = ma.fields.String()
    values = ma.fields.List(ma.fields.Nested(ConflictValueSchema))


class SyncRecordSchema(ma.Schema):
    type = ma.fields.String(metadata={"description": "household, child, visit or task"})
    id = ma.fields.String()
    version = ma.fields.Integer()
    village_code = ma.fields.String()
    household_id = ma.fields.String(allow_none=True)
    child_id = ma.fields.String(metadata={"description": "visits only"})
    updated_at = ma.fields.String()
    fields = ma.fields.Dict()
    conflicts = ma.fields.List(ma.fields.Nested(RecordConflictSchema))


class SyncChangeSchema(ma.Schema):
    op = ma.fields.String(metadata={"description": "upsert, delete or scope_exit"})
    record = ma.fields.Nested(SyncRecordSchema, metadata={"description": "upsert only"})
    type = ma.fields.String(metadata={"description": "delete and scope_exit"})
    id = ma.fields.String(metadata={"description": "delete and scope_exit"})
    merged_into = ma.fields.String(allow_none=True, metadata={"description": "delete only"})


class ChangesQuerySchema(ma.Schema):
    cursor = ma.fields.String(load_default=None, metadata={"description": "opaque; omit for the whole scope"})
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(1, 1000))


class ChangesSchema(ma.Schema):
    changes = ma.fields.List(ma.fields.Nested(SyncChangeSchema))
    cursor = ma.fields.String()
    has_more = ma.fields.Boolean()
    scope_hash = ma.fields.String(allow_none=True, metadata={"description": "on the last page (has_more false)"})


class PushSchema(ma.Schema):
    submissions = ma.fields.List(
        ma.fields.Raw(), required=True,
        metadata={"description": "each as in mobile_contract/schemas/push_request.json; a malformed one is "
                                 "refused alone in its receipt"},
    )


class ReceiptRecordSchema(ma.Schema):
    type = ma.fields.String(allow_none=True)
    id = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(allow_none=True)


class ReceiptErrorSchema(ma.Schema):
    field = ma.fields.String(allow_none=True)
    code = ma.fields.String()
    message = ma.fields.String()


class ReceiptSchema(ma.Schema):
    submission_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "applied, merged, conflict, duplicate or rejected"})
    record = ma.fields.Nested(ReceiptRecordSchema)
    conflicts = ma.fields.List(ma.fields.Nested(RecordConflictSchema))
    errors = ma.fields.List(ma.fields.Nested(ReceiptErrorSchema))
    missing_attachments = ma.fields.List(ma.fields.String())


class ReceiptsSchema(ma.Schema):
    receipts = ma.fields.List(ma.fields.Nested(ReceiptSchema))


class RepairRequestSchema(caps.Capped, ma.Schema):
    CAPS = {"have": caps.MAX_REPAIR_RECORDS}
    have = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                          metadata={"description": '{"<type>:<id>": version} of every record the device holds '
                                          f'(at most {caps.MAX_REPAIR_RECORDS})'})


class RepairSchema(ma.Schema):
    changes = ma.fields.List(ma.fields.Nested(SyncChangeSchema))
    scope_hash = ma.fields.String()
    cursor = ma.fields.String()


class ManifestSchema(ma.Schema):
    protocol_version = ma.fields.Integer()
    server_time = ma.fields.DateTime()
    device = ma.fields.Dict()
    surveyor = ma.fields.Dict()
    villages = ma.fields.List(ma.fields.Dict())
    forms = ma.fields.List(ma.fields.Dict())
    limits = ma.fields.Dict()
