from __future__ import annotations

import marshmallow as ma

from server.reports.queries import GROUPS


class RatesQuerySchema(ma.Schema):
    by = ma.fields.String(load_default="town", validate=ma.validate.OneOf(GROUPS))
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))


class RatesRowSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    town_code = ma.fields.String(metadata={"description": "by=village: the village's town"})
    town_name = ma.fields.String(metadata={"description": "by=village: the village's town"})
    school_age = ma.fields.Integer()
    enrolled = ma.fields.Integer()
    legitimately_absent = ma.fields.Integer()
    out_of_school = ma.fields.Integer()
    returned = ma.fields.Integer()
    dropped_out = ma.fields.Integer()
    disabled_school_age = ma.fields.Integer()
    disabled_enrolled = ma.fields.Integer()
    disabled_legitimately_absent = ma.fields.Integer()
    enrollment_rate = ma.fields.Float(allow_none=True, metadata={"description": "入学率"})
    retention_rate = ma.fields.Float(allow_none=True, metadata={"description": "巩固率 (in-year form)"})
    disabled_enrollment_rate = ma.fields.Float(allow_none=True, metadata={"description": "残疾儿童少年入学率"})
    meets_targets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(allow_none=True))


class RatesReportSchema(ma.Schema):
    school_year = ma.fields.Integer()
    by = ma.fields.String()
    targets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    rows = ma.fields.List(ma.fields.Nested(RatesRowSchema))
    total = ma.fields.Nested(RatesRowSchema)
    cases = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                           metadata={"description": "open, overdue, returned, exempted"})


class MonthlyQuerySchema(ma.Schema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(min=2000, max=2100))


class MonthlyRowSchema(ma.Schema):
    month = ma.fields.Integer()
    town_code = ma.fields.String()
    signals = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    cases_opened = ma.fields.Integer()
    returned = ma.fields.Integer()


class MonthlyReportSchema(ma.Schema):
    year = ma.fields.Integer()
    rows = ma.fields.List(ma.fields.Nested(MonthlyRowSchema))


class SemesterQuerySchema(ma.Schema):
    start = ma.fields.Date(required=True, metadata={"description": "the semester's first day"})


class SemesterItemSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    name = ma.fields.String()
    village_code = ma.fields.String(allow_none=True)
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer()
    detected_on = ma.fields.Date()
    child_id = ma.fields.UUID(allow_none=True)


class SemesterReportSchema(ma.Schema):
    start = ma.fields.Date()
    until = ma.fields.Date()
    total = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(SemesterItemSchema))


class ExportRequestSchema(ma.Schema):
    by = ma.fields.String(load_default="town", validate=ma.validate.OneOf(GROUPS))
    town = ma.fields.String(allow_none=True, validate=ma.validate.Regexp(r"^\d{12}$"))


class ExportSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    params = ma.fields.Dict()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)


class RegisterQuerySchema(ma.Schema):
    # ASCII digits: Python's \d also takes full-width ones, which no code has.
    town = ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{12}$"), metadata={"description": "a town's code"})
    village = ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{12}$"),
                               metadata={"description": "a village's code"})
