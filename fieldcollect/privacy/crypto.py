"""Envelope encryption and blind indexes for personal data (pure: no Django).

Keys
    A 256-bit **master key** comes from ``FIELDCOLLECT_MASTER_KEY`` (base64) or from the key file
    ``$FIELDCOLLECT_HOME/keys/master.key`` (created at set-up, mode 0600, never committed). The master
    key only wraps other keys. **Data keys** (random 256-bit, one per key id) encrypt the values; an
    **index key** computes the blind indexes. Both are stored wrapped (AES-GCM under the master key)
    in the key ring ``$FIELDCOLLECT_HOME/keys/keyring.json``.
Values
    ``fc2$<key id>$<base64url(nonce | ciphertext | tag)>``: AES-256-GCM with a random 96-bit nonce and
    the associated data ``fc2|<key id>|<table>|<column>|<row binding>`` (a :class:`Binding`): the value
    opens only in the table, column and row it was written for, so a ciphertext copied into another row
    (or column, or table) fails authentication. The row binding is a random 128-bit id stored in the row
    itself (set when the row is created, never changed; see :mod:`fieldcollect.privacy.fields`), because
    an auto-increment primary key is not known before the INSERT. The key id names the data key, so
    values under several keys can be read side by side while a rotation re-encrypts them.
    ``fc1$<key id>$...`` (associated data: the key id only) is the earlier, unbound format: it still
    decrypts, and the data migration and ``keys rotate`` rewrite such values bound.
Key states
    ``primary`` encrypts new values; ``active`` decrypts only (the previous primary during a rotation);
    ``retired`` no value refers to it any more. A retired key stays in the ring (still wrapped) so that a
    backup taken before the rotation can be restored and read.
Blind index
    HMAC-SHA256 under the index key over the normalised value (mobile: digits without the +86 prefix;
    ID number: upper case without spaces), truncated to 128 bits, hex. Equal values give equal indexes,
    so exact look-up works without decrypting; nothing else about the value can be learnt from it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "fc2"  # bound to table, column and row
UNBOUND_PREFIX = "fc1"  # the key id alone as associated data (before the row binding)
SEP = "$"
MASTER_ENV = "FIELDCOLLECT_MASTER_KEY"
MASTER_FILE = "master.key"
RING_FILE = "keyring.json"
KEY_BYTES = 32
NONCE_BYTES = 12
RELOAD_SECONDS = 1.0  # how often a process looks for a new primary key written by `keys rotate`
_VALUE = re.compile(r"^(fc[12])\$([0-9a-f]{8})\$([A-Za-z0-9_-]+)$")


class CryptoError(Exception):
    """A value cannot be decrypted (unknown key, wrong master key, tampered ciphertext, a ciphertext
    written for another table, column or row)."""


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a value lives: its table, its column and its row's binding id."""

    table: str
    column: str
    row: str

    def aad(self, key_id: str) -> bytes:
        return f"{PREFIX}|{key_id}|{self.table}|{self.column}|{self.row}".encode()

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and _VALUE.match(value) is not None


def key_id_of(value: str) -> str | None:
    m = _VALUE.match(value)
    return m.group(2) if m else None


def is_bound(value: object) -> bool:
    """An encrypted value in the bound format (``fc2``)."""
    return isinstance(value, str) and value.startswith(PREFIX + SEP) and _VALUE.match(value) is not None


def normalise_phone(value: str) -> str:
    """Digits only, without a Chinese country prefix: '+86 138-0013-8000' -> '13800138000'."""
    value = value or ""
    if value.isascii() and value.isdigit() and len(value) == 11:  # the usual case, without a regex
        return value
    digits = re.sub(r"\D", "", value)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix):]
    return digits


def normalise_id_number(value: str) -> str:
    """Upper case, no spaces or dashes: '11010519491231002x' -> '11010519491231002X'."""
    value = value or ""
    if value.isascii() and value.isalnum():
        return value.upper()
    return re.sub(r"[\s-]", "", value).upper()


NORMALISERS = {"phone": normalise_phone, "id_number": normalise_id_number, "exact": lambda v: v or ""}


# ---------------------------------------------------------------- master key

