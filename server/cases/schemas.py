from __future__ import annotations

import marshmallow as ma

from server import caps
from server.cases import machine
from server.cases.models import NOTICE_KINDS
from server.db import INT4_MAX


class CaseQuerySchema(caps.Capped, ma.Schema):
    CAPS = {"status": caps.MAX_LIST_ITEMS}
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=INT4_MAX))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
    status = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(list(machine.STATUSES))),
                            metadata={"description": "repeat to ask for several statuses"})
    overdue = ma.fields.Boolean(metadata={"description": "only cases past their due date (or only those not)"})
    village = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=50), metadata={
        "description": "a part of the child's name, or a whole ID number (found exactly through its lookup hash)"})


class CaseSchema(ma.Schema):
    id = ma.fields.Integer()
    child_id = ma.fields.UUID()
    child_name = ma.fields.String(allow_none=True)
    gender = ma.fields.String(allow_none=True)
    birth_date = ma.fields.Date(allow_none=True)
    id_number = ma.fields.String(allow_none=True, metadata={
        "description": "masked (the region only) in lists; in a case's own read full for the city and towns"})
    village_code = ma.fields.String()
    village_name = ma.fields.String(allow_none=True)
    town_code = ma.fields.String(allow_none=True)
    town_name = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    status_label = ma.fields.String()
    opened_at = ma.fields.DateTime()
    due_on = ma.fields.Date(allow_none=True, metadata={"description": "phase end or the town's 限期"})
    deadline = ma.fields.Date(allow_none=True, metadata={"description": "限期 set on escalation"})
    overdue = ma.fields.Boolean()
    closed_at = ma.fields.DateTime(allow_none=True)
    return_school_id = ma.fields.Integer(allow_none=True)
    return_school_name = ma.fields.String(allow_none=True)
    return_date = ma.fields.Date(allow_none=True)
    exemption_reason = ma.fields.String(allow_none=True)


class CasePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()


class CaseEventSchema(ma.Schema):
    id = ma.fields.Integer()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    at = ma.fields.DateTime()
    person_id = ma.fields.Integer(allow_none=True)
    person_name = ma.fields.String(allow_none=True, metadata={"description": "who took the step"})
    note = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()


class CaseVisitSchema(ma.Schema):
    id = ma.fields.UUID()
    visit_date = ma.fields.Date(allow_none=True)
    visitors = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    next_step = ma.fields.String(allow_none=True)
    deadline = ma.fields.Date(allow_none=True)
    note = ma.fields.String(allow_none=True)


class NoticeSchema(ma.Schema):
    id = ma.fields.Integer()
    case_id = ma.fields.Integer()
    kind = ma.fields.String()
    kind_label = ma.fields.String()
    number = ma.fields.String(metadata={"description": "one series per kind, e.g. 海安教返〔2027〕0001号"})
    issued_on = ma.fields.Date()
    deadline = ma.fields.Date(allow_none=True)
    issuer = ma.fields.String(allow_none=True, metadata={"description": "the authority that signs and seals it"})
    school_name = ma.fields.String(allow_none=True)
    report_place = ma.fields.String(allow_none=True)
    contact_name = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "queued until the PDF is rendered, then done"})
    created_at = ma.fields.DateTime()
    rendered_at = ma.fields.DateTime(allow_none=True)


class SupportPlanSchema(caps.Capped, ma.Schema):
    CAPS = {"measures": caps.MAX_LIST_ITEMS}
    id = ma.fields.Integer(dump_only=True)
    case_id = ma.fields.Integer(dump_only=True)
    measures = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=200)), required=True,
                              validate=ma.validate.Length(min=1))
    responsible_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    responsible_phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=30))
    review_on = ma.fields.Date(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class CaseChildSchema(ma.Schema):
    school_id = ma.fields.Integer(allow_none=True)
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer(allow_none=True)
    class_name = ma.fields.String(allow_none=True)
    enrollment_status = ma.fields.String(allow_none=True)
    disability = ma.fields.Boolean(allow_none=True)
    disability_type = ma.fields.String(allow_none=True)
    disability_level = ma.fields.Integer(allow_none=True)
    guardian_name = ma.fields.String(allow_none=True)
    guardian_phone = ma.fields.String(allow_none=True, metadata={"description": "masked for a school"})
    dropout_reason = ma.fields.String(allow_none=True)


class CaseHouseholdSchema(ma.Schema):
    id = ma.fields.UUID()
    head_name = ma.fields.String(allow_none=True)
    group_name = ma.fields.String(allow_none=True, metadata={"description": "组"})
    household_number = ma.fields.String(allow_none=True, metadata={"description": "号"})
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "as the disclosure policy shows it"})


class CaseDetailSchema(CaseSchema):
    id_number_masked = ma.fields.Boolean(metadata={"description": "absent in the answer of a step"})
    child = ma.fields.Nested(CaseChildSchema, allow_none=True,
                             metadata={"description": "the case's own read only (not a step's answer)"})
    household = ma.fields.Nested(CaseHouseholdSchema, allow_none=True,
                                 metadata={"description": "the case's own read only (not a step's answer)"})
    events = ma.fields.List(ma.fields.Nested(CaseEventSchema))
    visits = ma.fields.List(ma.fields.Nested(CaseVisitSchema))
    notices = ma.fields.List(ma.fields.Nested(NoticeSchema))
    support_plans = ma.fields.List(ma.fields.Nested(SupportPlanSchema))
    allowed_next = ma.fields.List(ma.fields.String(), metadata={"description": "steps your role may take now"})


class TransitionSchema(ma.Schema):
    to = ma.fields.String(required=True, validate=ma.validate.OneOf(list(machine.STATUSES)))
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
    school_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=INT4_MAX),
                                  metadata={"description": "returned: the school"})
    school_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100))
    return_date = ma.fields.Date(allow_none=True)
    reason = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(list(machine.EXEMPTION_REASONS)))
    evidence = ma.fields.String(allow_none=True, metadata={"description": "sha256:<hex> of the certificate or receipt"})
    deadline = ma.fields.Date(allow_none=True, metadata={"description": "escalated: the 限期"})


class ReturnSchoolSchema(ma.Schema):
    school_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=INT4_MAX),
                                  metadata={"description": "the school the child is back in, to confirm it"})
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))


class OpenResultSchema(ma.Schema):
    opened = ma.fields.Integer()
    case_ids = ma.fields.List(ma.fields.Integer())


class NoticeRequestSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(list(NOTICE_KINDS)))
    deadline = ma.fields.Date(allow_none=True, metadata={"description": "report by; default: the case's due date"})
    school_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 2**31 - 1), metadata={
        "description": "the school to report to; default: the case's return school, else the child's"})
    report_place = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200),
                                    metadata={"description": "where to report; default: the school"})
    contact_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=50),
                                    metadata={"description": "whom the family calls; default: you"})
    contact_phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=30),
                                     metadata={"description": "default: your phone"})


class NoticeBatchQuerySchema(ma.Schema):
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))
    kind = ma.fields.String(validate=ma.validate.OneOf(list(NOTICE_KINDS)))
    format = ma.fields.String(load_default="zip", validate=ma.validate.OneOf(["zip", "pdf"]), metadata={
        "description": "zip: one PDF per notice; pdf: every notice in one PDF, to print in one go"})
