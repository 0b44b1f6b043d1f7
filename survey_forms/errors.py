"""Error objects of the forms package, each with a stable machine-readable code.

Two kinds: `SheetError` points into an XLSForm being published (sheet, row, column), and
`FieldError` points at one field of a submission. Codes never change meaning once shipped;
add new ones instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Codes for a submission's fields (FieldError.code).
SUBMISSION_CODES = {
    "form.unknown_field": "The form version has no such field.",
    "form.required": "A required field has no answer.",
    "form.type": "The answer has the wrong JSON type for the field.",
    "form.choice": "The answer is not among the field's choices.",
    "form.range": "The number is outside the allowed range.",
    "form.length": "The text is too short or too long.",
    "form.pattern": "The text does not match the required pattern.",
    "form.nul_character": "The text holds a NUL character (U+0000), which no record can store.",
    "form.date": "The date is not a real date written YYYY-MM-DD.",
    "form.geopoint": "The location is not {lat, lon, accuracy_m} within WGS84 bounds.",
    "form.image": "The attachment reference is not sha256:<64 lowercase hex>.",
}

# Codes for an XLSForm being published (SheetError.code).
XLSFORM_CODES = {
    "xlsform.unreadable": "The file is not a workbook pyxform can read.",
    "xlsform.invalid": "pyxform refused the form; its message says why.",
    "xlsform.form_id": "settings: form_id is missing or not a lowercase identifier.",
    "xlsform.version": "settings: version is missing or not a short version string.",
    "xlsform.record_type": "settings: record_type is not household, child or visit.",
    "xlsform.unsupported_type": "The question type is not one the campaign's tablets handle.",
    "xlsform.merge_policy": "merge_policy is unknown or does not suit the question type.",
    "xlsform.record_field": "record_field is not an identifier or is written by two questions.",
    "xlsform.renamed_from": "renamed_from is not an identifier or is claimed twice.",
    "xlsform.warning": "A warning from pyxform; the form still compiles.",
}


@dataclass(frozen=True)
class FieldError:
    """A refusal of one field of a submission."""

    field: str | None
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the shape the sync contract uses in receipts."""
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class SheetError:
    """A problem in an XLSForm, located by sheet, row and column where known."""

    sheet: str | None
    row: int | None
    column: str | None
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


class FormDefinitionError(Exception):
    """Raised when an XLSForm cannot be compiled; carries every problem found."""

    def __init__(self, errors: list[SheetError], warnings: list[SheetError] | None = None):
        self.errors = list(errors)
        self.warnings = list(warnings or [])
        super().__init__("; ".join(_describe(e) for e in self.errors))


def _describe(error: SheetError) -> str:
    where = []
    if error.sheet:
        where.append(error.sheet)
    if error.row is not None:
        where.append(f"row {error.row}")
    if error.column:
        where.append(error.column)
    prefix = f"[{', '.join(where)}] " if where else ""
    return f"{prefix}{error.code}: {error.message}"
