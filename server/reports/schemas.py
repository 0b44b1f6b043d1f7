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


class AccountedQuerySchema(ma.Schema):
    town = ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{12}$"), metadata={"description": "a town's code"})
    village = ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{12}$"),
                               metadata={"description": "a village's code"})
    team = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2_147_483_647),
                             metadata={"description": "list only the unaccounted children of this team's villages"})
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=2_147_483_647))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


class AccountedCountsSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    town_code = ma.fields.String()
    town_name = ma.fields.String()
    children = ma.fields.Integer(metadata={"description": "school-age children on file (roster and found)"})
    surveyed = ma.fields.Integer(metadata={"description": "household visited and the child in school"})
    in_case = ma.fields.Integer(metadata={"description": "a case open, or one ended with the child back in school"})
    exempt = ma.fields.Integer(metadata={"description": "lawfully not enrolled, with its evidence"})
    accounted = ma.fields.Integer()
    unaccounted = ma.fields.Integer()
    accounted_share = ma.fields.Float(allow_none=True)
    not_surveyed = ma.fields.Integer(metadata={"description": "unaccounted: the household never visited"})
    no_case = ma.fields.Integer(metadata={"description": "unaccounted: out of school and no case"})
    no_evidence = ma.fields.Integer(metadata={"description": "unaccounted: lawfully absent without evidence"})
    unresolved = ma.fields.Integer(metadata={"description": "unaccounted: suspended or transferred, unverified"})


class AccountedTeamSchema(AccountedCountsSchema):
    id = ma.fields.Integer()
    line = ma.fields.String(metadata={"description": "government or school"})
    villages = ma.fields.Integer(metadata={"description": "the team's villages in your scope"})


class PhaseSchema(ma.Schema):
    key = ma.fields.String(metadata={"description": "publicity, survey, persuasion, enforcement, not_started, ended"})
    name = ma.fields.String()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date(metadata={"description": "the phase's last day (not_started: the first phase's start)"})
    days_left = ma.fields.Integer(metadata={"description": "days from today until ends_on (0: today)"})


class UnaccountedChildSchema(ma.Schema):
    child_id = ma.fields.UUID()
    name = ma.fields.String(allow_none=True)
    gender = ma.fields.String(allow_none=True)
    birth_date = ma.fields.Date(allow_none=True)
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked (server/disclosure.py)"})
    enrollment_status = ma.fields.String()
    town_code = ma.fields.String()
    town_name = ma.fields.String()
    village_code = ma.fields.String()
    village_name = ma.fields.String()
    household_id = ma.fields.UUID()
    group_name = ma.fields.String(allow_none=True)
    household_number = ma.fields.String(allow_none=True)
    head_name = ma.fields.String(allow_none=True)
    survey_status = ma.fields.String()
    reason = ma.fields.String(metadata={"description": "not_surveyed, no_case, no_evidence or unresolved"})
    reason_label = ma.fields.String()


class UnaccountedPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(UnaccountedChildSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()


class CampaignBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    school_year = ma.fields.Integer()


class AccountedReportSchema(ma.Schema):
    campaign = ma.fields.Nested(CampaignBriefSchema, allow_none=True)
    school_year = ma.fields.Integer()
    today = ma.fields.Date()
    phase = ma.fields.Nested(PhaseSchema, allow_none=True)
    standings = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    reasons = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    total = ma.fields.Nested(AccountedCountsSchema)
    towns = ma.fields.List(ma.fields.Nested(AccountedCountsSchema))
    villages = ma.fields.List(ma.fields.Nested(AccountedCountsSchema))
    teams = ma.fields.List(ma.fields.Nested(AccountedTeamSchema))
    unaccounted = ma.fields.Nested(UnaccountedPageSchema)
