"""OpenRosa for one device: its form list, the XForms, manifests with its entity lists, and
submissions that become pushes.

An XForm client's submission is turned into the submission our own tablets push
(server/openrosa/submission.py) and handed to the one push (server.sync.push.push): scope,
field-level merge, conflicts, verbatim storage, receipts, audit and ID-number protection are
the push's, not copied here. What is OpenRosa's own is kept here: the instance's XML and files,
split uploads, and answers a surveyor can read on the tablet."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zlib
from dataclasses import dataclass

import segno
from sqlalchemy.orm import Session

from server import db
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.attachments import service as attachments
from server.devices.models import Device
from server.errors import DomainError
from server.forms import queries as form_queries
from server.forms import service as forms
from server.openrosa import documents, entity_lists, messages, queries
from server.openrosa import submission as submissions
from server.openrosa.models import OpenRosaInstance
from server.people.protection import IdNumberVault
from server.sync import push as pushing
from server.sync import records
from survey_forms import CompiledForm
from survey_forms.xforms import InstanceError, answer_paths, header, read_instance, xform_binding


def _md5(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return "md5:" + hashlib.md5(raw, usedforsecurity=False).hexdigest()


def _in_use(session: Session):
    for use in forms.forms_in_use(session):
        row = form_queries.version(session, use.form_id, use.version)
        if row is not None and row.xform:
            yield row


def form_list(session: Session, base: str) -> bytes:
    """The forms in use, for Collect's "get blank form"; the hash is the XForm's md5."""
    return documents.form_list([
        {"formID": row.form_id, "name": row.title, "version": row.version, "hash": _md5(row.xform),
         "downloadUrl": f"{base}/forms/{row.form_id}/versions/{row.version}/form.xml",
         "manifestUrl": f"{base}/forms/{row.form_id}/versions/{row.version}/manifest"}
        for row in _in_use(session)
    ])


def form_version(session: Session, form_id: str, version: str):
    row = form_queries.version(session, form_id, version)
    if row is None or not row.xform:
        raise DomainError("request.not_found", "no such form version", status=404)
    return row


def _properties(session: Session, list_name: str) -> dict[str, str]:
    """Entity property -> record field, over the forms in use that save to this list."""
    out: dict[str, str] = {}
    for row in _in_use(session):
        binding = xform_binding(row.xform)
        if binding.entity_list != list_name:
            continue
        by_path = {path: name for name, path in answer_paths(forms.compiled(row)).items()}
        out.update({prop: by_path[path] for prop, path in binding.properties.items() if path in by_path})
    return out


def entity_list(session: Session, scope: Scope, list_name: str) -> entity_lists.EntityList:
    """The households or children of the device's villages, as the pull gives them to it."""
    record_type = entity_lists.RECORD_TYPE_OF.get(list_name)
    if record_type is None:
        raise DomainError("request.not_found", "no such entity list", status=404)
    villages = scope.village_codes
    open_conflicts = queries.open_conflicts_in(session, record_type, villages) if villages else {}
    pairs = []
    for row in queries.rows_in_villages(session, record_type, villages):
        envelope = records.envelope(record_type, row, open_conflicts.get(str(row["id"]), []))
        pairs.append((envelope, envelope["fields"]))
    return entity_lists.build(list_name, pairs, _properties(session, list_name))


def manifest(session: Session, scope: Scope, form_id: str, version: str, base: str) -> bytes:
    """The form's media: the entity lists it reads, with the md5 of this device's content."""
    row = form_version(session, form_id, version)
    media = []
    for list_name in xform_binding(row.xform).lists:
        content = entity_list(session, scope, list_name)
        media.append({"type": "entityList", "filename": content.file_name, "hash": "md5:" + content.md5,
                      "downloadUrl": f"{base}/entity-lists/{content.file_name}",
                      "integrityUrl": f"{base}/entity-lists/{list_name}/integrity"})
    return documents.manifest(media)


MAX_INTEGRITY_IDS = 20_000


