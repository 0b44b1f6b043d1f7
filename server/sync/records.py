"""How each synced record type looks on the wire: its fields, read from a row and written back.

Rows come as JSON (`to_jsonb(t)`, the same form `record_versions` keeps), so the current state
and any earlier version convert with the same code: the base of a merge is compared with the
device's value in exactly the representation the device was given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from shapely import wkb
from shapely.geometry import Point

from server.people import id_number
from server.people.protection import IdNumberVault


def _point(value) -> Point | None:
    # to_jsonb renders a geometry as GeoJSON (PostGIS casts geometry to json); older rows kept
    # as text are hex EWKB.
    if not value:
        return None
    if isinstance(value, dict):
        lon, lat = value["coordinates"][:2]
        return Point(lon, lat)
    return wkb.loads(bytes.fromhex(value))


def _cipher(value: str | None) -> bytes | None:
    # to_jsonb renders bytea as "\\x<hex>"
    return bytes.fromhex(value[2:]) if value else None


@dataclass(frozen=True)
class Adapter:
    record_type: str
    table: str
    # Fields a tablet may write (the forms can only bind to these) and read-only ones it is sent.
    writable: tuple[str, ...]
    read_only: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.writable + self.read_only


HOUSEHOLD = Adapter(
    "household", "households",
    writable=("head_name", "phone", "address", "group_name", "household_number", "location",
              "survey_status", "vulnerable_family_types", "notes"),
    read_only=("approximate_location",),
)
CHILD = Adapter(
    "child", "children",
    writable=("name", "gender", "birth_date", "id_number", "enrollment_status", "school_name", "grade",
              "dropout_reason", "dropout_reason_note", "certificate_photo", "disability", "disability_type",
              "disability_level", "left_behind", "migrant", "guardian_name", "guardian_phone",
              "vulnerable_family_types", "ethnicity", "relation_to_head", "class_name"),
)
VISIT_COLUMNS = ("visitors", "visit_date", "outcome", "next_step", "deadline", "note")
VISIT = Adapter("visit", "visits", writable=VISIT_COLUMNS)  # plus any answers the form adds

ADAPTERS = {a.record_type: a for a in (HOUSEHOLD, CHILD, VISIT)}


def fields_of(record_type: str, row: dict, vault: IdNumberVault) -> dict[str, Any]:
    """The synced fields of a row (a to_jsonb object)."""
    if record_type == "household":
        point = _point(row.get("location"))
        located = {"lat": point.y, "lon": point.x, "accuracy_m": row.get("location_accuracy_m")} if point else None
        approximate = row.get("location_approximate", True)
        out = {name: row.get(name) for name in HOUSEHOLD.writable if name != "location"}
        out["location"] = None if approximate else located
        out["approximate_location"] = located if approximate else None
        out["vulnerable_family_types"] = out["vulnerable_family_types"] or []
        return out
    if record_type == "child":
        out = {name: row.get(name) for name in CHILD.writable if name != "id_number"}
        cipher = _cipher(row.get("id_number_cipher"))
        # Tablets are given the masked form only (least access): the full number stays here.
        out["id_number"] = id_number.mask(vault.decrypt(cipher)) if cipher else None
        out["vulnerable_family_types"] = out["vulnerable_family_types"] or []
        return out
    if record_type == "visit":
        out = dict(row.get("answers") or {})
        out.update({name: row.get(name) for name in VISIT_COLUMNS})
        return out
    raise ValueError(f"unknown record type {record_type!r}")


def envelope(record_type: str, row: dict, vault: IdNumberVault, conflicts: list[dict]) -> dict:
    """The record as the contract sends it to a tablet."""
    record = {
        "type": record_type,
        "id": str(row["id"]),
        "version": row["version"],
        "village_code": row["village_code"],
        "household_id": str(row["household_id"]) if row.get("household_id") else (
            str(row["id"]) if record_type == "household" else None),
        "updated_at": _iso(row["updated_at"]),
        "fields": fields_of(record_type, row, vault),
        "conflicts": conflicts,
    }
    if record_type == "household":
        record["household_id"] = None
    if record_type == "visit":
        record["child_id"] = str(row["child_id"])
    return record


def _iso(value) -> str:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).isoformat()
    return value.isoformat()


class FieldValueError(ValueError):
    def __init__(self, field: str, code: str, message: str):
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


def columns_for(record_type: str, fields: dict[str, Any], vault: IdNumberVault) -> dict[str, Any]:
    """Column values for a change of synced fields (raises FieldValueError on a bad value)."""
    out: dict[str, Any] = {}
    if record_type == "household":
        for name, value in fields.items():
            if name == "location":
                if value is None:
                    out.update(location=None, location_accuracy_m=None)
                else:
                    out.update(location=f"SRID=4326;POINT({float(value['lon'])} {float(value['lat'])})",
                               location_accuracy_m=value.get("accuracy_m"), location_approximate=False)
            else:
                out[name] = value
        return out
    if record_type == "child":
        for name, value in fields.items():
            if name == "id_number":
                if value is None:
                    out.update(id_number_cipher=None, id_number_lookup=None)
                    continue
                check = id_number.check(str(value))
                if not check.ok:
                    raise FieldValueError("id_number", check.errors[0], "not a valid ID number (GB 11643)")
                out.update(id_number_cipher=vault.encrypt(check.value), id_number_lookup=vault.lookup(check.value))
            elif name == "birth_date":
                out[name] = dt.date.fromisoformat(value) if isinstance(value, str) else value
            else:
                out[name] = value
        return out
    if record_type == "visit":
        answers = {}
        for name, value in fields.items():
            if name in VISIT_COLUMNS:
                out[name] = dt.date.fromisoformat(value) if name in ("visit_date", "deadline") and value else value
            else:
                answers[name] = value
        if answers:
            out["answers"] = answers
        return out
    raise ValueError(f"unknown record type {record_type!r}")


def parse_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _json_value(value):
    """A column value as to_jsonb would render it (so cached rows read like fetched ones)."""
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith("SRID=4326;POINT("):
        lon, lat = (float(x) for x in value[len("SRID=4326;POINT("):-1].split())
        return {"type": "Point", "coordinates": [lon, lat]}
    return value


def row_after(row: dict, columns: dict) -> dict:
    """The row (to_jsonb form) after an UPDATE or INSERT of `columns`, without asking the database."""
    out = dict(row)
    out.update({name: _json_value(value) for name, value in columns.items()})
    return out
