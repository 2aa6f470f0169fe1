"""Keyed hashes of client MAC addresses and phone numbers (HMAC-SHA-256 with the installation's key).

A tenant whose policy says so (`hash_personal_data`, on by default) keeps only `h:<hex>` in its rows: the
same device or phone still counts once per day, but the value cannot be read back, and without the key it
cannot be confirmed by hashing every possible MAC. The key lives in a file outside the database
(`WifiSettings.hash_key_file`), created on first use with 256 random bits.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

MAC_PATTERN = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$")
HASH_PREFIX = "h:"


def normalise_mac(value: str) -> str | None:
    """`aa:bb:cc:dd:ee:ff` from the forms NASes send (dashes, dots, none, upper case); None if not a MAC."""
    compact = re.sub(r"[^0-9a-f]", "", value.strip().lower())
    if len(compact) != 12:
        return None
    return ":".join(compact[i : i + 2] for i in range(0, 12, 2))


def load_key(path: Path) -> bytes:
    """The hashing key, created (mode 0600) if the file does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < 16:
        raise ValueError(f"{path}: the wifi hashing key must hold at least 16 bytes (hex)")
    return key


class PersonalData:
    """Turns MACs and phone numbers into what a tenant's rows may keep."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, kind: str, value: str) -> str:
        mac = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return HASH_PREFIX + mac[:40]

    def mac(self, value: str | None, hashed: bool) -> str | None:
        if not value:
            return None
        mac = normalise_mac(value)
        if mac is None:
            return None
        return self.digest("mac", mac) if hashed else mac

    def phone(self, value: str, hashed: bool) -> str:
        return self.digest("phone", value) if hashed else value
