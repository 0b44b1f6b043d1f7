"""An XForm instance as the submission a push carries, so one merge serves both kinds of client.

    instanceID            -> submission_id
    meta/entity @id       -> record.id (a visit, which is no entity, is its own instance)
    trunkVersion / baseVersion -> record.base_version (the server version the tablet started from)
    the form's `end` time -> device_seq (one tablet's edits in the order it finished them)
    picks of other lists  -> record.household_id / record.child_id
    image answers (names) -> "sha256:…" of the files that came with the instance

Pure: plain values in, a submission dict out (raising InstanceError for what cannot be one).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from survey_forms import CompiledForm
from survey_forms.model import ENTITY_LISTS
from survey_forms.xforms import InstanceError, XFormInstance

# A name for instanceIDs that are not "uuid:<uuid>" (the spec allows any unique text): the
# submission id is then derived from the device and the instanceID, the same every time.
_INSTANCE_NAMESPACE = uuid.UUID("6f0b7d1e-3c0a-4d55-9a0e-5b1f3f7e2a11")


def submission_id(instance_id: str, device_id: uuid.UUID) -> uuid.UUID:
    text = instance_id.strip()
    try:
        return uuid.UUID(text.removeprefix("uuid:"))
    except ValueError:
        return uuid.uuid5(_INSTANCE_NAMESPACE, f"{device_id}:{text}")


def _uuid(value: str | None, name: str) -> str:
    try:
        return str(uuid.UUID(str(value).strip().removeprefix("uuid:")))
    except (ValueError, AttributeError) as error:
        raise InstanceError("openrosa.no_record", f"{name} {value!r} is not a record of the entity list",
                            name) from error


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def device_seq(instance: XFormInstance, fallback: int) -> int:
    """When the surveyor finished the form, in milliseconds: the order of one tablet's edits
    (guarantee 7: a late upload of an older edit never overwrites a newer one of the same
    tablet). A form without an `end` time takes `fallback`, the server's next number."""
    finished = _time(instance.finished_at) or _time(instance.started_at)
    return int(finished.timestamp() * 1000) if finished is not None else fallback


def base_version(instance: XFormInstance) -> int | None:
    entity = instance.entity
    if entity is None or (entity.create and not entity.update):
        return None
    # Offline edits on one tablet form a branch: Collect counts baseVersion up locally after
    # each one, but the server version the branch started from is trunkVersion.
    if entity.branch_id and entity.trunk_version is not None:
        return entity.trunk_version
    return entity.base_version


def to_submission(instance: XFormInstance, form: CompiledForm, *, device_id: uuid.UUID, seq: int,
                  received_at: dt.datetime, files: dict[str, str],
                  earlier_record_id: str | None = None) -> tuple[dict, list[str]]:
    """The push submission of an instance, and the names of the files it names but lacks."""
    own_list = ENTITY_LISTS.get(form.record_type)
    entity = instance.entity
    if entity is not None and entity.dataset == own_list and entity.id:
        record_id = _uuid(entity.id, "meta/entity/@id")
    elif earlier_record_id is not None:
        record_id = earlier_record_id  # an edit (deprecatedID) of an instance we have
    elif own_list is None:
        record_id = str(submission_id(instance.instance_id, device_id))  # a visit: one per instance
    elif own_list in instance.picks:
        record_id = _uuid(instance.picks[own_list], own_list)
    else:
        raise InstanceError("openrosa.no_record", "the instance names no household or child")
    record: dict[str, Any] = {"type": form.record_type, "id": record_id, "base_version": base_version(instance)}
    if form.record_type == "child" and "households" in instance.picks:
        record["household_id"] = _uuid(instance.picks["households"], "households")
    if form.record_type == "visit":
        if "children" not in instance.picks:
            raise InstanceError("openrosa.no_record", "the visit names no child", "children")
        record["child_id"] = _uuid(instance.picks["children"], "children")
    fields = dict(instance.fields)
    attachments, missing = [], []
    for name, file_name in instance.files.items():
        ref = files.get(file_name)
        if ref is None:
            missing.append(file_name)  # the XML (kept) still names it; the answer waits for it
            continue
        fields[name] = ref
        attachments.append(ref)
    record["fields"] = fields
    captured = _time(instance.finished_at) or _time(instance.started_at) or received_at
    submission = {
        "submission_id": str(submission_id(instance.instance_id, device_id)),
        "device_seq": seq,
        "form_id": form.form_id,
        "form_version": form.version,
        "captured_at": captured.isoformat(),
        "location": None,
        "record": record,
        "attachments": sorted(set(attachments)),
    }
    return submission, missing
