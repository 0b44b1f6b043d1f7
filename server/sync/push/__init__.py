"""POST /sync/push: a batch of offline submissions, merged field by field, one receipt each.

The batch is read in a handful of queries (stored submissions, tombstones, the records under
FOR UPDATE, their references, field states, base versions, open conflicts, attachments:
prefetch.py), merged in memory in order (apply.py, conflicts.py), and written back in a few
bulk statements (writes.py). If the bulk write fails (a value the database refuses, a race
with a concurrent request on a new record or the same submission), the batch is replayed one
submission at a time, each in its own savepoint, so a bad submission is refused alone and
never takes the good ones with it (guarantee 10). What a receipt says is receipt.py (pure).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server import db
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.devices import queries as device_queries
from server.devices.models import Device
from server.errors import DomainError
from server.forms import service as forms
from server.people.protection import IdNumberVault
from server.sync.push import receipt as receipts
from server.sync.push.apply import Context, merge_one
from server.sync.push.envelope import Refusal, content_hash, shape
from server.sync.push.prefetch import Known, prefetch
from server.sync.push.writes import Replay, Writes, flush

log = logging.getLogger(__name__)

# A supervisor reads a tablet's "last sync" to the minute: a tablet pushing one submission at a
# time (ODK Collect) paid an UPDATE of its device row on every request to move it by seconds.
SEEN_PRECISION = dt.timedelta(minutes=1)


def push(session: Session, device: Device, person: Person, scope: Scope, vault: IdNumberVault,
         submissions: list, max_batch: int, alone: bool = False) -> list[dict]:
    """Apply a batch of submissions; one receipt each, in order.

    `alone`: the push is the first thing its transaction writes (POST /sync/push), so a bulk
    write that fails rolls the whole transaction back before the replay, instead of a
    savepoint: its two round trips and the ORM's nested transaction were 8% of a
    one-submission push. A caller that wrote before (an OpenRosa instance's files) keeps the
    savepoint."""
    if len(submissions) > max_batch:
        raise DomainError("sync.batch_too_large", f"at most {max_batch} submissions in one push")

    shaped: list[tuple[Any, uuid.UUID | None, dict | None, list | None]] = []
    for submission in submissions:
        try:
            submission_id, record = shape(submission)
            shaped.append((submission, submission_id, record, None))
        except Refusal as refusal:
            shaped.append((submission, None, None, refusal.errors))
    known = Known()
    # The records of re-sent submissions are locked too (one round trip instead of two; a
    # re-send is rare and writes nothing).
    stored, forms_digest = prefetch(session, known, [(s, r) for s, _, r, _ in shaped if r is not None],
                                    [sid for _, sid, _, _ in shaped if sid is not None])
    ctx = Context(session, device, person, scope, vault, db.now(session),
                  forms.FormCatalog(session, forms_digest))
    fresh = [(s, r) for s, sid, r, err in shaped if r is not None and sid not in stored]

    if not fresh:
        # Nothing to merge (re-sent or malformed submissions only): nothing is written, so
        # there is nothing a savepoint would have to undo.
        answers = _run(ctx, known, Writes(), shaped, stored, one_by_one=False)
    else:
        savepoint = None if alone else session.begin_nested()
        try:
            writes = Writes()
            answers = _run(ctx, known, writes, shaped, stored, one_by_one=False)
            flush(session, writes)
            if savepoint is not None:
                savepoint.commit()
        except (Replay, DBAPIError) as exc:
            if db.connection_lost(exc):
                raise  # the database went away: 503 for the whole request, nothing was kept
            if savepoint is not None:
                savepoint.rollback()
            else:
                session.rollback()  # nothing else of the request was written; the replay begins anew
            known.forget_writes()
            prefetch(session, known, fresh)
            answers = _run(ctx, known, Writes(), shaped, stored, one_by_one=True)
    if device.last_seen_at is None or ctx.received_at - device.last_seen_at >= SEEN_PRECISION:
        device_queries.mark_seen(session, device.id, ctx.received_at)
        set_committed_value(device, "last_seen_at", ctx.received_at)  # written already: nothing to flush
    return answers


def _run(ctx: Context, known: Known, writes: Writes, shaped, stored, one_by_one: bool) -> list[dict]:
    answers: list[dict] = []
    seen: dict[uuid.UUID, tuple[str, dict]] = {}
    for submission, submission_id, record, errors in shaped:
        if errors is not None:
            answers.append(receipts.rejected(submission, errors))
            continue
        content = content_hash(submission, ctx.vault)
        earlier = seen.get(submission_id)
        if earlier is None and submission_id in stored:
            earlier = (stored[submission_id].content_sha256, stored[submission_id].receipt)
        if earlier is not None:
            # Idempotent: the same submission again gets its original receipt and writes
            # nothing; the same id with other content is refused and the original kept.
            answers.append(earlier[1] if earlier[0] == content else receipts.reused(submission))
            continue
        if one_by_one:
            answer = _one_in_savepoint(ctx, known, submission, submission_id, record, content)
        else:
            try:
                answer = merge_one(ctx, known, writes, submission, submission_id, record, content)
            except Refusal as refusal:
                answer = receipts.rejected(submission, refusal.errors)
            except Exception as exc:
                # Unforeseen: the batch goes one submission at a time, where this one is
                # refused alone (and logged) instead of failing the whole request.
                raise Replay(str(exc)) from exc
        if answer["status"] != "rejected":
            seen[submission_id] = (content, answer)
        answers.append(answer)
    return answers


def _one_in_savepoint(ctx: Context, known: Known, submission, submission_id, record, content) -> dict:
    savepoint = ctx.session.begin_nested()
    snapshot = known.snapshot()
    writes = Writes()
    try:
        answer = merge_one(ctx, known, writes, submission, submission_id, record, content)
        flush(ctx.session, writes)
    except (Refusal, Replay, DBAPIError) as exc:
        if db.connection_lost(exc):
            # Not this submission's fault: refusing it would move it to the tablet's rejected
            # list for good. The request fails (503) and the tablet sends it again.
            raise
        savepoint.rollback()
        known.restore(snapshot)
        if isinstance(exc, Refusal):
            return receipts.rejected(submission, exc.errors)
        if isinstance(exc, Replay):
            return receipts.retry(submission)
        return receipts.not_storable(submission, type(exc.orig).__name__)
    except Exception as exc:
        if db.connection_lost(exc):
            raise
        savepoint.rollback()
        known.restore(snapshot)
        log.exception("submission %s could not be applied", submission_id)
        return receipts.internal_error(submission)
    savepoint.commit()
    return answer


__all__ = ["push", "Refusal"]
