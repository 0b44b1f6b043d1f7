"""Caps on what one request body may hold, in one place (the README lists them).

A body is read only after its token was checked (server/http.py), but an enrolled tablet or a
logged-in account can still send a body built to cost the server: a JSON array nested 100,000
deep (Python's parser recurses, a RecursionError), or a `have` map of a million records. Each
cap refuses with a stable code before the work starts.
"""

from __future__ import annotations

import json

import marshmallow as ma

from server.errors import DomainError, FieldError

MAX_JSON_DEPTH = 32  # the deepest body the contract defines is 5 levels (a submission's location)
MAX_REPAIR_RECORDS = 100_000  # `have` of /sync/repair: a surveyor's villages hold a few thousand
MAX_SUBMISSION_ATTACHMENTS = 20  # photos named by one submission
MAX_LIST_ITEMS = 100  # any other list in a body or a query (statuses, support measures)


def parse_json(data: bytes | str):
    """Parse a JSON body, refusing one nested deeper than MAX_JSON_DEPTH (400 request.malformed)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data  # UnicodeDecodeError: a 400
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
        too_deep = True
    else:
        too_deep = _deeper_than(value, MAX_JSON_DEPTH)
    if too_deep:
        raise DomainError("request.malformed", f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


def _deeper_than(value, limit: int) -> bool:
    # Iterative, so that the check itself cannot exhaust the stack.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def refuse_over(data, name: str, limit: int) -> None:
    """Refuse (422 request.too_many_items, naming the field) a list or map of more than `limit`
    items, before marshmallow validates each of them."""
    getlist = getattr(data, "getlist", None)  # a query string's repeated parameter
    items = getlist(name) if getlist else data.get(name) if isinstance(data, dict) else None
    if isinstance(items, (list, dict)) and len(items) > limit:
        raise DomainError("request.too_many_items", errors=[
            FieldError(name, "request.too_many_items", f"at most {limit} items")])


class Capped:
    """A schema mixin: `CAPS = {"field": limit}` checked before the fields load."""

    CAPS: dict[str, int] = {}

    @ma.pre_load
    def _refuse_long_lists(self, data, **_kwargs):
        for name, limit in self.CAPS.items():
            refuse_over(data, name, limit)
        return data
