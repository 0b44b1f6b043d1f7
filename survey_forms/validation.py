"""Check a submission's fields against the compiled form version it was made with.

Value formats (the sync contract's JSON): select_one a choice value; select_multiple a list of
choice values; boolean true/false; integer and decimal JSON numbers; date "YYYY-MM-DD"; text a
string; geopoint {"lat", "lon", "accuracy_m"}; image "sha256:<64 hex>" naming an attachment.
null, "" and [] mean "no answer".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Set
from typing import Any

from survey_forms.errors import FieldError
from survey_forms.model import (
    AllOf,
    AnyOf,
    CompiledForm,
    Condition,
    Field,
    Length,
    Pattern,
    Range,
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ATTACHMENT = re.compile(r"sha256:[0-9a-f]{64}")
_GEOPOINT_KEYS = {"lat", "lon", "accuracy_m"}


def validate_submission(
    form: CompiledForm, fields: Any, *, partial: bool = False
) -> list[FieldError]:
    """Return every error in a submission's fields; an empty list means it is valid."""
    # With `partial`, fields missing from the submission are not required (the caller merges
    # them from the record); a field sent empty is still checked.
    if not isinstance(fields, Mapping):
        return [FieldError(None, "form.type", "fields must be a JSON object.")]
    value_errors = {
        f.record_field: _check_value(f, fields[f.record_field])
        for f in form.fields
        if f.record_field in fields and not _is_empty(fields[f.record_field])
    }
    # A relevance that reads a refused value is unknown: the refusal is the error to report.
    refused = {key for key, found in value_errors.items() if found}
    errors: list[FieldError] = []
    for field in form.fields:
        if field.record_field in value_errors:
            errors.extend(value_errors[field.record_field])
        elif partial and field.record_field not in fields:
            continue
        elif _is_required_now(field, fields, refused, partial=partial):
            errors.append(
                FieldError(field.record_field, "form.required", f"{_name(field)}: required.")
            )
    for key in sorted((k for k in fields if k not in form.fields_by_key), key=str):
        errors.append(
            FieldError(
                str(key),
                "form.unknown_field",
                f"{key}: form {form.form_id} version {form.version} has no such field.",
            )
        )
    return errors


def _name(field: Field) -> str:
    return f"{field.label} ({field.record_field})" if field.label else field.record_field


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _is_required_now(
    field: Field, fields: Mapping[str, Any], refused: set[str], *, partial: bool
) -> bool:
    if not field.required:
        return False  # a `required_if` expression is the tablet's to evaluate
    if field.relevant is None:
        return True
    if field.relevant_when is None:
        return False  # relevance the server cannot read: the tablet enforced it
    # Unknown (a partial submission that lacks a field the relevance reads) is not required:
    # refusing on a guess would block good data.
    return evaluate(field.relevant_when, fields, partial=partial, unknown=refused) is True


# ---------------------------------------------------------------------------------------------
# Relevance


def evaluate(
    condition: Condition,
    fields: Mapping[str, Any],
    *,
    partial: bool = False,
    unknown: Set[str] = frozenset(),
) -> bool | None:
    """Evaluate a simple condition on submitted values; None when a value it reads is unknown."""
    # A value is unknown when its field is in `unknown`, or absent from a `partial` submission.
    if isinstance(condition, AllOf):
        results = [evaluate(t, fields, partial=partial, unknown=unknown) for t in condition.terms]
        if False in results:
            return False
        return None if None in results else True
    if isinstance(condition, AnyOf):
        results = [evaluate(t, fields, partial=partial, unknown=unknown) for t in condition.terms]
        if True in results:
            return True
        return None if None in results else False
    if condition.field in unknown or (partial and condition.field not in fields):
        return None
    value = fields.get(condition.field)
    if condition.op == "selected":
        return condition.value in _selected(value)
    equal = _equals(value, condition.value)
    return equal if condition.op == "=" else not equal


def _selected(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_as_xpath_string(v) for v in value]
    return _as_xpath_string(value).split()


def _as_xpath_string(value: Any) -> str:
    # How the tablet's XForm engine sees the answer: booleans were yes/no choices, lists are
    # space-separated, no answer is the empty string.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(_as_xpath_string(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _equals(value: Any, literal: str | int | float) -> bool:
    if isinstance(literal, str):
        return _as_xpath_string(value) == literal
    if isinstance(value, bool) or value is None:
        return False
    try:
        return float(value) == float(literal)
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Values


