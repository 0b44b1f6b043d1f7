"""ID numbers bound to their rows, and no ID number left in clear text anywhere

Revision ID: 20261201_2100_bound_id_numbers
Revises: 20261201_2115_roster_referrals

- Every ciphertext (format 0x01, one fixed associated data) is re-encrypted in format 0x02,
  whose associated data names its row and field (`child:<uuid>:id_number`,
  `register:<import id>:id_number`): a ciphertext copied to another row no longer decrypts.
  Children's history (record_versions) is re-encrypted the same way.
- Stored submissions kept the typed number verbatim, and field states and conflicts kept it
  as a value: they now keep its protected form (ciphertext and keyed lookup hash) or its
  marker (the lookup hash alone); a submission's content hash becomes keyed (HMAC), as push
  computes it now, so a re-sent old submission still gets its original receipt.
- children.id_number_confirmed_lookup: what a tablet typed and found equal (id_number_status).

It needs ID_NUMBER_KEY and ID_LOOKUP_KEY from the environment, as the app reads them
(instance/notoneless.env); an empty database migrates without them. The re-encryption does
not fire the record triggers: no record changes version, tablets download nothing again.
"""
import base64
import hashlib
import hmac
import json
import os

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "20261201_2100_bound_id_numbers"
down_revision = "20261201_2115_roster_referrals"
branch_labels = None
depends_on = None

_UNBOUND, _BOUND = b"\x01", b"\x02"
_UNBOUND_AAD = b"notoneless:id_number"


class _Keys:
    """The app's two keys, read where the app reads them; self-contained so that this revision
    keeps working whatever server/people/protection.py becomes."""

    def __init__(self):
        from server.config import from_environment

        config = from_environment()
        if not config.get("ID_NUMBER_KEY") or not config.get("ID_LOOKUP_KEY"):
            raise RuntimeError(
                "this migration re-encrypts the stored ID numbers and needs ID_NUMBER_KEY and ID_LOOKUP_KEY"
                " in the environment (set -a; . instance/notoneless.env; set +a), the keys they were"
                " encrypted with; without them the numbers cannot be read again")
        self.aead = AESGCM(base64.b64decode(config["ID_NUMBER_KEY"]))
        self.lookup_key = base64.b64decode(config["ID_LOOKUP_KEY"])

    def bind(self, blob: bytes, subject: str) -> bytes:
        if blob[:1] == _BOUND:
            return blob
        number = self.aead.decrypt(blob[1:13], blob[13:], _UNBOUND_AAD)
        nonce = os.urandom(12)
        return _BOUND + nonce + self.aead.encrypt(nonce, number, subject.encode())

    def unbind(self, blob: bytes, subject: str) -> bytes:
        if blob[:1] == _UNBOUND:
            return blob
        number = self.aead.decrypt(blob[1:13], blob[13:], subject.encode())
        nonce = os.urandom(12)
        return _UNBOUND + nonce + self.aead.encrypt(nonce, number, _UNBOUND_AAD)

    def encrypt(self, number: str, subject: str) -> bytes:
        nonce = os.urandom(12)
        return _BOUND + nonce + self.aead.encrypt(nonce, number.encode(), subject.encode())

    def lookup(self, number: str) -> str:
        return hmac.new(self.lookup_key, number.encode(), hashlib.sha256).hexdigest()

    def mac(self, text: str) -> str:
        return hmac.new(self.lookup_key, b"content:" + text.encode(), hashlib.sha256).hexdigest()


def _canonical(value) -> str:
    # sync.records.canonical, as it was when these contents were hashed
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _normalized(raw: str) -> str:
    # server.people.id_number.normalize: what push compared and stored
    text = raw.strip().replace(" ", "").replace("\u3000", "")
    return text.translate(str.maketrans("０１２３４５６７８９ＸｘX", "0123456789XXX")).upper()


def _marker(keys: _Keys, number: str) -> dict:
    return {"protected": "id_number", "lookup": keys.lookup(_normalized(number))}


def _is_clear(value) -> bool:
    return isinstance(value, str) and bool(value)


def _has_rows(bind) -> bool:
    return bind.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM children WHERE id_number_cipher IS NOT NULL)"
        " OR EXISTS (SELECT 1 FROM register_students) OR EXISTS (SELECT 1 FROM suspected_dropouts)"
        " OR EXISTS (SELECT 1 FROM submissions WHERE payload->'record'->'fields' ? 'id_number')"
        " OR EXISTS (SELECT 1 FROM conflicts WHERE field = 'id_number')"
        " OR EXISTS (SELECT 1 FROM field_states WHERE states ? 'id_number')")).scalar()


