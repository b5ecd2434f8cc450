"""API keys of the management API: minted once, stored only as a salted scrypt hash.

The store is ``$DAGSTER_HOME/restsync/keys.json``. A key value is ``rsk_`` followed by 43 url-safe
characters (256 random bits); the first six of them are kept in clear as ``prefix`` so a listing can
tell keys apart and ``verify`` hashes one candidate instead of every key. Revoked keys stay in the
file (with ``revoked_at``) for the record and never authenticate again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal

from ..errors import RestSyncError
from .files import FileLock, atomic_write_json

KEY_PREFIX = "rsk_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HINT_LEN = 6
MAX_EXPIRES_DAYS = 36500
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

Status = Literal["active", "expired", "revoked"]


class KeyStoreError(RestSyncError, ValueError):
    """A key operation that cannot be done (bad name, duplicate, unknown key)."""

    def __init__(self, message: str, *, code: Literal["invalid", "conflict", "not_found"], field: str = "name"):
        self.code = code
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class KeyRecord:
    name: str
    prefix: str
    salt: str
    hash: str
    admin: bool
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None

    def status(self, now: float) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def public(self, now: float) -> dict:
        """What a listing may show: never the hash or the salt."""
        return {
            "name": self.name,
            "prefix": self.prefix,
            "admin": self.admin,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "status": self.status(now),
        }


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _digest(value: str, salt: bytes) -> str:
    return hashlib.scrypt(value.encode("utf-8"), salt=salt, **_SCRYPT).hex()


class KeyStore:
    """Create, list, revoke and verify API keys; every change is an atomic rewrite under a file lock."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self._lock = FileLock(self.path.with_name(self.path.name + ".lock"))
        self._verified: dict[bytes, tuple[str, str]] = {}
        self._cache_lock = threading.Lock()

    @classmethod
    def for_home(cls, dagster_home: Path, *, clock: Callable[[], float] = time.time) -> "KeyStore":
        return cls(Path(dagster_home) / "restsync" / "keys.json", clock=clock)

    def _read(self) -> list[KeyRecord]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [KeyRecord(**entry) for entry in raw.get("keys", [])]

    def _write(self, records: list[KeyRecord]) -> None:
        atomic_write_json(self.path, {"version": 1, "keys": [asdict(r) for r in records]})
        self.path.chmod(0o600)

    def create(self, name: str, *, expires_days: int | None = None, admin: bool = False) -> str:
        """Mint a key and return its value; this is the only time the value exists outside the caller."""
        if not isinstance(name, str) or not NAME.match(name):
            raise KeyStoreError(
                "invalid key name; expected 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit",
                code="invalid",
            )
        if expires_days is not None and (isinstance(expires_days, bool) or not isinstance(expires_days, int) or not 1 <= expires_days <= MAX_EXPIRES_DAYS):
            raise KeyStoreError(f"expires_days must be a whole number of days from 1 to {MAX_EXPIRES_DAYS}", code="invalid", field="expires_days")
        now = self._clock()
        token = secrets.token_urlsafe(32)
        value = KEY_PREFIX + token
        salt = secrets.token_bytes(16)
        record = KeyRecord(
            name=name,
            prefix=KEY_PREFIX + token[:_HINT_LEN],
            salt=salt.hex(),
            hash=_digest(value, salt),
            admin=bool(admin),
            created_at=now,
            expires_at=now + expires_days * 86400 if expires_days is not None else None,
        )
        with self._lock():
            records = self._read()
            if any(r.name == name and r.status(now) != "revoked" for r in records):
                raise KeyStoreError(f"a key named {name!r} already exists; revoke it first", code="conflict")
            self._write(records + [record])
        return value

    def list(self) -> list[KeyRecord]:
        return self._read()

    def revoke(self, name: str) -> KeyRecord:
        now = self._clock()
        with self._lock():
            records = self._read()
            for i, record in enumerate(records):
                if record.name == name and record.revoked_at is None:
                    revoked = KeyRecord(**{**asdict(record), "revoked_at": now})
                    records[i] = revoked
                    self._write(records)
                    return revoked
        raise KeyStoreError(f"no key named {name!r} (or it is already revoked)", code="not_found")

    def verify(self, value: str | None) -> KeyRecord | None:
        """The active record this value authenticates, or ``None`` (unknown, revoked or expired)."""
        if not isinstance(value, str) or not value.startswith(KEY_PREFIX) or len(value) > 256:
            return None
        now = self._clock()
        records = self._read()
        fingerprint = hashlib.sha256(value.encode("utf-8")).digest()
        with self._cache_lock:
            cached = self._verified.get(fingerprint)
        hint = value[: len(KEY_PREFIX) + _HINT_LEN]
        match: KeyRecord | None = None
        for record in records:
            if not hmac.compare_digest(record.prefix, hint):
                continue
            if cached is not None and cached == (record.name, record.hash):
                match = record
            elif hmac.compare_digest(_digest(value, bytes.fromhex(record.salt)), record.hash):
                match = record
                with self._cache_lock:
                    self._verified[fingerprint] = (record.name, record.hash)
            if match is not None:
                break
        if match is None or match.status(now) != "active":
            return None
        return match
