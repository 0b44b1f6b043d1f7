"""Compile an XLSForm into a versioned `CompiledForm` (and its XForm), checking it on the way.

pyxform reads and checks the workbook and writes the XForm; this module adds what the campaign
needs on top: the settings `form_id`, `version` and `record_type`; the survey columns
`merge_policy`, `record_field` and `renamed_from`; the parsed constraints and relevance the
server checks; and errors that always name the sheet and, where pyxform says, the row.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import IO, Any

from survey_forms.errors import FormDefinitionError, SheetError
from survey_forms.expressions import all_of, parse_constraint, parse_relevance
from survey_forms.model import (
    ENTITY_LISTS,
    MERGE_POLICIES,
    RECORD_TYPES,
    Choice,
    CompiledForm,
    Condition,
    Field,
)

Source = bytes | str | os.PathLike[str] | IO[bytes]

_FORM_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Versions appear in URLs (/forms/{form_id}/versions/{version}) and file names.
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# pyxform's type names (after its aliases) -> ours.
_FIELD_TYPES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "text": "text",
    "string": "text",
    "geopoint": "geopoint",
    "photo": "image",
    "image": "image",
}
# Rows that hold no answer for the record: notes are read, calculations and metadata are the
# tablet's own bookkeeping.
_NOT_FIELDS = {
    "note",
    "calculate",
    "start",
    "end",
    "today",
    "deviceid",
    "phonenumber",
    "username",
    "email",
    "simserial",
    "subscriberid",
    "audit",
}
_TRUE = {"yes", "true", "true()"}
_FALSE = {"no", "false", "false()", ""}
_EXTRA_COLUMNS = ("merge_policy", "record_field", "renamed_from")


def compile_xlsform(source: Source, *, file_type: str | None = None) -> CompiledForm:
    """Compile an XLSForm (path, bytes or file) or raise FormDefinitionError with every problem."""
    # `file_type` (".xlsx", ".xls", ".md", ".csv") skips pyxform's guessing of the format.
    run = _run_pyxform(source, file_type)
    builder = _Builder(run)
    form = builder.build()
    if builder.errors:
        builder.errors.sort(key=lambda e: (e.sheet or "", e.row or 0))
        raise FormDefinitionError(builder.errors, run.warnings)
    return form


def check_xlsform(source: Source, *, file_type: str | None = None) -> list[SheetError]:
    """Return every problem of an XLSForm (empty when it compiles)."""
    try:
        compile_xlsform(source, file_type=file_type)
    except FormDefinitionError as failure:
        return failure.errors
    return []


# ---------------------------------------------------------------------------------------------
# pyxform


@dataclass
class _PyxformRun:
    survey_rows: list[dict[str, str]]  # raw survey rows; index i is sheet row i + 2
    settings: dict[str, str]  # the raw settings row (sheet row 2)
    survey_json: dict[str, Any]
    xform: str
    warnings: list[SheetError]


def _run_pyxform(source: Source, file_type: str | None) -> _PyxformRun:
    # Imported here, not at module level: validating submissions and merging (every sync
    # request) use this package too, and only publishing a form needs pyxform.
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    try:
        workbook = get_xlsform(xlsform=source, file_type=file_type)
    except (PyXFormError, OSError, ValueError, TypeError, KeyError) as error:
        raise FormDefinitionError([_unreadable(str(error))]) from error

    # pyxform may rewrite the sheets it reads; keep our own copy for row numbers and columns.
    survey_rows = copy.deepcopy(list(workbook.survey or []))
    settings_rows = list(workbook.settings or [])
    settings = dict(settings_rows[0]) if settings_rows else {}

    messages: list[str] = []
    try:
        survey_json = workbook_to_json(
            workbook_dict=workbook,
            fallback_form_name=workbook.fallback_form_name,
            warnings=messages,
        )
        survey = create_survey_element_from_dict(survey_json)
        # validate=False: ODK Validate is a Java program; pyxform's own checks still run.
        xform = survey.to_xml(validate=False, pretty_print=False, warnings=messages)
    except PyXFormError as error:
        raise FormDefinitionError(
            [_from_pyxform(str(error), survey_rows, "xlsform.invalid")],
            [_from_pyxform(m, survey_rows, "xlsform.warning") for m in messages],
        ) from error
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        # pyxform does not promise PyXFormError for every malformed upload, and an upload must
        # come back as an error list, not a crash.
        raise FormDefinitionError(
            [SheetError(None, None, None, "xlsform.invalid", f"pyxform failed: {error!r}")]
        ) from error
    return _PyxformRun(
        survey_rows=survey_rows,
        settings=settings,
        survey_json=survey_json,
        xform=xform,
        warnings=[_from_pyxform(m, survey_rows, "xlsform.warning") for m in messages],
    )


def _unreadable(message: str) -> SheetError:
    return SheetError(None, None, None, "xlsform.unreadable", message)


_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET = re.compile(r"On the '(\w+)' sheet|sheet: '(\w+)'")
_COLUMN = re.compile(r"the '(\w+)' value")
_UNKNOWN_TYPE = re.compile(r"Unknown question type '([^']+)'")


def _from_pyxform(message: str, survey_rows: list[dict[str, str]], code: str) -> SheetError:
    """Turn a pyxform message into a SheetError, recovering sheet and row where it can."""
    message = message.strip()
    row_match = _ROW.search(message)
    row = int(row_match.group(1)) if row_match else None
    sheet_match = _SHEET.search(message)
    sheet = next((g for g in sheet_match.groups() if g), None) if sheet_match else None
    column_match = _COLUMN.search(message)
    column = column_match.group(1) if column_match else None
    if sheet is None and row is not None:
        # pyxform names the sheet only when it is not the survey sheet (its survey-row messages
        # such as "Unmatched 'begin_group'" carry only the row).
        sheet = "survey"
    if row is None:
        type_match = _UNKNOWN_TYPE.search(message)
        if type_match:
            sheet, column = "survey", "type"
            row = next(
                (i + 2 for i, r in enumerate(survey_rows) if r.get("type") == type_match.group(1)),
                None,
            )
        elif "choices sheet" in message:
            sheet = "choices"
    return SheetError(sheet, row, column, code, message)


# ---------------------------------------------------------------------------------------------
# From pyxform's JSON to the compiled form


def _text(value: Any, default_language: str | None) -> str:
    """Pick the Chinese text of a possibly translated label or hint."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value:
        if default_language in value:
            return str(value[default_language])
        for language in sorted(value):
            if re.search(r"\(zh|中文|chinese", language, re.IGNORECASE):
                return str(value[language])
        if "default" in value:
            return str(value["default"])
        return str(value[sorted(value)[0]])
    return str(value)


