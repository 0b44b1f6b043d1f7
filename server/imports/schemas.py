from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from server.db import INT4_MAX
from server.imports.models import DROPOUT_SIGNALS, KINDS, MODES, SEVERITIES
from server.people.schemas import PageArgsSchema, page_of


class UploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "the roster or register, CSV or XLSX"})


class UploadFormSchema(ma.Schema):
    as_of = ma.fields.Date(metadata={"description": "the day the export reflects (default: today)"})
    mode = ma.fields.String(load_default="full", validate=ma.validate.OneOf(
        ("full",), error="The school register is always imported whole: mode=full (corrections are "
                         "for rosters)."), metadata={"description": "always full for the school register"})


class RosterUploadFormSchema(UploadFormSchema):
    mode = ma.fields.String(load_default="full", validate=ma.validate.OneOf(MODES), metadata={"description": (
        "full (default): the file is the whole roster of its towns, and a child of those towns it "
        "does not list is flagged missing from the roster. corrections: the file holds only rows "
        "to add or fix (say, the rows the import's report listed); they are merged like a full "
        "roster's, and no one is flagged missing.")})


class ImportQuerySchema(PageArgsSchema):
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))


class ProblemSchema(ma.Schema):
    line = ma.fields.Integer(metadata={"description": "line in the file as a spreadsheet shows it"})
    column = ma.fields.String(allow_none=True, metadata={"description": "field name"})
    header = ma.fields.String(allow_none=True, metadata={"description": "the column as the file names it"})
    code = ma.fields.String(metadata={"description": "stable reason code, e.g. id_number.check_digit"})
    message = ma.fields.String()
    value = ma.fields.String(allow_none=True, metadata={"description": "the cell (ID numbers masked)"})
    severity = ma.fields.String(metadata={"description": (
        "error: the row was not imported; warning: the row was imported, verify it (a birth-date or "
        "gender cell beside a valid ID number: the child has the number's birth date and gender)")})
    imported_value = ma.fields.String(allow_none=True, metadata={
        "description": "a warning's: what the row was imported with instead of value (from the ID number)"})
    name = ma.fields.String(allow_none=True, metadata={"description": "the row's child, as the file names it"})
    town = ma.fields.String(allow_none=True, metadata={"description": "the row's town, as the file names it"})
    village = ma.fields.String(allow_none=True, metadata={"description": "the row's village, as the file names it"})


class ProgressSchema(ma.Schema):
    rows_total = ma.fields.Integer(allow_none=True)
    rows_read = ma.fields.Integer()
    rows_ok = ma.fields.Integer()
    rows_bad = ma.fields.Integer()
    percent = ma.fields.Float(allow_none=True)


class JobErrorSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()


class ImportSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    status = ma.fields.String(metadata={"description": "queued, running, done or failed"})
    phase = ma.fields.String(allow_none=True, metadata={"description": "reading, saving, matching, comparing"})
    filename = ma.fields.String()
    file_format = ma.fields.String(allow_none=True)
    encoding = ma.fields.String(allow_none=True)
    as_of = ma.fields.Date()
    town_code = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    progress = ma.fields.Nested(ProgressSchema)
    problems_preview = ma.fields.List(ma.fields.Nested(ProblemSchema))
    summary = ma.fields.Dict(metadata={"description": "counts of what the import created, changed and matched"})
    error = ma.fields.Nested(JobErrorSchema, allow_none=True)
    previous_import_id = ma.fields.Integer(allow_none=True)
    mode = ma.fields.String(metadata={"description": "full or corrections (rosters; see the upload)"})


ImportPageSchema = page_of(ImportSchema)


class ProblemPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProblemSchema))
    total = ma.fields.Integer(metadata={"description": "the problems listed (of the severity asked for)"})
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()
    errors = ma.fields.Integer(metadata={"description": "the import's errors (rows not imported), in all"})
    warnings = ma.fields.Integer(metadata={"description": "the import's warnings (rows imported), in all"})


_SEVERITY = {"validate": ma.validate.OneOf(SEVERITIES),
             "metadata": {"description": "error or warning only (default: both)"}}


class ProblemArgsSchema(PageArgsSchema):
    severity = ma.fields.String(**_SEVERITY)


class ReportArgsSchema(ma.Schema):
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(["csv", "xlsx"]))
    severity = ma.fields.String(**_SEVERITY)


class SummaryArgsSchema(ma.Schema):
    town = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))


