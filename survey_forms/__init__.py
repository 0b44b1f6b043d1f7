"""Survey forms: author in XLSForm, compile, version, validate submissions, map them forward.

Pure: plain dataclasses and functions, no Flask, SQLAlchemy, Redis or network. pyxform is
imported only when an XLSForm is compiled.
"""

from survey_forms.compiler import check_xlsform, compile_xlsform
from survey_forms.errors import (
    SUBMISSION_CODES,
    XLSFORM_CODES,
    FieldError,
    FormDefinitionError,
    SheetError,
)
from survey_forms.mapping import MappedSubmission, map_forward
from survey_forms.model import (
    FIELD_TYPES,
    MERGE_POLICIES,
    RECORD_TYPES,
    Choice,
    CompiledForm,
    Field,
)
from survey_forms.validation import validate_submission

__all__ = [
    "FIELD_TYPES",
    "MERGE_POLICIES",
    "RECORD_TYPES",
    "SUBMISSION_CODES",
    "XLSFORM_CODES",
    "Choice",
    "CompiledForm",
    "Field",
    "FieldError",
    "FormDefinitionError",
    "MappedSubmission",
    "SheetError",
    "check_xlsform",
    "compile_xlsform",
    "map_forward",
    "validate_submission",
]