def parse_master_key(text: str) -> bytes:
    try:
        raw = _unb64(text.strip())
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("the master key is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise CryptoError(f"the master key must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def new_master_key_text() -> str:
    return _b64(secrets.token_bytes(KEY_BYTES))


def master_key_source(keys_dir: Path) -> str:
    return "environment" if os.environ.get(MASTER_ENV) else str(keys_dir / MASTER_FILE)


def load_master_key(keys_dir: Path, *, create: bool = True) -> bytes:
    """The master key from the environment, else from the key file (created, 0600, if missing)."""
    env = os.environ.get(MASTER_ENV)
    if env:
        return parse_master_key(env)
    path = keys_dir / MASTER_FILE
    if not path.exists():
        if not create:
            raise CryptoError(f"no master key: set {MASTER_ENV} or run `fieldcollect keys init` ({path})")
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(new_master_key_text() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    for _ in range(50):  # a concurrent creator may not have written it yet
        text = path.read_text().strip()
        if text:
            return parse_master_key(text)
        time.sleep(0.02)
    raise CryptoError(f"the master key file {path} is empty")


# ---------------------------------------------------------------- key ring

@dataclass
class DataKey:
    key_id: str
    status: str  # primary | active | retired
    created_at: str
    key: bytes = field(repr=False)
    retired_at: str | None = None


def _wrap(master: bytes, key: bytes, label: str) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return _b64(nonce + AESGCM(master).encrypt(nonce, key, f"fieldcollect-key:{label}".encode()))


def _unwrap(master: bytes, wrapped: str, label: str) -> bytes:
    raw = _unb64(wrapped)
    try:
        return AESGCM(master).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"fieldcollect-key:{label}".encode())
    except InvalidTag as exc:
        raise CryptoError("the master key does not open the key ring (wrong FIELDCOLLECT_MASTER_KEY?)") from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_key_id(taken: set[str]) -> str:
    while True:
        kid = secrets.token_hex(4)
        if kid not in taken:
            return kid


class KeyRing:
    """The data keys and the index key of one key folder. Thread-safe; re-reads the ring file when
    another process changed it (at most every :data:`RELOAD_SECONDS`, and at once when a value names a
    key it does not know)."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self.path = keys_dir / RING_FILE
        self._lock = threading.RLock()
        self._master = load_master_key(keys_dir)
        self._keys: dict[str, DataKey] = {}
        self._aead: dict[str, AESGCM] = {}
        self._primary: str = ""
        self._index_key = b""
        self._mtime = -1.0
        self._checked = 0.0
        self._ensure()

    # -- file handling
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.keys_dir, os.O_RDONLY)  # lock the folder itself: no lock file to back up
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _ensure(self) -> None:
        with self._lock, self._file_lock():
            if not self.path.exists():
                kid = _new_key_id(set())
                doc = {
                    "format": 1,
                    "index_key": _wrap(self._master, secrets.token_bytes(KEY_BYTES), "index"),
                    "data_keys": [{"id": kid, "status": "primary", "created_at": _now(),
                                   "wrapped": _wrap(self._master, secrets.token_bytes(KEY_BYTES), kid)}],
                }
                self._write(doc)
            self._load()

    def _write(self, doc: dict[str, object]) -> None:
        tmp = self.path.with_name(f".{RING_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def _read_doc(self) -> dict[str, object]:
        return dict(json.loads(self.path.read_text()))

    def _load(self) -> None:
        stat = self.path.stat()
        doc = self._read_doc()
        keys: dict[str, DataKey] = {}
        primary = ""
        for entry in doc["data_keys"]:  # type: ignore[attr-defined]
            kid = entry["id"]
            key = _unwrap(self._master, entry["wrapped"], kid)
            keys[kid] = DataKey(key_id=kid, status=entry["status"], created_at=entry["created_at"], key=key,
                                retired_at=entry.get("retired_at"))
            if entry["status"] == "primary":
                primary = kid
        if not primary:
            raise CryptoError(f"the key ring {self.path} has no primary key")
        self._index_key = _unwrap(self._master, str(doc["index_key"]), "index")
        self._keys = keys
        self._aead = {kid: AESGCM(k.key) for kid, k in keys.items()}
        self._primary = primary
        self._mtime = stat.st_mtime_ns
        self._checked = time.monotonic()

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_SECONDS:
            return
        with self._lock:
            self._checked = now
            try:
                mtime = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                return
            if force or mtime != self._mtime:
                self._load()

    # -- use
    @property
    def primary_id(self) -> str:
        self.refresh()
        return self._primary

    def data_keys(self) -> list[DataKey]:
        self.refresh(force=True)
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def encrypt(self, plaintext: str, binding: Binding | None) -> str:
        """``plaintext`` under the primary key, bound to ``binding`` (``fc2``). ``None`` writes the
        unbound ``fc1`` format: only for tables that have no row binding yet (the states of the data
        migrations before it was added)."""
        self.refresh()
        kid = self._primary
        nonce = secrets.token_bytes(NONCE_BYTES)
        if binding is None:
            ct = self._aead[kid].encrypt(nonce, plaintext.encode("utf-8"), kid.encode())
            return f"{UNBOUND_PREFIX}{SEP}{kid}{SEP}{_b64(nonce + ct)}"
        ct = self._aead[kid].encrypt(nonce, plaintext.encode("utf-8"), binding.aad(kid))
        return f"{PREFIX}{SEP}{kid}{SEP}{_b64(nonce + ct)}"

    def decrypt(self, value: str, binding: Binding | None = None) -> str:
        """The plaintext of ``value``; a bound value needs the ``binding`` it was written with."""
        m = _VALUE.match(value)
        if m is None:
            raise CryptoError("not an encrypted value")
        fmt, kid, body = m.group(1), m.group(2), m.group(3)
        if fmt == PREFIX:
            if binding is None:
                raise CryptoError("a bound value (fc2) needs its table, column and row binding to decrypt")
            aad = binding.aad(kid)
        else:
            aad = kid.encode()
        aead = self._aead.get(kid)
        if aead is None:
            self.refresh(force=True)
            aead = self._aead.get(kid)
            if aead is None:
                raise CryptoError(f"unknown data key {kid}")
        raw = _unb64(body)
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode("utf-8")
        except InvalidTag as exc:
            where = f" in {binding}" if binding is not None and fmt == PREFIX else ""
            raise CryptoError(f"value under key {kid}{where} fails authentication "
                              "(tampered, or written for another table, column or row)") from exc

    def is_current(self, value: str, binding: Binding | None) -> bool:
        """``value`` is already what :meth:`reencrypt` would write: under the primary key, and bound
        when a binding is given (unbound when not)."""
        m = _VALUE.match(value)
        return (m is not None and m.group(2) == self.primary_id
                and m.group(1) == (PREFIX if binding is not None else UNBOUND_PREFIX))

    def reencrypt(self, value: str, binding: Binding | None) -> str:
        """``value`` under the primary key and bound to ``binding`` (unchanged when it already is);
        plaintext is encrypted, an unbound ``fc1`` value is rewritten bound."""
        if self.is_current(value, binding):
            return value
        if not is_encrypted(value):
            return self.encrypt(value, binding)
        return self.encrypt(self.decrypt(value, binding), binding)

    def blind_index(self, value: str, kind: str = "exact") -> str:
        normal = NORMALISERS[kind](value)
        if not normal:
            return ""
        return hmac.digest(self._index_key, normal.encode("utf-8"), "sha256")[:16].hex()

    # -- rotation
    def add_primary(self) -> str:
        """Make a new data key the primary; the previous primary becomes decrypt-only ("active")."""
        with self._lock, self._file_lock():
            doc = self._read_doc()
            entries = list(doc["data_keys"])  # type: ignore[call-overload]
            kid = _new_key_id({e["id"] for e in entries})
            for e in entries:
                if e["status"] == "primary":
                    e["status"] = "active"
            entries.append({"id": kid, "status": "primary", "created_at": _now(),
                            "wrapped": _wrap(self._master, secrets.token_bytes(KEY_BYTES), kid)})
            doc["data_keys"] = entries
            self._write(doc)
            self._load()
            return kid

    def retire(self, key_ids: set[str]) -> None:
        with self._lock, self._file_lock():
            doc = self._read_doc()
            for e in doc["data_keys"]:  # type: ignore[attr-defined]
                if e["id"] in key_ids and e["status"] == "active":
                    e["status"] = "retired"
                    e["retired_at"] = _now()
            self._write(doc)
            self._load()


_rings: dict[tuple[str, str], KeyRing] = {}
_rings_lock = threading.Lock()


def keyring_for(keys_dir: Path) -> KeyRing:
    """The (cached) key ring of a key folder, created with a new master key file when missing."""
    cache_key = (str(keys_dir.resolve()), os.environ.get(MASTER_ENV, ""))
    with _rings_lock:
        ring = _rings.get(cache_key)
        if ring is None:
            ring = KeyRing(keys_dir)
            _rings[cache_key] = ring
        return ring
