"""The demo's tablets: enrolled by their town's supervisor, pushing what a surveyor captured.

A demo tablet is a real device with a real token; its submissions go through the sync push
(server/sync/push), the path a tablet's upload takes: form validation, the field-level merge,
versions, field states, the change log, conflicts and duplicate candidates. Only its capture
times are the demo's: a week in the past, replayed in one go.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.accounts.models import Person
from server.accounts.scope import Scope, scope_of
from server.devices import service as devices
from server.devices.models import Device
from server.forms import queries as form_queries
from server.forms import service as forms
from server.people.protection import IdNumberVault
from server.sync.push import push
from survey_forms import builtin

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")
FORM_VERSION = builtin.VERSION
FORMS = {"household": "household_survey", "child": "child_survey", "visit": "followup_visit"}
BATCH = 500  # SYNC_MAX_BATCH's default: a tablet's upload is cut the same way
TOKEN_LIFETIME = dt.timedelta(days=30)


class PushRefused(RuntimeError):
    """A demo submission the server refused: the demo is wrong, not the server."""


def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A moment of a field day, in Beijing time."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


@dataclass
class Tablet:
    device: Device
    person: Person
    scope: Scope
    seq: int = 0
    queue: list[dict] = field(default_factory=list)

    def submit(self, rng: random.Random, record: dict, captured_at: dt.datetime, location: dict | None = None) -> None:
        """Queue one submission, as the tablet's outbox holds it until the next upload."""
        self.seq += 1
        self.queue.append({
            "submission_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "device_seq": self.seq,
            "form_id": FORMS[record["type"]], "form_version": FORM_VERSION,
            "captured_at": captured_at.isoformat(), "location": location, "record": record,
        })

    def upload(self, session: Session, vault: IdNumberVault) -> list[dict]:
        """Push the queue in batches; every receipt, in order."""
        receipts = []
        while self.queue:
            batch, self.queue = self.queue[:BATCH], self.queue[BATCH:]
            answers = push(session, self.device, self.person, self.scope, vault, batch, BATCH)
            refused = [a for a in answers if a["status"] == "rejected"]
            if refused:
                raise PushRefused(f"{self.person.username}: {refused[0]['errors']}")
            receipts += answers
        return receipts


def enroll(session: Session, surveyor: Person, issuer: Person, issuer_scope: Scope) -> Tablet:
    """A tablet for `surveyor`, enrolled with a one-time code its supervisor issued."""
    code, _ = devices.issue_code(session, issuer, issuer_scope, surveyor.id, dt.timedelta(minutes=5))
    device, _token = devices.enroll(session, code, f"平板 {surveyor.username}", "demo", TOKEN_LIFETIME)
    return Tablet(device, surveyor, scope_of(session, surveyor))


def ensure_forms(session: Session) -> None:
    """The built-in forms the demo's tablets fill in, published unless they are (`demo load`
    publishes them; compiling them again would cost more than the tiny county's whole week)."""
    if any(form_queries.version(session, f.form_id, f.version) is None for f in builtin.BUILTIN_FORMS):
        forms.publish_builtin(session)