class AreaCountsSchema(ma.Schema):
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    town_code = ma.fields.String()
    children = ma.fields.Integer()
    missing_from_roster = ma.fields.Integer()
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class MatchSummarySchema(ma.Schema):
    register_import_id = ma.fields.Integer(allow_none=True)
    total = ma.fields.Nested(AreaCountsSchema)
    towns = ma.fields.List(ma.fields.Nested(AreaCountsSchema))
    villages = ma.fields.List(ma.fields.Nested(AreaCountsSchema))


class UnmatchedArgsSchema(PageArgsSchema):
    register_import = ma.fields.Integer(validate=ma.validate.Range(min=1, max=INT4_MAX), metadata={"description": "default: the latest register"})


class RegisterStudentSchema(ma.Schema):
    line = ma.fields.Integer()
    name = ma.fields.String()
    gender = ma.fields.String()
    id_number = ma.fields.String(metadata={"description": "masked"})
    student_number = ma.fields.String(allow_none=True)
    school_id = ma.fields.Integer(allow_none=True)
    school_code = ma.fields.String(allow_none=True)
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer()
    class_name = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    status_label = ma.fields.String()


class UnmatchedPageSchema(page_of(RegisterStudentSchema)):
    register_import_id = ma.fields.Integer(allow_none=True)


class DropoutArgsSchema(PageArgsSchema):
    kind = ma.fields.String(validate=ma.validate.OneOf(list(DROPOUT_SIGNALS)))
    register_import = ma.fields.Integer(validate=ma.validate.Range(min=1, max=INT4_MAX))
    detected_from = ma.fields.Date()
    detected_to = ma.fields.Date()


class SuspectedDropoutSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": ", ".join(DROPOUT_SIGNALS)})
    kind_label = ma.fields.String()
    detected_on = ma.fields.Date()
    register_import_id = ma.fields.Integer()
    previous_import_id = ma.fields.Integer()
    child_id = ma.fields.UUID(allow_none=True)
    village_code = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    gender = ma.fields.String()
    id_number = ma.fields.String(metadata={"description": "masked"})
    student_number = ma.fields.String(allow_none=True)
    school_id = ma.fields.Integer(allow_none=True)
    school_name = ma.fields.String(allow_none=True)
    grade = ma.fields.Integer()
    evidence = ma.fields.Dict()


SuspectedDropoutPageSchema = page_of(SuspectedDropoutSchema)


class MissingChildSchema(ma.Schema):
    child_id = ma.fields.UUID()
    name = ma.fields.String()
    gender = ma.fields.String()
    birth_date = ma.fields.Date()
    village_code = ma.fields.String()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    enrollment_status = ma.fields.String()
    last_import_id = ma.fields.Integer()
    missing_since_import_id = ma.fields.Integer()


MissingChildPageSchema = page_of(MissingChildSchema)


class ChangeSchema(ma.Schema):
    at = ma.fields.DateTime()
    import_id = ma.fields.Integer(allow_none=True)
    record_type = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "updated, status_from_register, missing_from_roster, back_in_roster"})
    changes = ma.fields.Dict(metadata={"description": "field: [old, new]"})


class RosterPresenceSchema(ma.Schema):
    first_import_id = ma.fields.Integer()
    last_import_id = ma.fields.Integer()
    last_line = ma.fields.Integer()
    missing_since_import_id = ma.fields.Integer(allow_none=True)


class ChildHistorySchema(ma.Schema):
    child_id = ma.fields.UUID()
    version = ma.fields.Integer()
    updated_at = ma.fields.DateTime()
    roster = ma.fields.Nested(RosterPresenceSchema, allow_none=True)
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))


class ReferralArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(("held", "moved", "dismissed")),
                              metadata={"description": "held (awaiting a decision), moved or dismissed"})


class ReferralSchema(ma.Schema):
    id = ma.fields.Integer()
    import_id = ma.fields.Integer()
    line = ma.fields.Integer()
    status = ma.fields.String()
    name = ma.fields.String()
    gender = ma.fields.String()
    birth_date = ma.fields.Date()
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    village_code = ma.fields.String(metadata={"description": "the uploader's village the row names"})
    household_number = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    head_name = ma.fields.String(allow_none=True)
    child_id = ma.fields.UUID(allow_none=True, metadata={"description": "the child on file with this number, "
                                                                         "if any (none: new to the county)"})
    child_village_code = ma.fields.String(allow_none=True)
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


ReferralPageSchema = page_of(ReferralSchema)


class ReferralDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("move", "dismiss")),
                                metadata={"description": "move: the child (or a new one) into the row's "
                                                         "village as the row says; dismiss: drop the row"})
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))


class ReferralDecidedSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    summary = ma.fields.Dict()
