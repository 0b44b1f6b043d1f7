"""Carry a submission made with an older form version forward to a newer one.

A tablet may stay offline for days with the version it downloaded while the bureau publishes a
new one. Its work must still count: the server validates the submission against the version it
was made with, then maps the fields forward and applies only what the newest version knows.
The raw submission is stored verbatim anyway, so nothing dropped here is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from survey_forms.errors import FieldError
from survey_forms.model import CompiledForm
from survey_forms.validation import validate_submission


@dataclass(frozen=True)
class MappedSubmission:
    """The fields of a submission expressed in a newer form version."""

    from_version: str
    to_version: str
    fields: dict[str, Any]  # keyed by the newest version's record fields; safe to apply
    renamed: dict[str, str] = field(default_factory=dict)  # submitted key -> newest key
    # Submitted key -> value, for fields no version after the submission's still has.
    dropped: dict[str, Any] = field(default_factory=dict)
    # Values that no longer fit the newest version (a removed choice, a changed type); they are
    # left out of `fields` and named here, keyed by the newest version's field.
    invalid: list[FieldError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "fields": self.fields,
            "renamed": self.renamed,
            "dropped": self.dropped,
            "invalid": [e.to_dict() for e in self.invalid],
        }


def map_forward(fields: Mapping[str, Any], versions: Sequence[CompiledForm]) -> MappedSubmission:
    """Map fields made with versions[0] forward through each later version to versions[-1]."""
    # `versions` are the form's versions in publication order, from the one the submission was
    # made with to the target; pass every version in between so chains of renames are followed.
    if not versions:
        raise ValueError("map_forward needs at least the submission's own version")
    form_ids = {v.form_id for v in versions}
    if len(form_ids) != 1:
        raise ValueError(f"versions of different forms: {sorted(form_ids)}")

    # current key -> (submitted key, value)
    current: dict[str, tuple[str, Any]] = {key: (key, value) for key, value in fields.items()}
    dropped: dict[str, Any] = {}
    for newer in versions[1:]:
        current, lost = _step(current, newer)
        dropped.update(lost)

    target = versions[-1]
    mapped = {key: value for key, (_, value) in current.items()}
    invalid = validate_submission(target, mapped, partial=True)
    for error in invalid:
        if error.field is not None:
            mapped.pop(error.field, None)
    renamed = {origin: key for key, (origin, _) in current.items() if origin != key}
    return MappedSubmission(
        from_version=versions[0].version,
        to_version=target.version,
        fields=mapped,
        renamed=renamed,
        dropped=dropped,
        invalid=invalid,
    )


def _step(
    current: dict[str, tuple[str, Any]], newer: CompiledForm
) -> tuple[dict[str, tuple[str, Any]], dict[str, Any]]:
    # A rename wins over a field that happens to carry the old name: when `phone` became
    # `guardian_phone` and a new, unrelated `phone` was added in the same version, the submitted
    # `phone` is the guardian's.
    moved = {
        f.renamed_from: f.record_field
        for f in newer.fields
        if f.renamed_from is not None and f.renamed_from in current
    }
    result: dict[str, tuple[str, Any]] = {}
    used: set[str] = set()
    for f in newer.fields:
        if f.renamed_from is not None and f.renamed_from in current:
            result[f.record_field] = current[f.renamed_from]
            used.add(f.renamed_from)
        elif f.record_field in current and f.record_field not in moved:
            result[f.record_field] = current[f.record_field]
            used.add(f.record_field)
    lost = {origin: value for key, (origin, value) in current.items() if key not in used}
    return result, lost
