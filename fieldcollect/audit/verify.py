"""Check the audit log: recompute every chain (:func:`audit_verify`), list the chain heads to keep
elsewhere as anchors (:func:`audit_heads`) and compare entries with anchors recorded earlier
(:func:`anchors_check`). ``fieldcollect audit verify`` (``audit/cli.py``) runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fieldcollect.audit.chain import GENESIS, HASHED_FIELDS, Break, VerifyResult, verify_chain
from fieldcollect.audit.models import AuditChainHead, AuditEntry


def audit_verify(*, using: str = "default", chunk_size: int = 5000,
                 progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Check every chain against the stored hashes and its recorded head; ``progress`` is called with
    the number of entries read, every ``chunk_size`` entries. The result names the first break (its
    ``chain``); ``head_seq``/``head_hash`` are those of chain 1 (see :func:`audit_heads` for all)."""
    heads = {int(c): (int(s), str(h)) for c, s, h in
             AuditChainHead.objects.using(using).values_list("pk", "seq", "hash")}
    chains = sorted(set(heads) | set(AuditEntry.objects.using(using).values_list("chain", flat=True).distinct()))
    fields = ["id", "hash", "chain", *HASHED_FIELDS]
    read = 0
    total = 0
    chain1: VerifyResult | None = None
    for chain in chains or [1]:
        query = (AuditEntry.objects.using(using).filter(chain=chain).order_by("seq").values(*fields)
                 .iterator(chunk_size=chunk_size))

        def counted(it: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            nonlocal read
            for row in it:
                read += 1
                if progress is not None and read % chunk_size == 0:
                    progress(read)
                yield row

        def find_by_hash(value: str, chain: int = chain) -> int | None:
            return (AuditEntry.objects.using(using).filter(chain=chain, hash=value)
                    .values_list("seq", flat=True).first())

        result = verify_chain(counted(query), head=heads.get(chain), find_by_hash=find_by_hash)
        total += result.entries
        if chain == 1:
            chain1 = result
        if not result.ok:
            brk = result.first_break
            assert brk is not None
            if chain != 1:
                brk = Break(brk.kind, brk.seq, brk.entry_id, f"chain {chain}: {brk.detail}", chain=chain)
            head = heads.get(1, (0, GENESIS))
            return VerifyResult(False, total, head[0], head[1], brk)
    head = heads.get(1) or ((chain1.head_seq, chain1.head_hash) if chain1 is not None else (0, GENESIS))
    return VerifyResult(True, total, head[0], head[1], None)


def audit_heads(*, using: str = "default") -> list[tuple[int, int, str]]:
    """``(chain, seq, hash)`` of every chain head: what to keep elsewhere as anchors."""
    return [(int(c), int(s), str(h)) for c, s, h in
            AuditChainHead.objects.using(using).order_by("pk").values_list("pk", "seq", "hash") if int(s) > 0]


def anchors_check(anchors: list[tuple[int, int, str]], *, using: str = "default") -> Break | None:
    """Compare entries with ``(chain, seq, hash)`` recorded earlier outside the database: a chain that
    verifies but was recomputed from some point on differs there. The first mismatch, else ``None``."""
    for chain, seq, digest in sorted(anchors):
        where = f"entry seq {seq}" + (f" of chain {chain}" if chain != 1 else "")
        row = AuditEntry.objects.using(using).filter(chain=chain, seq=seq).values_list("id", "hash").first()
        if row is None:
            return Break("deleted", seq, None, f"anchored {where} is missing", chain=chain)
        if row[1] != digest:
            return Break("modified", seq, row[0], f"{where} differs from the anchor recorded earlier "
                                                  "(the chain was recomputed from here or before)", chain=chain)
    return None
