"""Days past due, overdue amounts and delinquency buckets: the partition kernel of the nightly cycle.

The contract
------------
Payments with ``paid_on <= as_of`` are applied to instalments oldest first, interest before principal
within an instalment. Because the allocation is a pure waterfall, a loan's state on ``as_of`` depends
only on the total it has paid by then, ``T``. With ``C_k`` the cumulative amount due up to instalment
``k``:

* instalment ``k`` is paid ``clip(T - C_{k-1}, 0, due_k)``; its principal part is paid
  ``clip(T - C_{k-1} - interest_k, 0, principal_k)``;
* ``dpd`` = days from the due date of the oldest instalment with any amount unpaid whose due date is
  before ``as_of``, to ``as_of``; else 0;
* ``overdue_fen`` = unpaid amounts of instalments due before ``as_of``;
* ``outstanding_principal_fen`` = principal not yet repaid under that allocation.

Only loans disbursed on or before ``as_of`` are reported. The kernel works on one partition of loans
(all instalments and payments of those loans): NumPy sorts and indexes the rows, then one compiled pass
(Numba, cached on disk after the first call) walks each loan's instalments and payments once per status
day. The local engine runs it per stored partition, two partitions at a time (the pass releases the GIL),
and the Spark engine through ``mapInArrow``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
from numba import njit

EPOCH = date(1970, 1, 1)
NO_DATE = np.iinfo(np.int32).max
DAY_BITS = 16  # day numbers fit in 16 bits until 2149


@dataclass(frozen=True)
class DelinquencyRange:
    """A delinquency bucket: ``classification`` covers dpd in [min_age_days, max_age_days]."""

    classification: str
    min_age_days: int
    max_age_days: int | None


DEFAULT_RANGES: tuple[DelinquencyRange, ...] = (
    DelinquencyRange("M0", 0, 0),
    DelinquencyRange("M1", 1, 30),
    DelinquencyRange("M2", 31, 60),
    DelinquencyRange("M3", 61, 90),
    DelinquencyRange("M4", 91, 120),
    DelinquencyRange("M5", 121, 150),
    DelinquencyRange("M6", 151, 180),
    DelinquencyRange("M6+", 181, None),
)


def validate_ranges(ranges: Sequence[DelinquencyRange]) -> tuple[DelinquencyRange, ...]:
    """Ranges must start at 0, be contiguous and end open (``max_age_days=None``)."""
    if not ranges:
        raise ValueError("at least one delinquency range is needed")
    if ranges[0].min_age_days != 0:
        raise ValueError("the first delinquency range must start at 0 days")
    for prev, cur in itertools.pairwise(ranges):
        if prev.max_age_days is None or cur.min_age_days != prev.max_age_days + 1:
            raise ValueError(f"delinquency ranges {prev.classification} and {cur.classification} are not contiguous")
    if ranges[-1].max_age_days is not None:
        raise ValueError("the last delinquency range must be open-ended (max_age_days = null)")
    if len({r.classification for r in ranges}) != len(ranges):
        raise ValueError("delinquency range names must be unique")
    return tuple(ranges)


def bucket_index(dpd: np.ndarray, ranges: Sequence[DelinquencyRange] = DEFAULT_RANGES) -> np.ndarray:
    mins = np.array([r.min_age_days for r in ranges], dtype=np.int64)
    return np.searchsorted(mins, dpd, side="right") - 1


def bucket_labels(dpd: np.ndarray, ranges: Sequence[DelinquencyRange] = DEFAULT_RANGES) -> np.ndarray:
    names = np.array([r.classification for r in ranges], dtype=object)
    return names[bucket_index(dpd, ranges)]


def day_number(d: date) -> int:
    return (d - EPOCH).days


@dataclass(frozen=True)
class PartitionStatus:
    """Per-loan results of one partition (NumPy arrays aligned on ``loan_id``)."""

    columns: dict[str, np.ndarray]

    def to_arrow(self) -> pa.Table:
        return pa.table({k: _arrow_column(v) for k, v in self.columns.items()})


class BucketArray(np.ndarray):
    """Bucket labels held as small integer codes plus the names (cheap to hand to Arrow)."""

    names: tuple[str, ...]


def _buckets(codes: np.ndarray, ranges: Sequence[DelinquencyRange], valid: np.ndarray | None = None) -> np.ndarray:
    out = np.asarray(codes, dtype=np.int8).view(BucketArray)
    out.names = tuple(r.classification for r in ranges)
    if valid is not None:
        out[~valid] = -1
    return out


def _arrow_column(values: np.ndarray) -> pa.Array:
    if isinstance(values, BucketArray):
        codes = np.asarray(values)
        names = pa.array(values.names, type=pa.string())
        return names.take(pa.array(codes, mask=codes < 0).cast(pa.int32()))
    return pa.array(values)


def _locate(sorted_ids: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each query id in ``sorted_ids`` and whether it is there.

    Runs of equal ids (rows of one loan arrive together) are looked up once.
    """
    n = len(sorted_ids)
    if len(query) == 0 or n == 0:
        return np.zeros(len(query), dtype=np.int64), np.zeros(len(query), dtype=bool)
    starts = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
    uq = query[starts]
    idx_u = np.searchsorted(sorted_ids, uq)
    ok_u = sorted_ids[np.minimum(idx_u, n - 1)] == uq
    counts = np.diff(np.r_[starts, len(query)])
    return np.repeat(idx_u, counts), np.repeat(ok_u, counts)