@dataclass
class _Question:
    element: dict[str, Any]
    row: int | None
    group_path: tuple[str, ...]
    group_relevants: tuple[str, ...]


@dataclass
class _Builder:
    run: _PyxformRun
    errors: list[SheetError] = field(default_factory=list)
    _cursor: int = 0

    def error(self, row: int | None, column: str | None, code: str, message: str) -> None:
        self.errors.append(SheetError("survey", row, column, code, message))

    def setting_error(self, column: str, code: str, message: str) -> None:
        row = 2 if self.run.settings else None
        self.errors.append(SheetError("settings", row, column, code, message))

    # -- rows ---------------------------------------------------------------------------------

    def next_row(self, name: str | None) -> int | None:
        """Find the sheet row of the next element named `name`, in document order."""
        rows = self.run.survey_rows
        for i in range(self._cursor, len(rows)):
            if rows[i].get("name") == name:
                self._cursor = i + 1
                return i + 2
        return None

    # -- the walk -----------------------------------------------------------------------------

    def build(self) -> CompiledForm:
        survey = self.run.survey_json
        language = survey.get("default_language")
        pairs: list[tuple[Field, _Question]] = []
        for question in self.walk(survey.get("children", []), (), ()):
            compiled = self.compile_field(question, language)
            if compiled is not None:
                pairs.append((compiled, question))
        self.check_keys(pairs)
        # Relevance is parsed once every question's record field is known: an expression may
        # name a question further down the sheet.
        by_name = {f.name: f.record_field for f, _ in pairs}
        fields = tuple(self.with_relevance(f, q, by_name) for f, q in pairs)
        form_id, version, record_type = self.form_id(), self.version(), self.record_type()
        return CompiledForm(
            form_id=form_id,
            version=version,
            title=_text(survey.get("title"), language) or form_id,
            record_type=record_type,
            fields=fields,
            xform=self.run.xform,
            warnings=tuple(self.run.warnings),
        )

    def walk(
        self, children: Iterable[dict[str, Any]], path: tuple[str, ...], relevants: tuple[str, ...]
    ) -> Iterable[_Question]:
        for element in children:
            kind = element.get("type")
            name = element.get("name")
            if kind == "group" and name == "meta" and element.get("control", {}).get("bodyless"):
                continue  # pyxform's own instanceID block, not a row of the sheet
            row = self.next_row(name)
            if kind == "group":
                self.refuse_extras(element, row, "a group")
                relevant = element.get("bind", {}).get("relevant")
                yield from self.walk(
                    element.get("children", []),
                    (*path, name),
                    (*relevants, relevant) if relevant else relevants,
                )
            elif kind in ("repeat", "loop"):
                # A repeated block would be several records in one answer; the campaign keeps one
                # record per child instead (one child survey per child).
                self.error(
                    row,
                    "type",
                    "xlsform.unsupported_type",
                    f"{name}: repeats are not supported; use one form per record.",
                )
            else:
                yield _Question(element, row, path, relevants)

    def refuse_extras(self, element: dict[str, Any], row: int | None, what: str) -> None:
        codes = {
            "merge_policy": "xlsform.merge_policy",
            "record_field": "xlsform.record_field",
            "renamed_from": "xlsform.renamed_from",
        }
        for column in _EXTRA_COLUMNS:
            if element.get(column):
                self.error(
                    row,
                    column,
                    codes[column],
                    f"{element.get('name')}: {what} writes no record field, so it takes no {column}.",
                )

    def compile_field(self, question: _Question, language: str | None) -> Field | None:
        element, row = question.element, question.row
        kind = element.get("type")
        name = element["name"]
        if kind in _NOT_FIELDS:
            self.refuse_extras(element, row, f"a {kind} row")
            return None
        itemset = str(element.get("itemset") or "")
        if kind == "select one" and not element.get("choices") and itemset.endswith(".csv") \
                and itemset.removesuffix(".csv") in ENTITY_LISTS.values():
            # Which household or child the form is about (the envelope's record id or
            # reference), picked from the device's entity list: not an answer of the record.
            self.refuse_extras(element, row, "a pick from an entity list")
            return None
        if kind not in _FIELD_TYPES:
            self.error(
                row,
                "type",
                "xlsform.unsupported_type",
                f"{name}: type {kind!r} is not supported (use select_one, select_multiple, "
                "integer, decimal, date, text, geopoint or image).",
            )
            return None
        field_type = _FIELD_TYPES[kind]
        choices: tuple[Choice, ...] = ()
        if field_type in ("select_one", "select_multiple"):
            raw_choices = element.get("choices") or []
            if not raw_choices:
                # select_one_from_file and friends: the allowed values live outside the form.
                self.error(
                    row,
                    "type",
                    "xlsform.unsupported_type",
                    f"{name}: choices must come from the choices sheet.",
                )
                return None
            values = [str(c["name"]) for c in raw_choices]
            if field_type == "select_one" and sorted(values) == ["no", "yes"]:
                field_type = "boolean"
            choices = tuple(
                Choice(
                    (c["name"] == "yes") if field_type == "boolean" else str(c["name"]),
                    _text(c.get("label"), language) or str(c["name"]),
                )
                for c in raw_choices
            )

        bind = element.get("bind", {})
        required_raw = str(bind.get("required", "")).strip()
        required = required_raw.lower() in _TRUE
        required_if = None if required or required_raw.lower() in _FALSE else required_raw

        constraint = bind.get("constraint") or None
        own_relevant = bind.get("relevant") or None
        relevants = [*question.group_relevants, *([own_relevant] if own_relevant else [])]
        if not relevants:
            relevant = None
        elif len(relevants) == 1:
            relevant = relevants[0]
        else:
            relevant = " and ".join(f"({r})" for r in relevants)

        record_field = (element.get("record_field") or name).strip()
        if not _IDENTIFIER.fullmatch(record_field):
            self.error(
                row,
                "record_field",
                "xlsform.record_field",
                f"{name}: record_field {record_field!r} is not an identifier.",
            )
        renamed_from = (element.get("renamed_from") or "").strip() or None
        if renamed_from is not None:
            if not _IDENTIFIER.fullmatch(renamed_from):
                self.error(
                    row,
                    "renamed_from",
                    "xlsform.renamed_from",
                    f"{name}: renamed_from {renamed_from!r} is not an identifier.",
                )
            elif renamed_from == record_field:
                self.error(
                    row,
                    "renamed_from",
                    "xlsform.renamed_from",
                    f"{name}: renamed_from names the field itself.",
                )

        return Field(
            name=name,
            record_field=record_field,
            type=field_type,
            label=_text(element.get("label"), language),
            hint=_text(element.get("hint"), language) or None,
            required=required,
            required_if=required_if,
            choices=choices,
            constraint=constraint,
            constraint_message=_text(bind.get("jr:constraintMsg"), language) or None,
            constraint_checks=parse_constraint(constraint, field_type),
            relevant=relevant,
            merge_policy=self.merge_policy(element, field_type, row),
            renamed_from=renamed_from,
            group="/".join(question.group_path) or None,
        )

    def merge_policy(self, element: dict[str, Any], field_type: str, row: int | None) -> str:
        name = element["name"]
        policy = (element.get("merge_policy") or "latest").strip()
        if policy not in MERGE_POLICIES:
            self.error(
                row,
                "merge_policy",
                "xlsform.merge_policy",
                f"{name}: merge_policy {policy!r} is not one of {', '.join(MERGE_POLICIES)}.",
            )
            return "latest"
        # monotonic follows the order of the choices on the choices sheet, so it needs choices
        # with an order; union unites sets, so it needs a set.
        if policy == "monotonic" and field_type not in ("select_one", "boolean"):
            self.error(
                row,
                "merge_policy",
                "xlsform.merge_policy",
                f"{name}: monotonic needs a select_one (its order is the order of the choices).",
            )
        if policy == "union" and field_type != "select_multiple":
            self.error(
                row,
                "merge_policy",
                "xlsform.merge_policy",
                f"{name}: union needs a select_multiple.",
            )
        return policy

    def check_keys(self, pairs: list[tuple[Field, _Question]]) -> None:
        writers: dict[str, tuple[Field, int | None]] = {}
        renames: dict[str, str] = {}
        for f, question in pairs:
            row = question.row
            if f.record_field in writers:
                other, other_row = writers[f.record_field]
                self.error(
                    row,
                    "record_field",
                    "xlsform.record_field",
                    f"{f.name}: record field {f.record_field!r} is also written by "
                    f"{other.name} (row {other_row}).",
                )
            else:
                writers[f.record_field] = (f, row)
            if f.renamed_from is not None:
                if f.renamed_from in renames:
                    self.error(
                        row,
                        "renamed_from",
                        "xlsform.renamed_from",
                        f"{f.name}: {f.renamed_from!r} is already renamed to "
                        f"{renames[f.renamed_from]!r}.",
                    )
                else:
                    renames[f.renamed_from] = f.record_field

    def with_relevance(
        self, compiled: Field, question: _Question, by_name: dict[str, str]
    ) -> Field:
        relevants = [*question.group_relevants]
        own = question.element.get("bind", {}).get("relevant")
        if own:
            relevants.append(own)
        if not relevants:
            return compiled
        parsed: list[Condition] = []
        for expression in relevants:
            condition = parse_relevance(expression, by_name.get)
            if condition is None:
                return compiled  # one part the server cannot read: leave it all to the tablet
            parsed.append(condition)
        return replace(compiled, relevant_when=all_of(parsed))

    # -- settings -----------------------------------------------------------------------------

    def form_id(self) -> str:
        value = (
            self.run.settings.get("form_id") or self.run.settings.get("id_string") or ""
        ).strip()
        if not _FORM_ID.fullmatch(value):
            self.setting_error(
                "form_id",
                "xlsform.form_id",
                f"form_id {value!r} must be a lowercase identifier such as household_survey.",
            )
        return value

    def version(self) -> str:
        value = (self.run.settings.get("version") or "").strip()
        if not _VERSION.fullmatch(value):
            # Excel turns 2026.10 typed as a number into 2026.1: type versions as text.
            self.setting_error(
                "version",
                "xlsform.version",
                f"version {value!r} must be a short version string such as 2026.1 "
                "(letters, digits, '.', '-', '_'), entered as text.",
            )
        return value

    def record_type(self) -> str:
        value = (self.run.settings.get("record_type") or "").strip()
        if value not in RECORD_TYPES:
            self.setting_error(
                "record_type",
                "xlsform.record_type",
                f"record_type {value!r} must be one of {', '.join(RECORD_TYPES)}.",
            )
        return value
