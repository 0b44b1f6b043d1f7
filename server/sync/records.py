"""How each synced record type looks on the wire: its fields, read from a row and written back.

Rows come as JSON (`to_jsonb(t)`, the same form `record_versions` keeps), so the current state
and any earlier version convert with the same code: the base of a merge is compared with the
device's value in exactly the representation the device was given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from shapely import wkb
from shapely.geometry import Point

from server import disclosure
from server.people import id_number
from server.people.protection import IdNumberVault, child_subject, marker
from server.records import registry


def _point(value) -> Point | None:
    # to_jsonb renders a geometry as GeoJSON (PostGIS casts geometry to json); older rows kept
    # as text are hex EWKB.
    if not value:
        return None
    if isinstance(value, dict):
        lon, lat = value["coordinates"][:2]
        return Point(lon, lat)
    return wkb.loads(bytes.fromhex(value))


def _bytea(value: str | bytes | None) -> bytes | None:
    # to_jsonb renders bytea as "\\x<hex>"
    if isinstance(value, bytes):
        return value
    return bytes.fromhex(value[2:]) if value else None


# Fields whose value the merge sees only as a marker (server.people.protection.marker) and
# that tablets never receive: the ID number. They merge `on_file` (sync/merge.py).
PROTECTED = {t.name: t.protected for t in registry.RECORD_TYPES.values() if t.protected}
ID_NUMBER_STATUSES = ("on_file", "matched", "mismatch", "missing")


def id_number_status(row: dict, conflicts: list[dict]) -> str:
    """What a tablet is told about a child's ID number instead of any digit of it."""
    if any(c.get("field") == "id_number" for c in conflicts):
        return "mismatch"  # a typed number differs from the one on file; a supervisor decides
    lookup = row.get("id_number_lookup")
    if not lookup:
        return "missing"
    return "matched" if row.get("id_number_confirmed_lookup") == lookup else "on_file"


def tablet_absent(record_type: str) -> tuple[str, ...]:
    """The fields a tablet is never sent (server/disclosure.py says ABSENT for the viewer "tablet").

    Tablets get the rest in full: the pull's JSON is built by the database, which cannot mask,
    so the policy may not ask to mask anything for a tablet."""
    out = []
    for name in registry.get(record_type).writable:
        how = disclosure.level("tablet", record_type, name)
        if how == disclosure.MASKED:
            raise RuntimeError(f"{record_type}.{name}: tablets get a field in full or not at all")
        if how == disclosure.ABSENT:
            out.append(name)
    return tuple(out)


# The record types a form can write, by name (server/forms checks a form's bindings against them).
ADAPTERS = {name: t for name, t in registry.RECORD_TYPES.items() if t.device_writable}
HOUSEHOLD, CHILD, VISIT, TASK = (registry.get(n) for n in ("household", "child", "visit", "task"))
VISIT_COLUMNS = VISIT.writable


def fields_of(record_type: str, row: dict) -> dict[str, Any]:
    """The synced fields of a row (a to_jsonb object), as the merge compares them: an ID number
    as its marker (its keyed lookup hash), never decrypted."""
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
        out["id_number"] = marker(_bytea(row.get("id_number_lookup")))
        out["vulnerable_family_types"] = out["vulnerable_family_types"] or []
        return out
    if record_type == "visit":
        out = dict(row.get("answers") or {})
        out.update({name: row.get(name) for name in VISIT_COLUMNS})
        return out
    if record_type == "task":
        return {name: row.get(name) for name in TASK.sent}
    raise ValueError(f"unknown record type {record_type!r}")


def device_fields(record_type: str, row: dict, conflicts: list[dict]) -> dict[str, Any]:
    """The fields as a tablet receives them: no ID number nor any part of one, its status instead."""
    out = fields_of(record_type, row)
    for name in tablet_absent(record_type):
        out.pop(name, None)
    if record_type == "child":
        out["id_number_status"] = id_number_status(row, conflicts)
    return out


def device_conflicts(conflicts: list[dict]) -> list[dict]:
    """Conflicts as a tablet or a receipt shows them: a protected value keeps its marker only."""
    return [{**c, "values": [{k: v for k, v in value.items() if k != "cipher"} for value in c["values"]]}
            if any("cipher" in value for value in c["values"]) else c for c in conflicts]


def envelope(record_type: str, row: dict, conflicts: list[dict]) -> dict:
    """The record as the contract sends it to a tablet."""
    record = {
        "type": record_type,
        "id": str(row["id"]),
        "version": row["version"],
        "village_code": row["village_code"],
        "household_id": str(row["household_id"]) if row.get("household_id") else (
            str(row["id"]) if record_type == "household" else None),
        "updated_at": _iso(row["updated_at"]),
        "fields": device_fields(record_type, row, conflicts),
        "conflicts": device_conflicts(conflicts),
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


def columns_for(record_type: str, fields: dict[str, Any], vault: IdNumberVault,
                record_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Column values for a change of synced fields (raises FieldValueError on a bad value).

    An ID number comes in clear (typed, or revealed from a conflict's value) and leaves as its
    ciphertext bound to this child (`record_id`) and its lookup hash."""
    out: dict[str, Any] = {}
    if record_type == "household":
        for name, value in fields.items():
            if name == "location":
                if value is None:
                    out.update(location=None, location_accuracy_m=None)
                elif not (isinstance(value, dict) and all(
                        isinstance(value.get(k), int | float) and not isinstance(value.get(k), bool)
                        for k in ("lat", "lon"))):
                    raise FieldValueError("location", "form.geopoint", "a point is {lat, lon, accuracy_m}")
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
                if record_id is None:
                    raise ValueError("an ID number is encrypted for its child: record_id is required")
                out.update(id_number_cipher=vault.encrypt(check.value, child_subject(record_id)),
                           id_number_lookup=vault.lookup(check.value))
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
