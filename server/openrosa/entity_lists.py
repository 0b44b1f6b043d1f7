"""The device's entity lists: the households and children of its villages, as ODK entity-list
CSVs (`name` = the record's id, `label`, `__version` = the server's version, then the entity
properties the forms in use save to).

Each value is the one the pull gives the same tablet (`server.sync.records.device_fields`): the
disclosure policy decides once what a tablet sees (never an ID number), whichever protocol it
speaks. The bytes are deterministic (rows by id, columns sorted), so the md5 in the manifest
changes only when the content does."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from survey_forms.model import ENTITY_LISTS

RECORD_TYPE_OF = {name: record_type for record_type, name in ENTITY_LISTS.items()}


@dataclass(frozen=True)
class EntityList:
    name: str  # "households"
    content: bytes

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def md5(self) -> str:
        return hashlib.md5(self.content, usedforsecurity=False).hexdigest()


def cell(value: Any) -> str:
    """A record value as XForms text: what the form's prefill puts into the answer."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict) and "lat" in value and "lon" in value:
        # geopoint: "lat lon altitude accuracy"
        return f"{value['lat']} {value['lon']} 0 {value.get('accuracy_m') or 0}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def label(record_type: str, fields: Mapping[str, Any]) -> str:
    """What the surveyor picks by: the head of household and the 组/号, or the child's name
    and birth year (two children of one name in a village are told apart)."""
    if record_type == "household":
        group, number = str(fields.get("group_name") or ""), str(fields.get("household_number") or "")
        # The roster writes 组 and 号 as often as not ("3组", "0010010006"): add them only where missing.
        place = (group + ("" if not group or group.endswith("组") else "组")
                 + number + ("" if not number or number.endswith("号") else "号"))
        head = fields.get("head_name") or "（未填户主）"
        return f"{head}（{place}）" if place else head
    name = fields.get("name") or "（未填姓名）"
    born = str(fields.get("birth_date") or "")[:4]
    return f"{name}（{born}年生）" if born else name


def build(list_name: str, records: Iterable[tuple[dict, dict]], properties: Mapping[str, str]) -> EntityList:
    """An entity list from (envelope, device fields) pairs; `properties` maps each entity
    property the forms save to onto the record field it holds."""
    record_type = RECORD_TYPE_OF[list_name]
    extra = ["household"] if record_type == "child" else []
    props = sorted(p for p in properties if p not in ("name", "label") and not p.startswith("__"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "label", "__version", "village", *extra, *props])
    for envelope, fields in records:
        row = [envelope["id"], label(record_type, fields), envelope["version"], envelope["village_code"]]
        if extra:
            row.append(envelope.get("household_id") or "")
        row += [cell(fields.get(properties[p])) for p in props]
        writer.writerow(row)
    return EntityList(list_name, out.getvalue().encode("utf-8"))
