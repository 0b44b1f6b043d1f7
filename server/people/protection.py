"""ID numbers at rest: encrypted (AES-256-GCM) for display, keyed-hashed (HMAC-SHA256) for lookup.

An ID number is never stored in clear text. The lookup hash lets imports and the duplicate
check find a child by exact ID number without decrypting every row; it is keyed so that the
hashes alone cannot be reversed by hashing every possible ID number (there are only ~10^11).

Every ciphertext is bound to the row and field it belongs to (the AES-GCM associated data
names them, e.g. `child:<uuid>:id_number`): a ciphertext copied into another child's row, by
a bug or by someone with write access to the database, fails to decrypt instead of showing
one child's number on another's record. Version byte 0x01 (one fixed associated data for
every row) is what the 20261201_2100 migration re-encrypts; it is no longer read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_BOUND = b"\x02"  # first byte of every ciphertext: the format (and a later key rotation)
PROTECTED = "protected"  # the key that marks a protected value in JSON (submissions, field states, conflicts)


def child_subject(child_id: uuid.UUID | str) -> str:
    """The associated data of a child's ID number ciphertext."""
    return f"child:{child_id}:id_number"


def register_subject(import_id: int) -> str:
    """The associated data of the ciphertexts of one register import (its rows and the dropouts it shows)."""
    return f"register:{import_id}:id_number"


def roster_subject(import_id: int) -> str:
    """The associated data of a roster import's staged rows (re-bound to each child it creates)."""
    return f"roster:{import_id}:id_number"


class IdNumberVault:
    def __init__(self, encryption_key: bytes, lookup_key: bytes):
        if len(encryption_key) != 32 or len(lookup_key) < 32:
            raise ValueError("ID number keys must be 32 bytes (base64 in the configuration)")
        self._aead = AESGCM(encryption_key)
        self._lookup_key = lookup_key

    @classmethod
    def from_config(cls, encryption_key_b64: str, lookup_key_b64: str) -> IdNumberVault:
        return cls(base64.b64decode(encryption_key_b64), base64.b64decode(lookup_key_b64))

    def encrypt(self, id_number: str, subject: str) -> bytes:
        nonce = os.urandom(12)
        return _BOUND + nonce + self._aead.encrypt(nonce, id_number.encode(), subject.encode())

    def decrypt(self, blob: bytes, subject: str) -> str:
        """The number, if this ciphertext was made for `subject` (else cryptography's InvalidTag)."""
        if blob[:1] != _BOUND:
            raise ValueError("unknown ID number ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], subject.encode()).decode()

    def rebind(self, blob: bytes, subject: str, new_subject: str) -> bytes:
        """The same number encrypted for another row (a merge, an import creating the child)."""
        return self.encrypt(self.decrypt(blob, subject), new_subject)

    def lookup(self, id_number: str) -> bytes:
        return hmac.new(self._lookup_key, id_number.encode(), hashlib.sha256).digest()

    def mac(self, text: str) -> str:
        """A keyed hash of text that holds an ID number (a submission's content): without the
        key nobody can test guessed numbers against it, as they could against a plain sha256."""
        return hmac.new(self._lookup_key, b"content:" + text.encode(), hashlib.sha256).hexdigest()

    def protect(self, id_number: str, subject: str) -> dict:
        """The stored form of a typed number: its ciphertext and its lookup hash, never the digits."""
        return {PROTECTED: "id_number", "cipher": base64.b64encode(self.encrypt(id_number, subject)).decode(),
                "lookup": self.lookup(id_number).hex()}

    def reveal(self, protected: dict, subject: str) -> str:
        return self.decrypt(base64.b64decode(protected["cipher"]), subject)


def marker(lookup: bytes | str | None) -> dict | None:
    """How the merge, the field states and conflicts speak of a number: by its lookup hash.

    Two markers are equal exactly when the numbers are, so the merge can compare them; they
    hold no digit, and the hash is keyed."""
    if lookup is None:
        return None
    return {PROTECTED: "id_number", "lookup": lookup if isinstance(lookup, str) else lookup.hex()}


def is_protected(value) -> bool:
    return isinstance(value, dict) and value.get(PROTECTED) == "id_number"


def new_key() -> str:
    """A fresh random key, base64, for the configuration."""
    return base64.b64encode(os.urandom(32)).decode()
