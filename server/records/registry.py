"""One entry per synced record type: its table and model, its wire fields and the columns each
one is stored in, how its village is determined, and which of its fields are personal.

Everything that used to list a record's fields by hand derives from here: the push's writable
columns, the pull's JSON (server/sync/queries.py), the forms' record adapters
(server/sync/records.py), the scope hash's and the change log's table list. How each role
sees a personal field is server/disclosure.py's to say; this module only names them.

It sits on the lowest floor of `server/`: it imports no domain package (models are looked up
by name when asked for), so any module can import it without a circle.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class WireField:
    """A field as the contract names it, and where the server keeps it."""

    name: str
    columns: tuple[str, ...] = ()  # () means the column of the same name
    writable: bool = True  # a tablet may write it (through a form that binds to it)
    sent: bool = True  # a tablet receives it
    # The pull's JSON for it when it is not simply its column (SQL over the row aliased t).
    sql: str | None = None

    @property
    def stored_in(self) -> tuple[str, ...]:
        return self.columns or (self.name,)


@dataclass(frozen=True)
class RecordType:
    name: str
    table: str
    model_path: str  # "module:Class", imported on first use
    fields: tuple[WireField, ...]
    # How the record's village is determined (the scope check reads this rule):
    # "own" (its village_code, a household's), "household" (its household's), "child" (its child's).
    placement: str
    # Columns the placement writes besides the fields (a child follows its household).
    placement_columns: tuple[str, ...] = ()
    personal: tuple[str, ...] = ()  # wire names; how each role sees them: server/disclosure.py
    # Fields whose value the merge sees only as a marker and tablets never receive (the merge
    # policy `on_file`, sync/merge.py).
    protected: tuple[str, ...] = ()
    device_writable: bool = True
    answers_column: str | None = None  # a visit keeps the answers no column holds here

    @property
    def model(self):
        module, _, cls = self.model_path.partition(":")
        return getattr(importlib.import_module(module), cls)

    @property
    def writable(self) -> tuple[str, ...]:
        """Wire fields a tablet may write."""
        return tuple(f.name for f in self.fields if f.writable)

    @property
    def sent(self) -> tuple[str, ...]:
        """Wire fields a tablet receives."""
        return tuple(f.name for f in self.fields if f.sent)

    @property
    def writable_columns(self) -> tuple[str, ...]:
        """Every column a tablet's edit can change: one UPDATE shape per type."""
        out: list[str] = []
        for f in self.fields:
            if f.writable:
                out += [c for c in f.stored_in if c not in out]
        if self.answers_column:
            out.append(self.answers_column)
        return tuple(out) + tuple(c for c in self.placement_columns if c not in out)

    def wire(self, name: str) -> WireField:
        return next(f for f in self.fields if f.name == name)


def _plain(*names: str, **options) -> tuple[WireField, ...]:
    return tuple(WireField(n, **options) for n in names)


_POINT_JSON = """json_build_object('lat', t.location::json->'coordinates'->1,
    'lon', t.location::json->'coordinates'->0, 'accuracy_m', t.location_accuracy_m)"""

HOUSEHOLD = RecordType(
    "household", "households", "server.people.models:Household",
    fields=(
        *_plain("head_name", "phone", "address", "group_name", "household_number"),
        # A surveyed point; a village centroid the server placed is sent as approximate_location.
        WireField("location", ("location", "location_accuracy_m", "location_approximate"),
                  sql=f"CASE WHEN t.location IS NULL OR t.location_approximate THEN NULL ELSE {_POINT_JSON} END"),
        *_plain("survey_status", "vulnerable_family_types", "notes"),
        WireField("approximate_location", ("location",), writable=False,
                  sql=f"CASE WHEN t.location IS NOT NULL AND t.location_approximate THEN {_POINT_JSON} END"),
    ),
    placement="own", placement_columns=("village_code",),
    personal=("head_name", "phone", "address", "location"),
)

_ID_NUMBER_STATUS_SQL = """CASE
    WHEN EXISTS (SELECT 1 FROM conflicts c WHERE c.record_type = 'child' AND c.record_id = t.id
                 AND c.field = 'id_number' AND c.status = 'open') THEN 'mismatch'
    WHEN t.id_number_lookup IS NULL THEN 'missing'
    WHEN t.id_number_confirmed_lookup = t.id_number_lookup THEN 'matched'
    ELSE 'on_file' END"""

CHILD = RecordType(
    "child", "children", "server.people.models:Child",
    fields=(
        *_plain("name", "gender", "birth_date"),
        # Typed on a tablet, never sent to one; stored as ciphertext and lookup hash (and the
        # lookup a tablet confirmed, for id_number_status).
        WireField("id_number", ("id_number_cipher", "id_number_lookup", "id_number_confirmed_lookup"), sent=False),
        *_plain("enrollment_status", "school_name", "grade", "dropout_reason", "dropout_reason_note",
                "certificate_photo", "disability", "disability_type", "disability_level", "left_behind", "migrant",
                "guardian_name", "guardian_phone", "vulnerable_family_types", "ethnicity", "relation_to_head",
                "class_name"),
        WireField("id_number_status", ("id_number_lookup",), writable=False, sql=_ID_NUMBER_STATUS_SQL),
    ),
    placement="household", placement_columns=("household_id", "village_code"),
    personal=("name", "id_number", "guardian_name", "guardian_phone", "birth_date", "disability_type",
              "dropout_reason_note", "certificate_photo"),
    protected=("id_number",),
)

VISIT = RecordType(
    "visit", "visits", "server.visits.models:Visit",
    fields=_plain("visitors", "visit_date", "outcome", "next_step", "deadline", "note"),
    placement="child", answers_column="answers",
)

TASK = RecordType(
    "task", "tasks", "server.maps.models:Task",
    fields=_plain("team_id", "priority", "reason", "route_order", "status", writable=False),
    placement="own", device_writable=False,
)

RECORD_TYPES: dict[str, RecordType] = {t.name: t for t in (HOUSEHOLD, CHILD, VISIT, TASK)}
TABLES: dict[str, str] = {t.name: t.table for t in RECORD_TYPES.values()}


def get(name: str) -> RecordType:
    return RECORD_TYPES[name]


def model(name: str):
    return RECORD_TYPES[name].model


def fields_sql(name: str, omit: tuple[str, ...] = ()) -> str:
    """The pull's JSON of a record's fields, as a tablet receives them (SQL over the row `t`)."""
    record_type = RECORD_TYPES[name]
    pairs = ", ".join(f"'{f.name}', {f.sql or 't.' + f.stored_in[0]}" for f in record_type.fields
                      if f.sent and f.name not in omit)
    if record_type.answers_column:
        # Answers no column holds first, the columns over them (as server/sync/records.py reads them).
        return f"(t.{record_type.answers_column} || jsonb_build_object({pairs}))::json"
    return f"json_build_object({pairs})"


__all__ = ["RECORD_TYPES", "TABLES", "RecordType", "WireField", "fields_sql", "get", "model"]
