"""Reads of personal data by a person: one audit row per request, written at the route layer.

Every view that shows a person the personal fields of children or households (server/disclosure.py
names them) is decorated with `personal_read`, innermost, under flask-smorest's decorators: it
sees the parsed filters and the view's answer before serialisation, and adds one row to the
request's transaction: who, when, the request's rule, its filters, how many records the answer
held and the ids of the children and households in it. One row per request, not one per record,
so a page of 500 children costs one insert. A refused request writes nothing (its transaction
rolls back), which is right: nothing was shown.

Tablets' pulls are not here: the push/pull log is their record. Tiles carry no names.
tests/audit/test_personal_reads.py walks the app's URL map and fails on an endpoint that answers
with a personal field but records no read.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import g, request

from server import db
from server.audit import service as audit
from server.http import current_person

# What a view's answer held: (ids of the children and households shown, how many records).
Extracted = tuple[Iterable[Any], int]


@dataclass
class Read:
    """The read in progress; a view adds what its answer showed when it is not a plain dict."""

    ids: list = field(default_factory=list)
    count: int | None = None
    detail: dict = field(default_factory=dict)

    def showed(self, ids: Iterable[Any], count: int | None = None) -> None:
        ids = list(ids)
        self.ids.extend(ids)
        self.count = (self.count or 0) + (len(ids) if count is None else count)


def current() -> Read:
    """The read of the request being answered (inside a `personal_read` view)."""
    return g.personal_read


def _plain(value):
    """A filter value as JSON (dates, uuids and tuples come out of the argument schemas)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | uuid.UUID):
        return str(value)
    return value


def _uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    seen: dict[uuid.UUID, None] = {}
    for value in values:
        if value is not None:
            seen.setdefault(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    return list(seen)


def personal_read(subject_type: str, *, shown: Callable[[Any], Extracted] | None = None,
                  subject: str | None = None, action: str = "read"):
    """Record one audit row for every request of the decorated view.

    subject_type  what the answer is about (child, household, case, conflict, duplicate, import ...)
    shown         answer -> (ids of the children/households shown, number of records); a view
                  whose answer is not a dict (GeoJSON text) calls `current().showed(...)` instead
    subject       the path parameter naming the one record read (else the row's subject is "list")
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            read = g.personal_read = Read()
            result = view(*args, **kwargs)
            if shown is not None:
                ids, count = shown(result)
                read.showed(ids, count)
            filters = {k: v for arg in args if isinstance(arg, dict) for k, v in arg.items()}
            filters.update(kwargs)
            audit.record_read(
                db.session(), current_person().id, action, subject_type,
                str(kwargs[subject]) if subject else "list",
                endpoint=f"{request.method} {request.url_rule.rule}"[:120], filters=_plain(filters),
                record_ids=_uuids(read.ids), record_count=read.count or 0, remote_addr=request.remote_addr,
                detail=read.detail)
            return result

        wrapper.personal_read = subject_type  # marks the route (functools.wraps carries it outward)
        return wrapper

    return decorator


def items(key: str = "id") -> Callable[[Any], Extracted]:
    """The ids under `key` of a page's items (or of a plain list answer)."""

    def extract(result) -> Extracted:
        rows = result["items"] if isinstance(result, dict) else result
        return [row[key] if isinstance(row, dict) else getattr(row, key) for row in rows], len(rows)

    return extract


def one(key: str = "id") -> Callable[[Any], Extracted]:
    """The id under `key` of a single record."""
    return lambda result: ([result.get(key)], 1)
