"""Every word the workbench shows for a code: field and choice labels from the forms in use, and
the campaign's own vocabularies (roles, lines, case steps, notice kinds, task reasons) from the
modules that define them, so a label is written once and a published form's wording reaches the
browser without a release."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.accounts.models import LINES, ROLES
from server.cases.machine import EXEMPTION_REASONS, STATUSES
from server.cases.models import NOTICE_KINDS
from server.devices.service import DEVICE_STATUSES
from server.forms import queries as form_queries
from server.forms import service as forms
from server.maps.service import PRIORITY_LABELS
from server.maps.tasks import REASON_LABELS
from server.people.statuses import SURVEY_STATUSES, VULNERABLE_FAMILY_TYPES

# Fields a record keeps that no form asks (they come from the rosters), with the words the
# rosters use: a form that asks one later says it in its own words instead.
ROSTER_FIELDS: dict[str, dict[str, tuple[str, dict]]] = {
    "child": {
        "ethnicity": ("民族", {}),
        "relation_to_head": ("与户主关系", {}),
        "class_name": ("班级", {}),
        "vulnerable_family_types": ("五种弱势家庭", VULNERABLE_FAMILY_TYPES),
    },
    "household": {
        "group_name": ("组", {}),
        "household_number": ("户号", {}),
    },
}


def labels(session: Session) -> dict:
    """Return the labels: `fields[record_type][field] = {label, choices: {value: label}}`, and the vocabularies."""
    fields: dict[str, dict[str, dict]] = {}
    for in_use in forms.forms_in_use(session):
        row = form_queries.version(session, in_use.form_id, in_use.version)
        if row is None:
            continue
        form = forms.compiled(row)
        per_type = fields.setdefault(form.record_type, {})
        for field in form.fields:
            entry = per_type.setdefault(field.record_field, {"label": field.label, "choices": {}})
            for choice in field.choices:
                # a yes/no question keeps true/false in the record (survey_forms.model)
                entry["choices"].setdefault(_key(choice.value), choice.label)
    for record_type, extra in ROSTER_FIELDS.items():
        per_type = fields.setdefault(record_type, {})
        for name, (label, choices) in extra.items():
            per_type.setdefault(name, {"label": label, "choices": dict(choices)})
    return {
        "fields": fields,
        "roles": ROLES,
        "lines": LINES,
        "case_statuses": STATUSES,
        "exemption_reasons": EXEMPTION_REASONS,
        "notice_kinds": NOTICE_KINDS,
        "task_reasons": REASON_LABELS,
        "genders": {"M": "男", "F": "女"},
        "device_statuses": DEVICE_STATUSES,
        "map_priorities": PRIORITY_LABELS,
        "survey_statuses": SURVEY_STATUSES,
    }


def _key(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
