"""Invisible export fingerprints (pure: no Django).

An export id (5 random bytes) and a 3-byte HMAC tag over it are written as 32 zero-width
characters (2 bits each) at the end of one text cell of **every** row, and again in the watermark
line and the file's metadata. Any single row that survives a leak (copy-paste of a few rows into a
new file, a re-save by a spreadsheet program, removal of the watermark line) still names the export;
the tag rejects codes that were damaged or made up by someone without the key.

A second, independent channel survives the removal of zero-width characters: each row's text cell
gets a trailing space or not, chosen by a keyed hash of the export id and the row's first value.
The id cannot be read back from it; instead :func:`whitespace_score` tests a candidate export against
the leaked rows (a random file matches ``n`` rows with probability 2⁻ⁿ).

Limits (see the README's security section): retyping the values, trimming every cell *and* stripping
zero-width characters, or exporting only numeric columns into a format without text cells removes
both channels; a leak of column totals or screenshots carries neither.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALPHABET = ("\u200b", "\u200c", "\u200d", "\u2060")  # ZWSP, ZWNJ, ZWJ, WORD JOINER
ID_BYTES = 5
TAG_BYTES = 3
CODE_CHARS = (ID_BYTES + TAG_BYTES) * 4
_ZW_RUN = re.compile("[" + "".join(ALPHABET) + "]+")
_ZW_ANY = re.compile("[" + "".join(ALPHABET) + "\ufeff]")


def _tag(key: bytes, export_id: bytes) -> bytes:
    return hmac.new(key, b"fc-export-v1:" + export_id, hashlib.sha256).digest()[:TAG_BYTES]


def encode(*, key: bytes, export_id: str) -> str:
    """The zero-width code of ``export_id`` (hex of :data:`ID_BYTES` bytes)."""
    raw = bytes.fromhex(export_id)
    if len(raw) != ID_BYTES:
        raise ValueError(f"export id must be {ID_BYTES} bytes of hex")
    out = []
    for byte in raw + _tag(key, raw):
        for shift in (6, 4, 2, 0):
            out.append(ALPHABET[(byte >> shift) & 3])
    return "".join(out)


def _decode_chunk(chunk: str) -> bytes:
    value = bytearray()
    for i in range(0, len(chunk), 4):
        byte = 0
        for ch in chunk[i:i + 4]:
            byte = (byte << 2) | ALPHABET.index(ch)
        value.append(byte)
    return bytes(value)


def find_codes(*, key: bytes, text: str) -> Counter[str]:
    """Export ids whose verified codes occur in ``text``, with how often each occurs."""
    found: Counter[str] = Counter()
    for run in _ZW_RUN.findall(text):
        for start in range(0, len(run) - CODE_CHARS + 1, CODE_CHARS):
            raw = _decode_chunk(run[start:start + CODE_CHARS])
            export_id, tag = raw[:ID_BYTES], raw[ID_BYTES:]
            if hmac.compare_digest(tag, _tag(key, export_id)):
                found[export_id.hex()] += 1
    return found


def strip(text: str) -> str:
    """``text`` without zero-width characters."""
    return _ZW_ANY.sub("", text)


def row_bit(*, key: bytes, export_id: str, row_key: str) -> bool:
    """Whether the row keyed ``row_key`` carries a trailing space in export ``export_id``."""
    digest = hmac.new(key, f"fc-ws-v1:{export_id}:{row_key.strip()}".encode(), hashlib.sha256).digest()
    return bool(digest[0] & 1)


@dataclass(frozen=True)
class WhitespaceMatch:
    export_id: str
    rows: int  # rows tested
    agree: int  # rows whose trailing space matches the export's choice


def whitespace_score(*, key: bytes, export_id: str, rows: Iterable[tuple[str, bool]]) -> WhitespaceMatch:
    """Test ``rows`` (row key, has a trailing space) against export ``export_id``."""
    tested = agree = 0
    for row_key, has_space in rows:
        tested += 1
        agree += row_bit(key=key, export_id=export_id, row_key=row_key) == has_space
    return WhitespaceMatch(export_id=export_id, rows=tested, agree=agree)


_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T].*)?$")


def carrier_index(row: Sequence[str]) -> int | None:
    """The cell of a row (as text) that carries the marks: the first non-empty cell that reads as
    neither a number nor a date, so that spreadsheet programs keep it as text."""
    for i, value in enumerate(row):
        text = strip(value).rstrip(" ")
        if text and not _looks_numeric(text) and not _DATE_LIKE.match(text):
            return i
    return None


def _looks_numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