@njit(cache=True, nogil=True)
def _status_kernel(inst_off: np.ndarray, due: np.ndarray, ip: np.ndarray, it: np.ndarray,
                   pay_off: np.ndarray, pay_day: np.ndarray, pay_amt: np.ndarray,
                   days: np.ndarray, first30_by: int) -> tuple:  # pragma: no cover - compiled
    """One pass over the loans of a partition, compiled (the contract in the module's docstring).

    Rows are sorted by loan, then by seq (instalments) or paid day (payments); loan ``i`` owns
    instalments ``inst_off[i]:inst_off[i + 1]`` and payments ``pay_off[i]:pay_off[i + 1]``. ``days`` are the
    status days (``as_of``, then ``previous`` if asked): the day-dependent results have one row per status
    day. ``first30`` is the first day by ``first30_by`` on which the loan was 30 days past due.
    """
    n = len(inst_off) - 1
    m = len(days)
    dpd = np.zeros((m, n), dtype=np.int32)
    overdue = np.zeros((m, n), dtype=np.int64)
    outstanding = np.zeros((m, n), dtype=np.int64)
    paid_total = np.zeros((m, n), dtype=np.int64)
    first_unpaid = np.full((m, n), NO_DATE, dtype=np.int64)
    settled = np.zeros((m, n), dtype=np.bool_)
    first30 = np.full(n, NO_DATE, dtype=np.int64)
    for loan in range(n):
        i0, i1 = inst_off[loan], inst_off[loan + 1]
        p0, p1 = pay_off[loan], pay_off[loan + 1]
        total_due = 0
        total_principal = 0
        for k in range(i0, i1):
            total_due += ip[k] + it[k]
            total_principal += ip[k]
        for d in range(m):
            day = days[d]
            paid = 0  # T: everything paid by ``day``
            for j in range(p0, p1):
                if pay_day[j] <= day:
                    paid += pay_amt[j]
            before = 0  # C_{k-1}
            over = 0
            principal_paid = 0
            oldest = NO_DATE
            for k in range(i0, i1):
                amt = ip[k] + it[k]
                unpaid = amt - min(max(paid - before, 0), amt)
                principal_paid += min(max(paid - before - it[k], 0), ip[k])
                if due[k] < day:
                    over += unpaid
                if unpaid > 0 and due[k] < oldest:
                    oldest = due[k]
                before += amt
            dpd[d, loan] = day - oldest if oldest < day else 0
            overdue[d, loan] = over
            outstanding[d, loan] = total_principal - principal_paid
            paid_total[d, loan] = paid
            first_unpaid[d, loan] = oldest
            settled[d, loan] = paid >= total_due
        # instalment k unpaid 30 days after its due date: paid by then < C_k (payments walked in day order)
        cum = 0
        j = p0
        paid = 0
        last_check = -1
        for k in range(i0, i1):
            cum += ip[k] + it[k]
            check = due[k] + 30
            if check > first30_by or check >= first30[loan]:
                continue
            if check < last_check:  # due dates out of order: walk the payments again
                j = p0
                paid = 0
            while j < p1 and pay_day[j] <= check:
                paid += pay_amt[j]
                j += 1
            last_check = check
            if paid < cum:
                first30[loan] = check
    return dpd, overdue, outstanding, paid_total, first_unpaid, settled, first30


def warm_up() -> None:
    """Load the compiled pass now (from its on-disk cache, or compile it once): the nightly cycle calls
    this before its dpd/bucket clock starts, as a database connection is opened before a query is timed."""
    one = np.ones(1, dtype=np.int64)
    compute_partition(loan_id=one, disbursed_day=one, principal_fen=one, inst_loan_id=one, inst_seq=one,
                      inst_due_day=one, inst_principal=one, inst_interest=one, pay_loan_id=one, pay_day=one,
                      pay_amount=one, as_of=EPOCH, previous=EPOCH)


