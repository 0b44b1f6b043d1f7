"""The compiled form: what a tablet renders and what the server validates against.

A compiled form is plain data. It is built from an XLSForm once, when a version is published
(`survey_forms.compiler`), stored as JSON, served to tablets, and read back with
`CompiledForm.from_dict` to validate submissions for years afterwards, so nothing here may
depend on pyxform or on the workbook it came from.

Submission `fields` are keyed by each field's `record_field` (the name the synced record carries),
which is the question's name unless the XLSForm binds it elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Bump when the shape of `CompiledForm.to_dict()` changes in a way a tablet must know about.
COMPILED_FORMAT = 1

RECORD_TYPES = ("household", "child", "visit")
# The ODK entity list of each record type an XForm client can pick (and update) a record from:
# the server publishes them per device, and an XForm's `select_one_from_file households.csv`
# is a pick of a household, not an answer.
ENTITY_LISTS = {"household": "households", "child": "children"}
MERGE_POLICIES = ("latest", "monotonic", "union", "manual")
FIELD_TYPES = (
    "select_one",
    "select_multiple",
    "integer",
    "decimal",
    "date",
    "text",
    "geopoint",
    "image",
    # A select_one over exactly the choices `yes` and `no`: the records keep true/false (the
    # people tables' flags such as `disability` are booleans), so the compiled form says so and
    # the tablet sends JSON booleans instead of the words.
    "boolean",
)

Number = int | float
ChoiceValue = str | bool


@dataclass(frozen=True)
class Choice:
    """One answer of a select question, with the label people read."""

    value: ChoiceValue
    label: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {"value": self.value, "label": self.label}


# ---------------------------------------------------------------------------------------------
# Constraints the server can check (parsed from the XLSForm `constraint` column)


@dataclass(frozen=True)
class Range:
    """A numeric answer must lie between min and max."""

    min: Number | None = None
    max: Number | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {
            "kind": "range",
            "min": self.min,
            "max": self.max,
            "min_inclusive": self.min_inclusive,
            "max_inclusive": self.max_inclusive,
        }


@dataclass(frozen=True)
class Length:
    """A text answer must have between min and max characters (inclusive)."""

    min: int | None = None
    max: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {"kind": "length", "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Pattern:
    """A text answer must match a regular expression (searched, as XPath regex() does)."""

    pattern: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {"kind": "pattern", "pattern": self.pattern}


Check = Range | Length | Pattern


def check_from_dict(data: dict[str, Any]) -> Check:
    """Read a constraint check back from its JSON shape."""
    kind = data["kind"]
    if kind == "range":
        return Range(data["min"], data["max"], data["min_inclusive"], data["max_inclusive"])
    if kind == "length":
        return Length(data["min"], data["max"])
    if kind == "pattern":
        return Pattern(data["pattern"])
    raise ValueError(f"unknown constraint kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# Simple relevance conditions (parsed from the XLSForm `relevant` column)


@dataclass(frozen=True)
class Comparison:
    """`${field} = 'value'`, `${field} != 'value'` or `selected(${field}, 'value')`."""

    field: str  # the record_field of the question the expression names
    op: str  # "=", "!=" or "selected"
    value: str | Number

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {"op": self.op, "field": self.field, "value": self.value}


@dataclass(frozen=True)
class AllOf:
    """Every term holds (XPath `and`)."""

    terms: tuple[Condition, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {"op": "and", "terms": [t.to_dict() for t in self.terms]}


@dataclass(frozen=True)
class AnyOf:
    """At least one term holds (XPath `or`)."""

    terms: tuple[Condition, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {"op": "or", "terms": [t.to_dict() for t in self.terms]}


Condition = Comparison | AllOf | AnyOf


def condition_from_dict(data: dict[str, Any]) -> Condition:
    """Read a relevance condition back from its JSON shape."""
    op = data["op"]
    if op == "and":
        return AllOf(tuple(condition_from_dict(t) for t in data["terms"]))
    if op == "or":
        return AnyOf(tuple(condition_from_dict(t) for t in data["terms"]))
    if op in ("=", "!=", "selected"):
        return Comparison(data["field"], op, data["value"])
    raise ValueError(f"unknown condition op {op!r}")


# ---------------------------------------------------------------------------------------------
# Fields and forms


@dataclass(frozen=True)
class Field:
    """One question that writes one field of the synced record."""

    name: str  # the question's name in the XLSForm (what `${...}` expressions refer to)
    record_field: str  # the key in the record's and the submission's `fields`
    type: str
    label: str
    required: bool = False
    hint: str | None = None
    choices: tuple[Choice, ...] = ()
    # The raw XPath, for the tablet; `constraint_checks` is the part the server understood.
    constraint: str | None = None
    constraint_message: str | None = None
    constraint_checks: tuple[Check, ...] = ()
    # The raw XPath (the field's own `relevant` and-ed with its groups'), for the tablet;
    # `relevant_when` is its parsed form, or None when there is no relevance or it is not simple.
    relevant: str | None = None
    relevant_when: Condition | None = None
    # A `required` column holding an expression instead of yes/no: the tablet evaluates it.
    required_if: str | None = None
    merge_policy: str = "latest"
    renamed_from: str | None = None
    group: str | None = None  # the enclosing groups' names joined with "/", for display

    @property
    def choice_values(self) -> tuple[ChoiceValue, ...]:
        """Return the choice values in sheet order (the order `monotonic` follows)."""
        return tuple(c.value for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {
            "name": self.name,
            "record_field": self.record_field,
            "type": self.type,
            "label": self.label,
            "hint": self.hint,
            "required": self.required,
            "required_if": self.required_if,
            "choices": [c.to_dict() for c in self.choices],
            "constraint": self.constraint,
            "constraint_message": self.constraint_message,
            "constraint_checks": [c.to_dict() for c in self.constraint_checks],
            "relevant": self.relevant,
            "relevant_when": None if self.relevant_when is None else self.relevant_when.to_dict(),
            "merge_policy": self.merge_policy,
            "renamed_from": self.renamed_from,
            "group": self.group,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Field:
        """Read a field back from its JSON shape."""
        relevant_when = data.get("relevant_when")
        return cls(
            name=data["name"],
            record_field=data["record_field"],
            type=data["type"],
            label=data["label"],
            hint=data.get("hint"),
            required=data["required"],
            required_if=data.get("required_if"),
            choices=tuple(Choice(c["value"], c["label"]) for c in data.get("choices", ())),
            constraint=data.get("constraint"),
            constraint_message=data.get("constraint_message"),
            constraint_checks=tuple(check_from_dict(c) for c in data.get("constraint_checks", ())),
            relevant=data.get("relevant"),
            relevant_when=None if relevant_when is None else condition_from_dict(relevant_when),
            merge_policy=data.get("merge_policy", "latest"),
            renamed_from=data.get("renamed_from"),
            group=data.get("group"),
        )


@dataclass(frozen=True)
class CompiledForm:
    """One published version of a form, ready to serve and to validate against."""

    form_id: str
    version: str
    title: str
    record_type: str
    fields: tuple[Field, ...]
    # Kept beside the compiled form, not inside it: the XForm is derived from the same XLSForm
    # and the warnings only matter to whoever publishes. Neither is part of the content hash.
    xform: str | None = field(default=None, repr=False, compare=False)
    warnings: tuple = field(default=(), repr=False, compare=False)

    def body(self) -> dict[str, Any]:
        """Return the JSON shape without the content hash."""
        return {
            "format": COMPILED_FORMAT,
            "form_id": self.form_id,
            "version": self.version,
            "title": self.title,
            "record_type": self.record_type,
            "fields": [f.to_dict() for f in self.fields],
        }

    def canonical_json(self) -> bytes:
        """Return the bytes the content hash is taken over."""
        # Sorted keys, no whitespace, UTF-8 (not \u escapes): a tablet can recompute the hash
        # from the served JSON with any JSON library that can do the same.
        return json.dumps(
            self.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @cached_property
    def sha256(self) -> str:
        """Return the content hash (hex) of the compiled form."""
        return hashlib.sha256(self.canonical_json()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape served to tablets, with its content hash."""
        return {**self.body(), "sha256": self.sha256}

    def to_xform(self) -> str:
        """Return the XForm XML (from pyxform) for ODK-family clients."""
        if self.xform is None:
            raise ValueError(
                f"{self.form_id} {self.version}: no XForm kept with this compiled form; "
                "compile it from its XLSForm again"
            )
        return self.xform

    @cached_property
    def fields_by_key(self) -> dict[str, Field]:
        """Return the fields by record_field, the key submissions use."""
        return {f.record_field: f for f in self.fields}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, xform: str | None = None) -> CompiledForm:
        """Read a compiled form back from JSON, checking its hash when it carries one."""
        if data.get("format", COMPILED_FORMAT) != COMPILED_FORMAT:
            raise ValueError(f"compiled form format {data.get('format')!r} is not supported")
        form = cls(
            form_id=data["form_id"],
            version=data["version"],
            title=data["title"],
            record_type=data["record_type"],
            fields=tuple(Field.from_dict(f) for f in data["fields"]),
            xform=xform,
        )
        expected = data.get("sha256")
        if expected is not None and expected != form.sha256:
            raise ValueError(
                f"{form.form_id} {form.version}: content hash mismatch "
                f"(stored {expected}, computed {form.sha256})"
            )
        return form