def _check_value(field: Field, value: Any) -> list[FieldError]:
    checker = _CHECKERS[field.type]
    return checker(field, value)


def _error(field: Field, code: str, message: str) -> list[FieldError]:
    return [FieldError(field.record_field, code, f"{_name(field)}: {message}")]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_text(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return _error(field, "form.type", "expected text.")
    if "\x00" in value:
        return _error(field, "form.nul_character", "the text holds a NUL character (U+0000).")
    errors: list[FieldError] = []
    for check in field.constraint_checks:
        if isinstance(check, Length):
            length = len(value)
            if (check.min is not None and length < check.min) or (
                check.max is not None and length > check.max
            ):
                errors += _error(field, "form.length", f"length {length} is not {_span(check)}.")
        elif isinstance(check, Pattern) and re.search(check.pattern, value) is None:
            errors += _error(
                field,
                "form.pattern",
                field.constraint_message or f"does not match {check.pattern}.",
            )
    return errors


def _check_number(field: Field, value: Any) -> list[FieldError]:
    if field.type == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return _error(field, "form.type", "expected a whole number.")
    if not _is_number(value) or not math.isfinite(value):
        return _error(field, "form.type", "expected a number.")
    errors: list[FieldError] = []
    for check in field.constraint_checks:
        if isinstance(check, Range) and not _in_range(check, value):
            message = field.constraint_message or f"{value} is not {_span(check)}."
            errors += _error(field, "form.range", message)
    return errors


def _in_range(check: Range, value: int | float) -> bool:
    if check.min is not None:
        if value < check.min or (value == check.min and not check.min_inclusive):
            return False
    if check.max is not None:
        if value > check.max or (value == check.max and not check.max_inclusive):
            return False
    return True


def _span(check: Range | Length) -> str:
    low = "" if check.min is None else str(check.min)
    high = "" if check.max is None else str(check.max)
    opening = "[" if getattr(check, "min_inclusive", True) else "("
    closing = "]" if getattr(check, "max_inclusive", True) else ")"
    return f"within {opening}{low}, {high}{closing}"


def _check_select_one(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return _error(field, "form.type", "expected one choice value (a string).")
    if value not in field.choice_values:
        return _error(field, "form.choice", f"{value!r} is not one of its choices.")
    return []


def _check_boolean(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, bool):
        return _error(field, "form.type", "expected true or false.")
    return []


def _check_select_multiple(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return _error(field, "form.type", "expected a list of choice values.")
    unknown = [v for v in value if v not in field.choice_values]
    if unknown:
        return _error(field, "form.choice", f"{unknown!r} are not among its choices.")
    if len(set(value)) != len(value):
        return _error(field, "form.choice", "a choice is listed twice.")
    return []


def _check_date(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return _error(field, "form.type", "expected a date string YYYY-MM-DD.")
    if _DATE.fullmatch(value) is None:
        return _error(field, "form.date", f"{value!r} is not written YYYY-MM-DD.")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return _error(field, "form.date", f"{value!r} is not a real date.")
    return []


def _check_geopoint(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, Mapping):
        return _error(field, "form.type", 'expected {"lat", "lon", "accuracy_m"}.')
    extra = sorted(set(value) - _GEOPOINT_KEYS)
    if extra:
        return _error(field, "form.geopoint", f"unexpected keys {extra}.")
    lat, lon = value.get("lat"), value.get("lon")
    if not (_is_number(lat) and _is_number(lon)):
        return _error(field, "form.geopoint", "lat and lon must be numbers.")
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return _error(field, "form.geopoint", f"({lat}, {lon}) is not a WGS84 point.")
    accuracy = value.get("accuracy_m")
    # A point typed in by hand has no accuracy; one from GPS always does.
    if accuracy is not None and not (
        _is_number(accuracy) and math.isfinite(accuracy) and accuracy >= 0
    ):
        return _error(field, "form.geopoint", "accuracy_m must be a number of metres >= 0.")
    return []


def _check_image(field: Field, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return _error(field, "form.type", "expected an attachment reference sha256:<hex>.")
    if _ATTACHMENT.fullmatch(value) is None:
        return _error(field, "form.image", f"{value!r} is not sha256:<64 lowercase hex>.")
    return []


_CHECKERS = {
    "text": _check_text,
    "integer": _check_number,
    "decimal": _check_number,
    "select_one": _check_select_one,
    "boolean": _check_boolean,
    "select_multiple": _check_select_multiple,
    "date": _check_date,
    "geopoint": _check_geopoint,
    "image": _check_image,
}
