"""Files encrypted at rest, streamed in chunks (pure: no Django).

Format (version 1)::

    header  = MAGIC (8) | key id (8, ASCII hex) | file nonce (8) | wrap nonce (12) | wrapped file key (48)
    chunk i = AES-256-GCM(file key, nonce = file nonce | i (4, big endian), plaintext[i*64 KiB : (i+1)*64 KiB],
                          associated data = "fieldcollect-file:v1" | header | i (8) | final flag (1) [| name])

Every file has its own random 256-bit **file key**, wrapped (AES-GCM) under a wrapping key derived
(HKDF-SHA256) from the key ring's primary data key, named by its key id in the header: the key ring's
master key protects every file, a rotation keeps old files readable (the ring keeps older keys), and
the data keys are never used directly for two purposes. The chunk counter is in the nonce and in the
associated data, so reordered chunks fail; the last chunk carries a final flag (and the file's
``name``, e.g. the SHA-256 of the plaintext it is stored under, known only at the end), so a
truncated, extended or renamed file fails too. Only the key ring's public API is used
(:attr:`KeyRing.primary_id`, :meth:`KeyRing.data_keys`).

:class:`Sealer` encrypts as data arrives (an upload is never on disk in clear);
:func:`open_sealed` decrypts as it is read (a download never holds the whole file);
:func:`seal_file` encrypts a clear file in place (for files written before encryption).
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fieldcollect.privacy.crypto import KeyRing

__all__ = ["CHUNK", "MAGIC", "FileCryptError", "Sealer", "is_sealed", "open_sealed", "open_sealed_range", "seal_file",
           "sealed_plain_size"]

MAGIC = b"FCSEAL\x00\x01"
CHUNK = 64 * 1024
TAG = 16
_KID = 8
_FILE_NONCE = 8
_WRAP_NONCE = 12
_KEY = 32
HEADER_BYTES = len(MAGIC) + _KID + _FILE_NONCE + _WRAP_NONCE + _KEY + TAG
_AD = b"fieldcollect-file:v1"
_WRAP_INFO = b"fieldcollect file key wrap v1"


class FileCryptError(Exception):
    """A sealed file cannot be opened: unknown key, tampered, truncated, reordered or renamed."""


def _wrapping_key(data_key: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=_KEY, salt=None, info=_WRAP_INFO).derive(data_key))


def _nonce(file_nonce: bytes, counter: int) -> bytes:
    if counter >= 2**32:
        raise FileCryptError("file too large for one sealed stream")
    return file_nonce + struct.pack(">I", counter)


def _ad(header: bytes, counter: int, final: bool, name: bytes) -> bytes:
    return _AD + header + struct.pack(">QB", counter, 1 if final else 0) + (name if final else b"")


def is_sealed(head: bytes) -> bool:
    """Whether a file starting with ``head`` is in this format."""
    return head.startswith(MAGIC)


class Sealer:
    """Encrypts a stream into ``out``: :meth:`write` as data arrives, then :meth:`finish` once.

    ``name`` (bytes) is bound to the last chunk; pass it to :meth:`finish` when it is only known at
    the end (the SHA-256 of the content).
    """

    def __init__(self, out: IO[bytes], *, ring: KeyRing) -> None:
        kid = ring.primary_id
        data_key = {k.key_id: k.key for k in ring.data_keys()}[kid]
        self._file_key = AESGCM.generate_key(bit_length=256)
        self._file_nonce = secrets.token_bytes(_FILE_NONCE)
        wrap_nonce = secrets.token_bytes(_WRAP_NONCE)
        wrapped = _wrapping_key(data_key).encrypt(wrap_nonce, self._file_key, _AD + MAGIC + kid.encode())
        self._header = MAGIC + kid.encode() + self._file_nonce + wrap_nonce + wrapped
        assert len(self._header) == HEADER_BYTES
        self._aead = AESGCM(self._file_key)
        self._out = out
        self._buf = bytearray()
        self._counter = 0
        self._done = False
        out.write(self._header)

    def write(self, data: bytes) -> None:
        if self._done:
            raise FileCryptError("the sealed stream is finished")
        self._buf += data
        # keep at least one byte back: the last chunk is sealed by finish() with the final flag
        while len(self._buf) > CHUNK:
            self._seal(bytes(self._buf[:CHUNK]), final=False, name=b"")
            del self._buf[:CHUNK]

    def finish(self, *, name: bytes = b"") -> None:
        if self._done:
            return
        self._seal(bytes(self._buf), final=True, name=name)
        self._buf.clear()
        self._done = True

    def _seal(self, plain: bytes, *, final: bool, name: bytes) -> None:
        n = self._counter
        self._out.write(self._aead.encrypt(_nonce(self._file_nonce, n), plain, _ad(self._header, n, final, name)))
        self._counter += 1


def _file_key(header: bytes, ring: KeyRing) -> AESGCM:
    if len(header) != HEADER_BYTES or not is_sealed(header):
        raise FileCryptError("not a sealed file")
    at = len(MAGIC)
    kid = header[at:at + _KID].decode("ascii", errors="replace")
    at += _KID + _FILE_NONCE
    wrap_nonce, wrapped = header[at:at + _WRAP_NONCE], header[at + _WRAP_NONCE:]
    keys = {k.key_id: k.key for k in ring.data_keys()}
    if kid not in keys:
        raise FileCryptError(f"unknown data key {kid}")
    try:
        return AESGCM(_wrapping_key(keys[kid]).decrypt(wrap_nonce, wrapped, _AD + MAGIC + kid.encode()))
    except InvalidTag as exc:
        raise FileCryptError("the file key does not open (tampered header)") from exc


def open_sealed(fh: IO[bytes], *, ring: KeyRing, name: bytes = b"") -> Iterator[bytes]:
    """The plaintext of a sealed stream, chunk by chunk; raises :class:`FileCryptError` at the first
    chunk that fails (tampered, reordered), when the stream ends without its final chunk (truncated)
    or goes on after it, and when ``name`` is not the one it was sealed with."""
    header = fh.read(HEADER_BYTES)
    aead = _file_key(header, ring)
    file_nonce = header[len(MAGIC) + _KID:len(MAGIC) + _KID + _FILE_NONCE]
    block = CHUNK + TAG
    current = fh.read(block)
    counter = 0
    while True:
        following = fh.read(block) if len(current) == block else b""
        final = not following
        if len(current) < TAG:
            raise FileCryptError("the sealed file is truncated")
        try:
            plain = aead.decrypt(_nonce(file_nonce, counter), current, _ad(header, counter, final, name))
        except InvalidTag as exc:
            raise FileCryptError(f"chunk {counter} fails authentication (tampered, reordered, truncated "
                                 f"or renamed file)") from exc
        yield plain
        if final:
            return
        current, counter = following, counter + 1


def seal_file(path: Path, *, ring: KeyRing, name: bytes = b"") -> bool:
    """Encrypt the clear file ``path`` in place (a sealed copy beside it, then an atomic rename);
    ``False`` when it is sealed already. The file keeps its mode."""
    with path.open("rb") as src:
        if is_sealed(src.read(len(MAGIC))):
            return False
        src.seek(0)
        mode = path.stat().st_mode & 0o777
        tmp = path.with_name(f".seal-{path.name}-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                sealer = Sealer(out, ring=ring)
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    sealer.write(chunk)
                sealer.finish(name=name)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return True


def sealed_plain_size(sealed_size: int) -> int:
    """The plaintext size of a sealed file of ``sealed_size`` bytes (every chunk but the last is full)."""
    body = sealed_size - HEADER_BYTES
    if body < TAG:
        raise FileCryptError("the sealed file is truncated")
    chunks = -(-body // (CHUNK + TAG))
    return body - chunks * TAG


def open_sealed_range(fh: IO[bytes], *, ring: KeyRing, start: int, end: int, name: bytes = b"") -> Iterator[bytes]:
    """The plaintext bytes ``start`` to ``end`` (inclusive) of a sealed file, decrypting only the chunks
    that hold them (an HTTP range request on a long recording starts at once). Each chunk read is
    authenticated as in :func:`open_sealed`, the last one with its final flag and ``name``."""
    sealed_size = os.fstat(fh.fileno()).st_size
    plain = sealed_plain_size(sealed_size)
    if not 0 <= start <= end < plain:
        raise FileCryptError(f"range {start}-{end} outside the file's {plain} bytes")
    fh.seek(0)
    header = fh.read(HEADER_BYTES)
    aead = _file_key(header, ring)
    file_nonce = header[len(MAGIC) + _KID:len(MAGIC) + _KID + _FILE_NONCE]
    block = CHUNK + TAG
    last_index = -(-(sealed_size - HEADER_BYTES) // block) - 1
    for i in range(start // CHUNK, end // CHUNK + 1):
        fh.seek(HEADER_BYTES + i * block)
        sealed = fh.read(block)
        final = i == last_index
        try:
            data = aead.decrypt(_nonce(file_nonce, i), sealed, _ad(header, i, final, name))
        except InvalidTag as exc:
            raise FileCryptError(f"chunk {i} fails authentication (tampered, reordered, truncated "
                                 f"or renamed file)") from exc
        lo = start - i * CHUNK if i == start // CHUNK else 0
        hi = end - i * CHUNK + 1 if i == end // CHUNK else len(data)
        yield data[lo:hi]
