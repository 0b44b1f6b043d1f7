"""Content-addressed attachments: the name is the SHA-256 of the bytes, so an upload is
idempotent and a tablet can send the same photo twice without harm."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.errors import DomainError, FieldError
from server.sync.models import Attachment

HEX = re.compile(r"^[0-9a-f]{64}$")


def check_name(sha256: str) -> str:
    name = sha256.lower().removeprefix("sha256:")
    if not HEX.match(name):
        raise DomainError("request.invalid", errors=[FieldError("sha256", "attachment.name",
                                                                "the address is the file's SHA-256 in 64 hex")])
    return name


def path_of(root: str, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def store(session: Session, root: str, sha256: str, body: bytes, content_type: str | None,
          device_id: uuid.UUID | None, max_bytes: int) -> bool:
    """Keep the file; True when it is new. The file is written (atomically) before the row."""
    sha256 = check_name(sha256)
    if len(body) > max_bytes:
        raise DomainError("attachment.too_large", f"attachments are at most {max_bytes} bytes")
    if hashlib.sha256(body).hexdigest() != sha256:
        raise DomainError("attachment.hash_mismatch")
    target = path_of(root, sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(body)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
    result = session.execute(insert(Attachment).values(
        sha256=sha256, size=len(body), content_type=content_type, device_id=device_id,
    ).on_conflict_do_nothing().returning(Attachment.sha256))
    return result.first() is not None


def find(session: Session, sha256: str) -> Attachment | None:
    return session.scalar(select(Attachment).where(Attachment.sha256 == check_name(sha256)))