def integrity(session: Session, scope: Scope, list_name: str, ids_text: str) -> bytes:
    """Which entities a tablet holds are gone from its list: merged into another record,
    deleted, or no longer in its villages (the OpenRosa side of a pull's delete and scope_exit)."""
    record_type = entity_lists.RECORD_TYPE_OF.get(list_name)
    if record_type is None:
        raise DomainError("request.not_found", "no such entity list", status=404)
    asked = [part.strip() for part in ids_text.split(",") if part.strip()][:MAX_INTEGRITY_IDS]
    parsed = {text: records.parse_uuid(text) for text in asked}
    present = queries.present_in_villages(session, record_type, [u for u in parsed.values() if u], scope.village_codes)
    return documents.integrity({text: parsed[text] not in present for text in asked})


# ---------------------------------------------------------------------------------------------
# Submissions


@dataclass(frozen=True)
class Answer:
    status: int
    message: str

    @property
    def body(self) -> bytes:
        return documents.response(self.message, "submit_success" if self.status < 300 else "error")


# Why a refused submission is refused, as HTTP: Collect keeps any failed form to send again.
_STATUS = {"sync.submission_id_reused": 409, "openrosa.instance_changed": 409, "sync.unknown_reference": 409,
           "sync.out_of_scope": 403, "sync.retry": 503, "sync.internal_error": 503}


def _refused(errors: list[dict], form: CompiledForm | None) -> Answer:
    status = max((_STATUS.get(e.get("code"), 400) for e in errors), default=400)
    return Answer(status, messages.refusal(errors, form))


def _refusal(error: InstanceError, form: CompiledForm | None = None) -> Answer:
    return _refused([{"field": error.field, "code": error.code, "message": error.message}], form)


def _scrubbed(xml: str, form: CompiledForm) -> str:
    """The XML as kept: a typed ID number's text is replaced by a mark (its ciphertext lives in
    the submission's payload, bound to the child)."""
    for f in form.fields:
        if f.record_field in records.PROTECTED.get(form.record_type, ()):
            xml = re.sub(rf"(<(?:[\w.-]+:)?{re.escape(f.name)}(?:\s[^>]*)?>)[^<]*(</)", r"\1[protected]\2", xml)
    return xml


def receive(session: Session, device: Device, person: Person, scope: Scope, vault: IdNumberVault, xml: bytes,
            files: dict[str, bytes], incomplete: bool, *, attachments_dir: str, max_attachment_bytes: int,
            max_batch: int) -> Answer:
    """Take one instance (or one part of a split upload)."""
    try:
        head, _ = header(xml)
        text = xml.decode("utf-8")
    except InstanceError as error:
        return _refusal(error)
    except UnicodeDecodeError:
        return _refusal(InstanceError("openrosa.malformed_xml", "the XML is not UTF-8"))
    form_key = queries.lock_instance_id(session, head.instance_id, head.form_id, head.version)
    earlier = queries.instance(session, head.instance_id)
    mac = vault.mac(text)
    if earlier is not None and (earlier.device_id != device.id or earlier.xml_mac != mac):
        # The same instanceID with other content (or from another tablet): the first stands.
        return _refused([{"field": "meta/instanceID", "code": "openrosa.instance_changed",
                          "message": "this instanceID was received with other content"}], None)
    if earlier is not None and earlier.complete:
        return Answer(201, "已收到（重复发送，不再重复保存）。")
    bound = _bound_form(session, head.form_id, head.version, form_key)
    if bound is None:
        return _refusal(InstanceError("openrosa.unknown_form", f"no form {head.form_id} {head.version}"))
    form, binding = bound
    try:
        instance = read_instance(xml, form, binding)
    except InstanceError as error:
        return _refusal(error, form)

    refs = dict(earlier.files) if earlier is not None else {}
    for name, body in files.items():
        sha256 = hashlib.sha256(body).hexdigest()
        attachments.store(session, attachments_dir, sha256, body, person.id, device.id, max_attachment_bytes)
        refs[name] = f"sha256:{sha256}"
    now = db.now(session)
    if earlier is None:
        earlier = OpenRosaInstance(
            instance_id=head.instance_id, submission_id=submissions.submission_id(head.instance_id, device.id),
            device_id=device.id, form_id=form.form_id, form_version=form.version, deprecated_id=head.deprecated_id,
            xml=_scrubbed(text, form), xml_mac=mac, files={}, complete=False, received_at=now)
    earlier.files = refs
    if incomplete:
        session.add(earlier)
        session.flush()
        return Answer(201, f"已收到 {len(refs)} 个附件，等待其余部分。")

    # A new instance is added once the push has answered: one INSERT, complete or not (added
    # before, the push's first query flushed it and its completion was an UPDATE after).
    try:
        submission, missing = submissions.to_submission(
            instance, form, device_id=device.id, seq=_seq(session, device, instance), received_at=now, files=refs,
            earlier_record_id=_edited_record(session, device, head.deprecated_id))
    except InstanceError as error:
        return _refusal(error, form)  # a 4xx: the request's transaction (files, parts) rolls back
    receipt = pushing.push(session, device, person, scope, vault, [submission], max_batch)[0]
    if receipt["status"] == "rejected":
        return _refused(receipt["errors"], form)
    earlier.complete, earlier.completed_at = True, now
    session.add(earlier)
    session.flush()
    return Answer(201, messages.accepted(receipt, missing))