def _rebind_all(bind, keys: _Keys, change) -> None:
    """Apply `change(blob, subject)` to every stored ciphertext, triggers off (no new versions)."""
    bind.execute(sa.text("ALTER TABLE children DISABLE TRIGGER USER"))
    rows = bind.execute(sa.text("SELECT id, id_number_cipher FROM children WHERE id_number_cipher IS NOT NULL")).all()
    if rows:
        bind.execute(sa.text("UPDATE children SET id_number_cipher = :c WHERE id = :id"),
                     [{"id": r[0], "c": change(bytes(r[1]), f"child:{r[0]}:id_number")} for r in rows])
    bind.execute(sa.text("ALTER TABLE children ENABLE TRIGGER USER"))
    versions = bind.execute(sa.text(
        "SELECT record_id, version, row->>'id_number_cipher' FROM record_versions"
        " WHERE record_type = 'child' AND row->>'id_number_cipher' IS NOT NULL")).all()
    if versions:
        bind.execute(sa.text(
            "UPDATE record_versions SET row = jsonb_set(row, '{id_number_cipher}', to_jsonb(CAST(:c AS text)))"
            " WHERE record_type = 'child' AND record_id = :id AND version = :v"),
            [{"id": r[0], "v": r[1],
              "c": "\\x" + change(bytes.fromhex(r[2][2:]), f"child:{r[0]}:id_number").hex()} for r in versions])
    for table, import_column in (("register_students", "import_id"), ("suspected_dropouts", "previous_import_id")):
        # A dropout row copies the ciphertext of the previous register's row: bound to that import.
        rows = bind.execute(sa.text(f"SELECT id, {import_column}, id_number_cipher FROM {table}")).all()  # noqa: S608
        if rows:
            bind.execute(sa.text(f"UPDATE {table} SET id_number_cipher = :c WHERE id = :id"),  # noqa: S608
                         [{"id": r[0], "c": change(bytes(r[2]), f"register:{r[1]}:id_number")} for r in rows])


def _protect_values(bind, keys: _Keys) -> None:
    """Submissions, field states and conflicts: the typed number out, its protected form in."""
    rows = bind.execute(sa.text(
        "SELECT submission_id, payload FROM submissions WHERE payload->'record'->'fields' ? 'id_number'")).all()
    updates = []
    for submission_id, payload in rows:
        number = payload["record"]["fields"]["id_number"]
        if not _is_clear(number):
            continue
        with_marker = json.loads(json.dumps(payload))
        with_marker["record"]["fields"]["id_number"] = {"protected": "id_number", "lookup": keys.lookup(number)}
        content = keys.mac(_canonical(with_marker))
        payload["record"]["fields"]["id_number"] = {
            "protected": "id_number", "lookup": keys.lookup(number),
            "cipher": base64.b64encode(keys.encrypt(number, f"child:{payload['record']['id']}:id_number")).decode()}
        updates.append({"id": submission_id, "p": json.dumps(payload, ensure_ascii=False), "h": content})
    if updates:
        bind.execute(sa.text("UPDATE submissions SET payload = CAST(:p AS jsonb), content_sha256 = :h"
                             " WHERE submission_id = :id"), updates)

    rows = bind.execute(sa.text("SELECT record_type, record_id, states FROM field_states WHERE states ? 'id_number'")).all()
    updates = []
    for record_type, record_id, states in rows:
        values = states["id_number"].get("vals") or {}
        for device, entry in values.items():
            said = json.loads(entry[0])
            if _is_clear(said):
                entry[0] = _canonical(_marker(keys, said))
        updates.append({"t": record_type, "id": record_id, "s": json.dumps(states, ensure_ascii=False)})
    if updates:
        bind.execute(sa.text("UPDATE field_states SET states = CAST(:s AS jsonb)"
                             " WHERE record_type = :t AND record_id = :id"), updates)

    rows = bind.execute(sa.text(
        "SELECT id, record_id, values, resolution FROM conflicts WHERE field = 'id_number'")).all()
    updates = []
    for conflict_id, record_id, values, resolution in rows:
        for value in values:
            if _is_clear(value.get("value")):
                number = _normalized(value["value"])
                value["cipher"] = base64.b64encode(keys.encrypt(number, f"child:{record_id}:id_number")).decode()
                value["value"] = _marker(keys, number)
        if resolution and _is_clear(resolution.get("value")):
            resolution["value"] = _marker(keys, resolution["value"])
        updates.append({"id": conflict_id, "v": json.dumps(values, ensure_ascii=False),
                        "r": json.dumps(resolution, ensure_ascii=False) if resolution is not None else None})
    if updates:
        bind.execute(sa.text("UPDATE conflicts SET values = CAST(:v AS jsonb), resolution = CAST(:r AS jsonb)"
                             " WHERE id = :id"), updates)


def upgrade() -> None:
    op.add_column("children", sa.Column("id_number_confirmed_lookup", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    if not _has_rows(bind):
        return
    keys = _Keys()
    _rebind_all(bind, keys, keys.bind)
    _protect_values(bind, keys)


def downgrade() -> None:
    # The ciphertexts go back to the unbound format the older code reads. The numbers taken out
    # of submissions, field states and conflicts stay out: they were never to be stored.
    bind = op.get_bind()
    if _has_rows(bind):
        keys = _Keys()
        _rebind_all(bind, keys, keys.unbind)
    op.drop_column("children", "id_number_confirmed_lookup")
