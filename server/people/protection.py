"""ID numbers at rest: encrypted (AES-256-GCM) for display, keyed-hashed (HMAC-SHA256) for lookup.

An ID number is never stored in clear text. The lookup hash lets imports and the duplicate
check find a child by exact ID number without decrypting every row; it is keyed so that the
hashes alone cannot be reversed by hashing every possible ID number (there are only ~10^11).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY_VERSION = b"\x01"  # first byte of every ciphertext: allows a later key rotation
_AAD = b"notoneless:id_number"


class IdNumberVault:
    def __init__(self, encryption_key: bytes, lookup_key: bytes):
        if len(encryption_key) != 32 or len(lookup_key) < 32:
            raise ValueError("ID number keys must be 32 bytes (base64 in the configuration)")
        self._aead = AESGCM(encryption_key)
        self._lookup_key = lookup_key

    @classmethod
    def from_config(cls, encryption_key_b64: str, lookup_key_b64: str) -> IdNumberVault:
        return cls(base64.b64decode(encryption_key_b64), base64.b64decode(lookup_key_b64))

    def encrypt(self, id_number: str) -> bytes:
        nonce = os.urandom(12)
        return _KEY_VERSION + nonce + self._aead.encrypt(nonce, id_number.encode(), _AAD)

    def decrypt(self, blob: bytes) -> str:
        if blob[:1] != _KEY_VERSION:
            raise ValueError("unknown ID number key version")
        return self._aead.decrypt(blob[1:13], blob[13:], _AAD).decode()

    def lookup(self, id_number: str) -> bytes:
        return hmac.new(self._lookup_key, id_number.encode(), hashlib.sha256).digest()


def new_key() -> str:
    """A fresh random key, base64, for the configuration."""
    return base64.b64encode(os.urandom(32)).decode()