# (form_id, version, sha256, md5 of the XForm) -> (compiled form, XForm binding), shared by the
# threads of a process. Every submission read its form version whole, XForm and XLSForm
# included; a published version's compiled form never changes, and its XForm is named by its md5.
_BOUND: dict[tuple[str, str, str, str], tuple[CompiledForm, object]] = {}


def _bound_form(session: Session, form_id: str, version: str, key: tuple[str, str] | None):
    if key is None:
        return None
    bound = _BOUND.get((form_id, version, *key))
    if bound is None:
        row = form_queries.version(session, form_id, version)
        if row is None or not row.xform:
            return None  # deleted since (a moment ago): as unknown
        bound = (forms.compiled(row), xform_binding(row.xform))
        # Named by what was read now: the row may have been re-rendered since the key was read.
        _BOUND[(form_id, version, row.sha256, _md5(row.xform).removeprefix("md5:"))] = bound
    return bound


def _seq(session: Session, device: Device, instance) -> int:
    seq = submissions.device_seq(instance, fallback=0)
    return seq or queries.next_device_seq(session, device.id)


def _edited_record(session: Session, device: Device, deprecated_id: str | None) -> str | None:
    """The record an edit's original instance wrote (a visit has no entity to name it)."""
    if not deprecated_id:
        return None
    original = queries.instance(session, deprecated_id)
    if original is None or original.device_id != device.id or not original.complete:
        return None
    written = queries.record_of_submission(session, original.submission_id)
    return str(written[1]) if written else None


def collect_qr(server_url: str, surveyor_name: str) -> tuple[str, bytes]:
    """ODK Collect's settings for a device URL, as the text of its QR code and as a PNG."""
    settings = json.dumps(collect_settings(server_url, f"一个都不少 · {surveyor_name}"), ensure_ascii=False,
                          separators=(",", ":"))
    encoded = base64.b64encode(zlib.compress(settings.encode("utf-8"))).decode()
    out = io.BytesIO()
    segno.make(encoded, error="l").save(out, kind="png", scale=4, border=4)
    return encoded, out.getvalue()


def collect_settings(server_url: str, project: str) -> dict:
    """What ODK Collect's "scan QR code" settings import reads (zlib-deflated JSON, base64)."""
    return {
        "general": {"server_url": server_url, "username": "", "password": "",
                    "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular",
                    "delete_send": False, "default_completed": True},
        "admin": {"change_server": False, "automatic_update": True},
        "project": {"name": project, "icon": "一", "color": "#c0392b"},
    }

