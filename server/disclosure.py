"""The one reader policy for personal data: for each viewer, each personal field is full, masked
or absent.

Almost every record is about a minor (PIPL: the information of children under 14 is sensitive),
so every path that shows a child or a household to someone asks here rather than deciding for
itself. Who may see *which records* is `server/accounts/scope.py`; this module decides what of
a record they see. A field not listed here is not personal (statuses, grades, codes) and is
shown in full to anyone whose scope holds the record.

A masked value must stay masked next to everything else the same viewer sees. An ID number
(GB 11643) is region (6) + birth date (8) + sequence (3, the last one's parity is the gender) +
check digit; every viewer that sees a masked number also sees the birth date and gender, so the
mask shows the region only: 100 sequences x 5 parities remain, and the check digit follows from
them, 500 possible numbers (the usual "first 6, last 4" leaves exactly one).
"""

from __future__ import annotations

from typing import Any

from server.people import id_number

FULL, MASKED, ABSENT = "full", "masked", "absent"
VIEWERS = ("city", "town_supervisor", "team_leader", "surveyor", "school", "tablet")

# (record_type, field) -> {viewer: (level in lists, maps and every other read; level in the
# audited read of one full record)}. A viewer missing from a row sees the field in full.
_FIELD_POLICY: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    # The bureau matches numbers with other agencies and town supervisors print them on notices,
    # in the single, audited record only; teams identify a child by name, birth date and
    # household. Tablets hold no digits at all: they learn `id_number_status` instead.
    ("child", "id_number"): {
        "city": (MASKED, FULL), "town_supervisor": (MASKED, FULL),
        "team_leader": (MASKED, MASKED), "surveyor": (MASKED, MASKED), "school": (MASKED, MASKED),
        "tablet": (ABSENT, ABSENT),
    },
    # Schools see their own students only (scope.py); they call the family to confirm a return,
    # but a list of a school's students is no phone book.
    ("child", "guardian_phone"): {"school": (MASKED, FULL)},
    ("household", "phone"): {"school": (MASKED, FULL)},
    # The family's situation in the surveyor's own words, the five vulnerable family types, the
    # illness certificate and the team's notes are the village teams' and the towns' business.
    ("child", "dropout_reason_note"): {"school": (ABSENT, ABSENT)},
    ("child", "vulnerable_family_types"): {"school": (ABSENT, ABSENT)},
    ("child", "certificate_photo"): {"school": (ABSENT, ABSENT)},
    ("household", "vulnerable_family_types"): {"school": (ABSENT, ABSENT)},
    ("household", "notes"): {"school": (ABSENT, ABSENT)},
}

# The personal fields of each record type (the registry of record types names them; the levels
# are decided above).
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "child": ("name", "birth_date", "gender", "id_number", "guardian_name", "guardian_phone",
              "dropout_reason", "dropout_reason_note", "disability_type", "disability_level",
              "vulnerable_family_types", "certificate_photo"),
    "household": ("head_name", "phone", "address", "location", "vulnerable_family_types", "notes"),
}


def level(viewer: str, record_type: str, field: str, *, full_record: bool = False) -> str:
    """How `viewer` sees `field` of a `record_type`: FULL, MASKED or ABSENT."""
    if viewer not in VIEWERS:
        # An unknown role sees nothing personal rather than everything.
        return ABSENT if field in PERSONAL_FIELDS.get(record_type, ()) else FULL
    levels = _FIELD_POLICY.get((record_type, field), {}).get(viewer)
    if levels is None:
        return FULL
    return levels[1] if full_record else levels[0]


def mask(field: str, value: Any) -> str | None:
    """The masked form of a value: an ID number's region only, a phone's first 3 and last 2."""
    if value is None:
        return None
    text = str(value)
    if field == "id_number":
        return id_number.mask(text)
    if len(text) <= 5:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 5) + text[-2:]


def show(viewer: str, record_type: str, values: dict[str, Any], *, full_record: bool = False) -> dict[str, Any]:
    """`values` (clear) as `viewer` may see them: masked fields masked, absent ones removed."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        how = level(viewer, record_type, name, full_record=full_record)
        if how == FULL:
            out[name] = value
        elif how == MASKED:
            out[name] = mask(name, value)
    return out


def viewer_of(person=None, device=None) -> str:
    """The viewer a request acts as: a tablet (device token) or a person's role."""
    if device is not None:
        return "tablet"
    if person is None:
        raise ValueError("a read of personal data needs a person or a device")
    return person.role
