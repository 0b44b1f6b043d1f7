"""Content-addressed attachments: the name is the SHA-256 of the bytes, so an upload is
idempotent and a tablet can send the same photo twice without harm."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.attachments import queries
from server.errors import DomainError, FieldError
from server.sync.models import Attachment

HEX = re.compile(r"^[0-9a-f]{64}$")

# What a certificate, a receipt or a visit's photo is: images and PDF, known by their first
# bytes (the Content-Type a client sends is its own claim). Anything else (HTML, SVG with its
# scripts, an executable) is refused; what is stored is served as a download, never inline.
TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic",
         "application/pdf": "pdf"}
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def sniff_type(body: bytes) -> str | None:
    """The content type of an image or PDF, from its bytes; None for anything else."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    if body[4:8] == b"ftyp" and body[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if body.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def check_name(sha256: str) -> str:
    name = sha256.lower().removeprefix("sha256:")
    if not HEX.match(name):
        raise DomainError("request.invalid", errors=[FieldError("sha256", "attachment.name",
                                                                "the address is the file's SHA-256 in 64 hex")])
    return name


def path_of(root: str, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def store(session: Session, root: str, sha256: str, body: bytes, person_id: int,
          device_id: uuid.UUID | None, max_bytes: int) -> bool:
    """Keep the file and who uploaded it; True when the file is new. The file is written
    (atomically) before the row; its type is the one its bytes show."""
    sha256 = check_name(sha256)
    if len(body) > max_bytes:
        raise DomainError("attachment.too_large", f"attachments are at most {max_bytes} bytes")
    if hashlib.sha256(body).hexdigest() != sha256:
        raise DomainError("attachment.hash_mismatch")
    content_type = sniff_type(body)
    if content_type is None:
        raise DomainError("attachment.unsupported_type")
    target = path_of(root, sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(body)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
    new = queries.store(session, sha256, len(body), content_type, device_id)
    queries.record_upload(session, sha256, person_id, device_id)
    return new


def download_type(row: Attachment) -> str:
    """What a stored file is served as: its sniffed type, or bytes (rows from before the check)."""
    return row.content_type if row.content_type in TYPES else "application/octet-stream"


def find(session: Session, sha256: str) -> Attachment | None:
    return queries.find(session, check_name(sha256))


def referred_to_in(session: Session, scope: Scope, sha256: str) -> bool:
    """Whether a record of `scope`'s villages refers to the file: a tablet submission that carried
    it (a certificate, a visit's photo), a child's certificate photo, a case's evidence.

    The address is a hash, but hashes travel in records, receipts and conflicts: the photo of a
    sick child's certificate is read where the child is, not by whoever learnt its hash. A
    submission that names a file counts only when a tablet of its village uploaded the file,
    and a child's photo or a case's evidence only when a tablet of its village or staff whose
    area holds it did: whoever learnt another town's hash cannot make that file readable in
    their own scope by naming it.
    """
    if scope.everywhere:
        return True
    from server.sync import queries as sync_queries

    ref = f"sha256:{check_name(sha256)}"
    name = check_name(sha256)
    named = queries.villages_naming(session, scope, ref)
    if named and (queries.uploaded_by_village_tablets(session, [name], named)
                  or queries.uploaded_by_staff_of(session, name, named)):
        return True
    carried = queries.records_carrying(session, ref)
    villages = set()
    for record_type, record_id in carried:
        if record_type in sync_queries.TABLES:
            row = sync_queries.rows_of(session, record_type, [record_id]).get(record_id)
            if row is not None and scope.covers(row["village_code"]):
                villages.add(row["village_code"])
    return bool(queries.uploaded_by_village_tablets(session, [name], villages))
