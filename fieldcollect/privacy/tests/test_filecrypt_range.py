"""Range reads of a sealed file (HTTP range playback of recordings): every byte range equals the
plaintext's slice, only the chunks that hold it are read, tampering and renaming still fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fieldcollect.privacy import crypto, filecrypt
from fieldcollect.privacy.crypto import KeyRing


@pytest.fixture
def ring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeyRing:
    monkeypatch.delenv(crypto.MASTER_ENV, raising=False)
    return KeyRing(tmp_path / "keys")


def seal(tmp_path: Path, ring: KeyRing, plain: bytes, name: bytes = b"n") -> Path:
    path = tmp_path / "sealed"
    with path.open("wb") as out:
        sealer = filecrypt.Sealer(out, ring=ring)
        sealer.write(plain)
        sealer.finish(name=name)
    return path


C = filecrypt.CHUNK


@pytest.mark.parametrize("size", [1, C - 1, C, C + 1, 3 * C, 3 * C + 17])
def test_every_range_is_the_plaintext_slice(tmp_path: Path, ring: KeyRing, size: int) -> None:
    plain = os.urandom(size)
    path = seal(tmp_path, ring, plain)
    assert filecrypt.sealed_plain_size(path.stat().st_size) == size
    points = sorted({0, 1, C - 1, C, C + 1, 2 * C + 5, size - 2, size - 1} & set(range(size)))
    with path.open("rb") as fh:
        for a in points:
            for b in points:
                if a <= b:
                    assert (
                        b"".join(filecrypt.open_sealed_range(fh, ring=ring, start=a, end=b, name=b"n"))
                        == plain[a : b + 1]
                    )


def test_out_of_range_wrong_name_and_tampering_fail(tmp_path: Path, ring: KeyRing) -> None:
    plain = os.urandom(2 * C + 10)
    path = seal(tmp_path, ring, plain)
    with path.open("rb") as fh, pytest.raises(filecrypt.FileCryptError, match="outside"):
        list(filecrypt.open_sealed_range(fh, ring=ring, start=0, end=len(plain), name=b"n"))
    with path.open("rb") as fh, pytest.raises(filecrypt.FileCryptError):  # the last chunk binds the name
        list(filecrypt.open_sealed_range(fh, ring=ring, start=2 * C, end=2 * C + 3, name=b"other"))
    blob = bytearray(path.read_bytes())
    blob[filecrypt.HEADER_BYTES + C + filecrypt.TAG + 3] ^= 1  # inside chunk 1
    path.write_bytes(bytes(blob))
    with path.open("rb") as fh:  # chunk 0 still reads, chunk 1 fails
        assert b"".join(filecrypt.open_sealed_range(fh, ring=ring, start=0, end=9, name=b"n")) == plain[:10]
        with pytest.raises(filecrypt.FileCryptError, match="chunk 1"):
            list(filecrypt.open_sealed_range(fh, ring=ring, start=C, end=C + 1, name=b"n"))