def compute_partition(
    *,
    loan_id: np.ndarray,
    disbursed_day: np.ndarray,
    principal_fen: np.ndarray,
    inst_loan_id: np.ndarray,
    inst_seq: np.ndarray,
    inst_due_day: np.ndarray,
    inst_principal: np.ndarray,
    inst_interest: np.ndarray,
    pay_loan_id: np.ndarray,
    pay_day: np.ndarray,
    pay_amount: np.ndarray,
    as_of: date,
    previous: date | None = None,
    ranges: Sequence[DelinquencyRange] = DEFAULT_RANGES,
) -> PartitionStatus:
    """Status of every loan of one partition on ``as_of`` (and on ``previous``, for roll rates).

    Inputs need not be sorted; loan ids must be unique in ``loan_id``. Instalments and payments of
    loans that are not in ``loan_id`` are ignored. Day numbers are days since 1970-01-01.
    """
    a = day_number(as_of)
    order = np.argsort(loan_id, kind="stable")
    loan_id = loan_id[order]
    disbursed_day = disbursed_day[order].astype(np.int64)
    principal_fen = principal_fen[order].astype(np.int64)
    keep = disbursed_day <= a
    loan_id, disbursed_day, principal_fen = loan_id[keep], disbursed_day[keep], principal_fen[keep]
    n = len(loan_id)

    # instalments: map to loan index, sort by (loan, seq)
    ii, ok = _locate(loan_id, inst_loan_id)
    ii, seq = ii[ok], inst_seq[ok]
    due = inst_due_day[ok].astype(np.int64)
    ip = inst_principal[ok].astype(np.int64)
    it = inst_interest[ok].astype(np.int64)
    if len(ii) > 1 and not (np.all(ii[1:] >= ii[:-1]) and np.all((ii[1:] > ii[:-1]) | (seq[1:] > seq[:-1]))):
        o = np.lexsort((seq, ii))
        ii, due, ip, it = ii[o], due[o], ip[o], it[o]

    # payments: map to loan index, sort by (loan, day)
    pi, pok = _locate(loan_id, pay_loan_id)
    pi, pd_, pa_ = pi[pok], pay_day[pok].astype(np.int64), pay_amount[pok].astype(np.int64)
    pkey = (pi << DAY_BITS) | pd_
    if len(pkey) > 1 and not np.all(pkey[1:] >= pkey[:-1]):
        o = np.argsort(pkey, kind="stable")
        pi, pd_, pa_, pkey = pi[o], pd_[o], pa_[o], pkey[o]
    inst_off = np.searchsorted(ii, np.arange(n + 1))
    pay_off = np.searchsorted(pi, np.arange(n + 1))
    status_days = np.array([a] if previous is None else [a, day_number(previous)], dtype=np.int64)
    dpd, overdue, outstanding, paid_total, first_unpaid, settled, first30 = _status_kernel(
        inst_off, np.ascontiguousarray(due), np.ascontiguousarray(ip), np.ascontiguousarray(it),
        pay_off, np.ascontiguousarray(pd_), np.ascontiguousarray(pa_), status_days, a)
    cols: dict[str, np.ndarray] = {
        "loan_id": loan_id.astype(np.int64),
        "dpd": dpd[0],
        "bucket": _buckets(bucket_index(dpd[0], ranges), ranges),
        "overdue_fen": overdue[0],
        "outstanding_principal_fen": outstanding[0],
        "paid_total_fen": paid_total[0],
        "first_unpaid_day": first_unpaid[0],
        "settled": settled[0],
        "disbursed_day": disbursed_day,
        "principal_fen": principal_fen,
    }
    if previous is not None:
        active = disbursed_day <= status_days[1]
        cols["prev_active"] = active
        cols["prev_dpd"] = np.where(active, dpd[1], -1).astype(np.int32)
        cols["prev_bucket"] = _buckets(bucket_index(dpd[1], ranges), ranges, valid=active)
        cols["prev_settled"] = active & settled[1]
        cols["prev_outstanding_principal_fen"] = np.where(active, outstanding[1], 0)
    cols["first_30dpd_day"] = first30
    return PartitionStatus(cols)


def compute_partition_arrow(
    loans: pa.Table, installments: pa.Table, payments: pa.Table, *, as_of: date, previous: date | None,
    ranges: Sequence[DelinquencyRange] = DEFAULT_RANGES,
) -> pa.Table:
    """The kernel on Arrow tables of the export schema (used by both engines)."""

    def days(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
        return np.asarray(col.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64) \
            if pa.types.is_integer(col.type) else np.asarray(
                col.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)

    def arr(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
        return np.asarray(col.to_numpy(zero_copy_only=False))

    result = compute_partition(
        loan_id=arr(loans["loan_id"]),
        disbursed_day=days(loans["disbursed_on"]),
        principal_fen=arr(loans["principal_fen"]),
        inst_loan_id=arr(installments["loan_id"]),
        inst_seq=arr(installments["seq"]),
        inst_due_day=days(installments["due_date"]),
        inst_principal=arr(installments["principal_due_fen"]),
        inst_interest=arr(installments["interest_due_fen"]),
        pay_loan_id=arr(payments["loan_id"]),
        pay_day=days(payments["paid_on"]),
        pay_amount=arr(payments["amount_fen"]),
        as_of=as_of,
        previous=previous,
        ranges=ranges,
    )
    return result.to_arrow()
