"""Hash chain of the audit log (pure: no Django import).

Every entry stores ``seq`` (1, 2, 3, ... without gaps), ``prev_hash`` (the hash of entry ``seq - 1``,
or ``GENESIS`` for the first) and ``hash`` = SHA-256 over a canonical serialisation (sorted-key JSON,
no whitespace, UTF-8) of its fields together with ``prev_hash``. Changing, removing, adding or moving
an entry breaks the chain at that point; :func:`verify_chain` finds the first break and names its kind.

On PostgreSQL the log is kept as a few parallel chains (``chain`` 1..K, each with its own ``seq`` and
head) so that audited writes of concurrent transactions do not wait for each other's commit; each
chain is verified on its own. The chain number is hashed for chains other than 1, so entries of chain
1 keep the serialisation they were first written with.

The migration that back-fills the chain imports this module: the serialisation must never change for
existing entries (a new format would need a version field).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "old", "new",
                 "prev_hash")


def _normal(value: Any) -> Any:
    """JSON values as a database gives them back: integral floats as integers (PostgreSQL's jsonb
    returns 1e16 as 10000000000000000), tuples as lists, keys as strings."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    raise TypeError(f"audit values must be JSON values, got {type(value).__name__}")


def format_at(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes that are hashed: the entry's fields (see ``HASHED_FIELDS``) as sorted-key JSON."""
    doc = {
        "seq": int(fields["seq"]),
        "at": format_at(fields["at"]),
        "actor_id": fields["actor_id"],
        "actor_label": fields["actor_label"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "old": _normal(fields["old"]),
        "new": _normal(fields["new"]),
        "prev_hash": fields["prev_hash"],
    }
    chain = int(fields.get("chain") or 1)
    if chain != 1:
        doc["chain"] = chain
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    kind: str  # modified, deleted, inserted, reordered
    seq: int  # the entry named as broken (for a deletion: the first missing position)
    entry_id: int | None  # its row id, when the row exists
    detail: str
    chain: int = 1


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_break: Break | None


def verify_chain(
    rows: Iterable[dict[str, Any]],
    *,
    head: tuple[int, str] | None,
    find_by_hash: Callable[[str], int | None],
) -> VerifyResult:
    """Walk the entries in ``seq`` order and stop at the first break.

    ``rows`` are dicts with ``id``, ``hash`` and the ``HASHED_FIELDS``, ordered by ``seq``; ``head``
    is the recorded ``(seq, hash)`` of the last appended entry (``None`` if there is no record);
    ``find_by_hash`` returns the ``seq`` of the stored entry with that hash (used only to tell a
    reordering from a deletion once a break is found).
    """
    expected_seq = 1
    prev_hash = GENESIS
    prevprev_hash: str | None = None
    prev_id: int | None = None
    count = 0
    it: Iterator[dict[str, Any]] = iter(rows)
    row = next(it, None)
    while row is not None:
        nxt = next(it, None)
        seq = int(row["seq"])
        rid = row["id"]
        count += 1

        def broken(kind: str, detail: str, at_seq: int = seq, entry_id: int | None = rid,
                   n: int = count) -> VerifyResult:
            return VerifyResult(False, n, head[0] if head else 0, head[1] if head else "",
                                Break(kind, at_seq, entry_id, detail))

        if seq > expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
            return broken("deleted", f"entries {missing} are missing before entry seq {seq}", at_seq=expected_seq,
                          entry_id=None)
        if head is not None and seq > head[0]:
            return broken("inserted", f"entry seq {seq} lies beyond the recorded chain head (seq {head[0]})")
        if row["prev_hash"] != prev_hash:
            if prevprev_hash is not None and row["prev_hash"] == prevprev_hash:
                return broken("inserted", f"entry seq {seq} chains past its predecessor", at_seq=seq - 1,
                              entry_id=prev_id)
            other = find_by_hash(row["prev_hash"])
            if other is not None:
                return broken("reordered", f"prev_hash points to entry seq {other}, expected seq {seq - 1}")
            if nxt is not None and nxt["prev_hash"] == prev_hash:
                return broken("inserted", "the next entry chains to this entry's predecessor")
            if seq > 1 and entry_hash(row) == row["hash"]:
                return broken("modified", f"entry seq {seq} chained to a different version of entry seq {seq - 1}",
                              at_seq=seq - 1, entry_id=prev_id)
            return broken("deleted", "prev_hash points to an entry that no longer exists")
        if entry_hash(row) != row["hash"]:
            return broken("modified", "stored hash does not match the entry's content")
        if prev_id is not None and row["id"] < prev_id:
            return broken("reordered", "row ids are out of sequence order")
        prevprev_hash, prev_hash, prev_id = prev_hash, row["hash"], row["id"]
        expected_seq = seq + 1
        row = nxt

    last_seq = expected_seq - 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq > last_seq:
            missing = f"{last_seq + 1}" if head_seq == last_seq + 1 else f"{last_seq + 1}..{head_seq}"
            return VerifyResult(False, count, head_seq, head_hash,
                                Break("deleted", last_seq + 1, None, f"entries {missing} at the end are missing"))
        if head_hash != prev_hash:
            return VerifyResult(False, count, head_seq, head_hash,
                                Break("modified", last_seq, prev_id, "the last entry differs from the recorded head"))
    return VerifyResult(True, count, head[0] if head else last_seq, head[1] if head else prev_hash, None)
