"""The tablet's offline store: one SQLite file with records, outbox, rejections and settings.

Every change the client makes is one SQLite transaction (`Store.transaction`): a pulled page
and its cursor, an edit and its submission, a batch of receipts. A tablet that dies half-way
(battery, app killed) therefore reopens in a state it was in before or after, never between.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
create table if not exists meta (
    key text primary key,
    value text not null                 -- JSON
);
-- The records of the device's scope as the tablet shows them. `fields` is the server's copy
-- with the device's pending (outbox) edits laid over it; `server_record` is the server's copy
-- exactly as last received (null for a record the device created and the server has not
-- sent back yet), and `version` its version: the base of the device's next edit and what the
-- scope hash is taken over.
create table if not exists records (
    type text not null,
    id text not null,
    version integer,
    village_code text not null,
    household_id text,
    child_id text,
    fields text not null,               -- JSON object
    conflicts text not null default '[]',  -- JSON array, the server's open conflicts
    server_record text,                 -- JSON object or null
    updated_at text,
    primary key (type, id)
);
create index if not exists records_village on records (village_code, type);
create index if not exists records_household on records (household_id);
-- Submissions not yet settled by a receipt, sent in device_seq order. `body` is the
-- submission exactly as first sent: a retry must carry the same content under the same
-- submission_id, or the server rightly refuses it as sync.submission_id_reused.
create table if not exists outbox (
    submission_id text primary key,
    device_seq integer not null unique,
    record_type text not null,
    record_id text not null,
    body text not null,                 -- JSON
    created_at text not null,
    attempts integer not null default 0,
    last_error text,                    -- JSON list of errors of the last refusal, if any
    retargeted_from text                -- the submission this one replaced after a merge
);
create index if not exists outbox_record on outbox (record_type, record_id);
-- Refused submissions are kept with their reasons so that a person can see and redo them.
create table if not exists rejected (
    submission_id text primary key,
    device_seq integer not null,
    record_type text not null,
    record_id text not null,
    body text not null,
    errors text not null,               -- JSON list [{field, code, message}]
    receipt text not null,              -- JSON, the receipt as received
    rejected_at text not null
);
-- Records merged away on the server (a duplicate child): edits for the loser go to the winner.
create table if not exists redirects (
    type text not null,
    id text not null,
    merged_into text not null,
    primary key (type, id)
);
create table if not exists attachments (
    sha256 text primary key,            -- 64 lowercase hex
    data blob not null,
    media_type text,
    created_at text not null,
    requested_at text,                  -- a receipt listed it in missing_attachments
    uploaded_at text
);
create table if not exists forms (
    form_id text not null,
    version text not null,
    sha256 text not null,
    body text not null,                 -- JSON, the compiled form as served
    primary key (form_id, version)
);
"""


def dumps(value: Any) -> str:
    """Encode JSON for storage: stable key order, UTF-8 text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Decode stored JSON (None stays None)."""
    return None if text is None else json.loads(text)


class Store:
    """Open (creating if needed) the tablet's SQLite file."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        # isolation_level=None: the module's implicit transactions are off, so the explicit
        # BEGIN/COMMIT of `transaction` is exactly what SQLite sees.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("pragma foreign_keys = on")
        if self.path != ":memory:":
            self.db.execute("pragma journal_mode = wal")
        # FULL: a committed page or edit survives a power cut, which NORMAL does not promise
        # in WAL mode. A tablet writes little, so the cost does not matter.
        self.db.execute("pragma synchronous = full")
        self._depth = 0
        # Every statement is "if not exists", so running the script on each open is harmless.
        self.db.executescript(_SCHEMA)
        with self.transaction():
            if self.get("schema_version") is None:
                self.set("schema_version", SCHEMA_VERSION)
                self.set("next_device_seq", 1)

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one transaction (nested blocks join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        # IMMEDIATE takes the write lock up front, so two writers wait instead of failing
        # half-way through with SQLITE_BUSY on upgrade.
        self.db.execute("begin immediate")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self.db.execute("rollback")
            raise
        else:
            self.db.execute("commit")
        finally:
            self._depth = 0

    # -- meta ---------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """Read a setting."""
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return default if row is None else loads(row["value"])

    def set(self, key: str, value: Any) -> None:
        """Write a setting."""
        self.db.execute(
            "insert into meta (key, value) values (?, ?) "
            "on conflict (key) do update set value = excluded.value",
            (key, dumps(value)),
        )

    def next_device_seq(self) -> int:
        """Take the next device_seq (call inside a transaction: it is never handed out twice)."""
        seq = int(self.get("next_device_seq", 1))
        self.set("next_device_seq", seq + 1)
        return seq
