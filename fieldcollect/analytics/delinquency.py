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


@njit(cache=True, nogil=True)
def _sorted_by(key: np.ndarray, then: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Whether rows are in (key, then) order: the store's partitions already are, so nothing is sorted."""
    for i in range(1, len(key)):
        if key[i] < key[i - 1] or (key[i] == key[i - 1] and then[i] < then[i - 1]):
            return False
    return True


def _int64(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)  # no copy when it already is


def _int32(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int32)  # day numbers (Arrow's date32) and seq as stored


def _rows_by_loan(loan_of_row: np.ndarray, then: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
    """The rows in (loan, ``then``) order, ``loan_of_row`` first: untouched when they already are."""
    arrays = [_int64(loan_of_row), *columns]
    if len(arrays[0]) > 1 and not _sorted_by(arrays[0], then):
        o = np.lexsort((then, arrays[0]))
        arrays = [a[o] for a in arrays]
    return arrays


@njit(cache=True, nogil=True)
def _ranges(loan_of_row: np.ndarray, loan_id: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """``start[i]:end[i]``, the rows of ``loan_id[i]`` (both sorted): one merge pass over the rows."""
    n = len(loan_id)
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    r = 0
    rows = len(loan_of_row)
    for i in range(n):
        while r < rows and loan_of_row[r] < loan_id[i]:
            r += 1
        start[i] = r
        while r < rows and loan_of_row[r] == loan_id[i]:
            r += 1
        end[i] = r
    return start, end


@njit(cache=True, nogil=True)
def _status_kernel(inst_start: np.ndarray, inst_end: np.ndarray, due: np.ndarray, ip: np.ndarray,
                   it: np.ndarray, pay_start: np.ndarray, pay_end: np.ndarray, pay_day: np.ndarray,
                   pay_amt: np.ndarray, days: np.ndarray, first30_by: int) -> tuple:  # pragma: no cover - compiled
    """One pass over the loans of a partition, compiled (the contract in the module's docstring).

    Rows are sorted by loan, then by seq (instalments) or paid day (payments); loan ``i`` owns
    instalments ``inst_start[i]:inst_end[i]`` and payments ``pay_start[i]:pay_end[i]`` (rows of loans not
    reported lie outside every range). ``days`` are the
    status days (``as_of``, then ``previous`` if asked): the day-dependent results have one row per status
    day. ``first30`` is the first day by ``first30_by`` on which the loan was 30 days past due.
    """
    n = len(inst_start)
    m = len(days)
    dpd = np.zeros((m, n), dtype=np.int32)
    overdue = np.zeros((m, n), dtype=np.int64)
    outstanding = np.zeros((m, n), dtype=np.int64)
    paid_total = np.zeros((m, n), dtype=np.int64)
    first_unpaid = np.full((m, n), NO_DATE, dtype=np.int64)
    settled = np.zeros((m, n), dtype=np.bool_)
    first30 = np.full(n, NO_DATE, dtype=np.int64)
    for loan in range(n):
        i0, i1 = inst_start[loan], inst_end[loan]
        p0, p1 = pay_start[loan], pay_end[loan]
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
        # instalment k unpaid 30 days after its due date: paid by then < C_k and it is not an instalment of
        # nothing (payments walked in day order)
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
            if paid < cum and ip[k] + it[k] > 0:  # an instalment of nothing is never unpaid
                first30[loan] = check
    return dpd, overdue, outstanding, paid_total, first_unpaid, settled, first30


def warm_up() -> None:
    """Load the compiled pass now (from its on-disk cache, or compile it once): the nightly cycle calls
    this before its dpd/bucket clock starts, as a database connection is opened before a query is timed."""
    two = np.arange(1, 3, dtype=np.int64)  # two rows, so that the order checks run too
    compute_partition(loan_id=two, disbursed_day=two, principal_fen=two, inst_loan_id=two, inst_seq=two,
                      inst_due_day=two, inst_principal=two, inst_interest=two, pay_loan_id=two, pay_day=two,
                      pay_amount=two, as_of=EPOCH, previous=EPOCH)


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
    loan_id = _int64(loan_id)
    disbursed_day = _int64(disbursed_day)  # an output column: int64 as before
    principal_fen = _int64(principal_fen)
    if len(loan_id) > 1 and not _sorted_by(loan_id, loan_id):
        order = np.argsort(loan_id, kind="stable")
        loan_id, disbursed_day, principal_fen = loan_id[order], disbursed_day[order], principal_fen[order]
    keep = disbursed_day <= a
    if not keep.all():
        loan_id, disbursed_day, principal_fen = loan_id[keep], disbursed_day[keep], principal_fen[keep]

    # each loan's rows: a range of the rows sorted by (loan, seq) and (loan, paid day); rows of loans that
    # are not reported fall outside every range
    inst_loan, due, ip, it = _rows_by_loan(inst_loan_id, _int32(inst_seq), _int32(inst_due_day),
                                           _int64(inst_principal), _int64(inst_interest))
    pay_day = _int32(pay_day)
    pay_loan, pd_, pa_ = _rows_by_loan(pay_loan_id, pay_day, pay_day, _int64(pay_amount))
    status_days = np.array([a] if previous is None else [a, day_number(previous)], dtype=np.int64)
    inst_start, inst_end = _ranges(inst_loan, loan_id)
    pay_start, pay_end = _ranges(pay_loan, loan_id)
    dpd, overdue, outstanding, paid_total, first_unpaid, settled, first30 = _status_kernel(
        inst_start, inst_end, due, ip, it, pay_start, pay_end, pd_, pa_, status_days, a)
    cols: dict[str, np.ndarray] = {
        "loan_id": loan_id,
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
        return np.asarray(col.cast(pa.int32()).to_numpy(zero_copy_only=False)) if pa.types.is_integer(col.type) \
            else np.asarray(col.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False))

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
