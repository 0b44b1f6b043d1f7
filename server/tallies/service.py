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
What the cases decide ("returned", a case opened from dropped_out) is counted live, for the
villages asked for: the cases are few, and a case step need not change its child's row.

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


def _key(session: Session, kind: str, epoch: int) -> str:
    # one Redis may serve several databases (a test run's, a staging copy): each keeps its own;
    # a change log made anew (its file, `epoch`) numbers from the start again: a key of its own
    database = session.get_bind().engine.url.database
    return f"{current_app.config['RQ_QUEUE_PREFIX']}tallies:{database}:{kind}:{epoch}"


KEPT_FOR = 7 * 86400  # seconds a kind's tallies stay unread before Redis forgets them


def _kept(session: Session, kind: str, count, codes: list[str] | None) -> dict[str, dict]:
    """The counts of `kind` of these villages (None: every village), each kept at the change
    log's number it was counted at; the villages changed since their own number are recounted.

    Kept per village (a Redis hash, a field a village), not for the county as one: a town
    supervisor's rates read and check their town's 20 villages, not the county's 300, and
    recount only those of them that changed; under a field day's load every village of the
    county has changed between two requests of one supervisor."""
    if not has_app_context():  # a job run by hand, outside the app: no Redis to keep them in
        return count(session, codes)
    seq, epoch = queries.watermark(session)  # first: see the module's first rule
    wanted = codes if codes is not None else queries.village_codes(session)
    if not wanted:
        return {}
    key = _key(session, kind, epoch)
    try:
        entries = redis_connection().hmget(key, wanted)
    except RedisError:
        log.warning("tallies: Redis unavailable, counting the villages")
        return count(session, wanted)
    kept: dict[str, tuple[int, dict]] = {}
    for code, entry in zip(wanted, entries, strict=True):
        if entry:
            counted_at, counts = json.loads(entry)
            # counted by another request at a number this one has not read: as if not kept
            if counted_at <= seq:
                kept[code] = (counted_at, counts)
    stale = (set(wanted) - set(kept)) | queries.villages_changed_since(
        session, {code: counted_at for code, (counted_at, _) in kept.items()})
    fresh = count(session, sorted(stale)) if stale else {}
    if fresh:
        try:
            pipe = redis_connection().pipeline()
            pipe.hset(key, mapping={code: json.dumps([seq, counts], separators=(",", ":"))
                                    for code, counts in fresh.items()})
            pipe.expire(key, KEPT_FOR)
            pipe.execute()
        except RedisError:
            log.warning("tallies: Redis unavailable, counts not kept")
    return {code: fresh[code] if code in fresh else kept[code][1] for code in wanted}


def map_tallies(session: Session, codes: list[str] | None = None) -> dict[str, dict]:
    """Per village of `codes` (None: every village): households, surveyed, children (of school
    age), out_of_school, returned."""
    villages = _kept(session, "map", queries.map_counts, codes)
    outcomes = queries.case_outcomes(session, dt.date.min, dt.date.max, codes)
    return {code: {**counts, "returned": outcomes.get(code, {}).get("returned_all", 0)}
            for code, counts in villages.items()}


def rate_tallies(session: Session, born_from: dt.date, born_to: dt.date,
                 codes: list[str] | None = None) -> dict[str, dict]:
    """Per village of `codes` (None: every village), over the cohort born in [born_from,
    born_to]: the counts of the rates."""
    kind = f"rates:{born_from.isoformat()}:{born_to.isoformat()}"
    villages = _kept(session, kind, lambda s, some: queries.rate_counts(s, some, born_from, born_to), codes)
    outcomes = queries.case_outcomes(session, born_from, born_to, codes)
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
