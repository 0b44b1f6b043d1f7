"""Village tallies: the supervisors' aggregates (the choropleth, its tiles, town borders, the
rates) without counting the county on every request.

Counting 60,000 households and 80,000 children per request made every aggregate cost a few
hundred milliseconds unloaded and seconds under a field day's load, and each supervisor asks
for them every few seconds. The counts of a village change only when one of its households or
children does, and each such change is in the change log, numbered at commit in commit order
(server/sync, the tablets' pull reads the same numbers). So each village's counts are kept (in
Redis, beside the change log's number they were counted at) and a request recounts only the
villages changed since then: exact, as of the request's own reading of the log, whatever path
wrote (a push, an import, a merge, a case step, a trigger).

Two rules keep it exact:
- the log's number is read before the counts, so counts are never older than their number (a
  commit in between makes them newer, and that village is recounted next time anyway);
- only reads use it (a request that wrote would count its own uncommitted rows into the cache).
What the cases decide ("returned", a case opened from dropped_out) is counted live: the cases
are few, and a case step need not change its child's row.

A scope of whole villages (city, town, team) takes its villages' tallies; a school's scope is
its students within villages, which no village tally holds: its callers count live.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from server.jobs import redis_connection
from server.tallies import queries

log = logging.getLogger(__name__)


def _key(session: Session, kind: str) -> str:
    # one Redis may serve several databases (a test run's, a staging copy): each keeps its own
    return f"{current_app.config['RQ_QUEUE_PREFIX']}tallies:{session.get_bind().engine.url.database}:{kind}"


def _kept(session: Session, kind: str, count) -> dict[str, dict]:
    """Every village's counts of `kind`, recounting only the villages changed since they were kept."""
    if not has_app_context():  # a job run by hand, outside the app: no Redis to keep them in
        return count(session, None)
    seq, epoch = queries.watermark(session)  # first: see the module's first rule
    codes = queries.village_codes(session)
    try:
        raw = redis_connection().get(_key(session, kind))
    except RedisError:
        log.warning("tallies: Redis unavailable, counting every village")
        return count(session, None)
    kept = json.loads(raw) if raw else None
    if kept is None or kept.get("epoch") != epoch or kept["seq"] > seq:  # none yet, or another log
        villages = count(session, None)
    else:
        villages = kept["villages"]
        # villages changed since, and villages new since (a places import)
        stale = queries.villages_changed_since(session, kept["seq"]) | (set(codes) - set(villages))
        if stale:
            villages.update(count(session, sorted(stale)))
        elif kept["seq"] == seq:
            return _only(villages, codes)
    try:
        redis_connection().set(_key(session, kind), json.dumps({"seq": seq, "epoch": epoch, "villages": villages},
                                                                separators=(",", ":")),
                               ex=7 * 86400)
    except RedisError:
        log.warning("tallies: Redis unavailable, counts not kept")
    return _only(villages, codes)


def _only(villages: dict[str, dict], codes: list[str]) -> dict[str, dict]:
    """Drop villages that no longer exist."""
    return {code: villages[code] for code in codes if code in villages}


def map_tallies(session: Session) -> dict[str, dict]:
    """Per village: households, surveyed, children (of school age), out_of_school, returned."""
    villages = _kept(session, "map", queries.map_counts)
    outcomes = queries.case_outcomes(session, dt.date.min, dt.date.max)
    return {code: {**counts, "returned": outcomes.get(code, {}).get("returned_all", 0)}
            for code, counts in villages.items()}


def rate_tallies(session: Session, born_from: dt.date, born_to: dt.date) -> dict[str, dict]:
    """Per village, over the cohort born in [born_from, born_to]: the counts of the rates."""
    kind = f"rates:{born_from.isoformat()}:{born_to.isoformat()}"
    villages = _kept(session, kind, lambda s, codes: queries.rate_counts(s, codes, born_from, born_to))
    outcomes = queries.case_outcomes(session, born_from, born_to)
    out = {}
    for code, counts in villages.items():
        got = outcomes.get(code, {})
        out[code] = {
            "school_age": counts["school_age"], "enrolled": counts["enrolled"],
            "legitimately_absent": counts["legitimately_absent"], "out_of_school": counts["out_of_school"],
            "returned": got.get("returned", 0),
            "dropped_out": counts["dropped_status"] + got.get("dropped_case_only", 0),
            "disabled_school_age": counts["disabled_school_age"], "disabled_enrolled": counts["disabled_enrolled"],
            "disabled_legitimately_absent": counts["disabled_legitimately_absent"],
        }
    return out
