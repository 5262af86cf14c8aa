"""Behavioural features of loans as of a date, and the early-warning label. Pure Polars/NumPy.

Everything here follows the waterfall contract of :mod:`fieldcollect.analytics.delinquency`:
payments are applied to instalments oldest first, so instalment ``k`` is *fully paid* on the day
the loan's cumulative payments first reach ``C_k`` (the cumulative amount due up to ``k``).

Features as of ``T`` (:func:`loan_features`) use only payments with ``paid_on <= T``, the contract
(principal, rate, term, method, product) and the schedule (due dates and amounts are known at
disbursement). With ``days_late_k`` = days from instalment ``k``'s due date to its full payment
(0 when paid on time or early), or ``T - due`` when it is still unpaid, over the instalments due by
``T``:

===========================  =================================================================
``tenure_days``              days since disbursement
``term_months``              contractual term
``term_elapsed_share``       instalments due by ``T`` / all instalments (utilisation of the term)
``principal_cny``            amount lent, CNY
``annual_rate``              contractual annual rate
``balance_share``            outstanding principal / principal
``instalments_due``          instalments due by ``T``
``late_count``               instalments paid (or still unpaid) after their due date
``late_share``               ``late_count`` / ``instalments_due``
``late_over_7``              instalments more than 7 days late
``late_over_30``             instalments more than 30 days late
``max_days_late``            largest ``days_late_k``
``mean_days_late``           mean ``days_late_k``
``late_last3``               late instalments among the last three due
``mean_days_late_last3``     mean ``days_late_k`` of the last three due
``late_trend``               ``mean_days_late_last3`` minus the mean of the earlier instalments
``days_since_late``          days since the due date of the most recent late instalment (since
                             disbursement when never late: a low value means recent lateness)
``payments``                 payments received
``partial_payments``         payments smaller than 95 % of the loan's regular (mean) instalment
``partial_share``            ``partial_payments`` / ``payments``
``days_since_payment``       days since the last payment (since disbursement when nothing was paid yet)
``paid_ahead``               (paid − due by ``T``) / regular instalment: instalments paid in advance
``product``, ``method``      product and repayment method (categories)
===========================  =================================================================

Besides the features, the frame carries ``dpd``, ``settled``, ``outstanding_principal_fen``,
``next_due_on`` and ``next_due_fen`` (the first instalment not fully paid and what is left of it).

The label (:func:`label_30dpd`) of a loan current at ``T0`` is 1 when it reaches 30 days past due in
``(T0, T1]``: some instalment ``k`` with ``T0 < due_k + 30 <= T1`` is not fully paid by
``due_k + 30`` (payments up to ``T1`` seen). For a loan with dpd 0 at ``T0`` this is exactly "dpd ≥ 30
on some day of the window" (instalments due earlier were paid by ``T0``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl
from numba import njit

from fieldcollect.analytics.dates import add_months
from fieldcollect.analytics.delinquency import EPOCH

CATEGORICAL_FEATURES = ("product", "method")
NUMERIC_FEATURES = (
    "tenure_days",
    "term_months",
    "term_elapsed_share",
    "principal_cny",
    "annual_rate",
    "balance_share",
    "instalments_due",
    "late_count",
    "late_share",
    "late_over_7",
    "late_over_30",
    "max_days_late",
    "mean_days_late",
    "late_last3",
    "mean_days_late_last3",
    "late_trend",
    "days_since_late",
    "payments",
    "partial_payments",
    "partial_share",
    "days_since_payment",
    "paid_ahead",
)
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
# bump when a feature's definition changes: models trained on another version are retrained
FEATURE_VERSION = 2

# (zh-Hans, English) labels used in reason phrases
FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "tenure_days": ("账龄（天）", "time on book (days)"),
    "term_months": ("贷款期限（月）", "loan term (months)"),
    "term_elapsed_share": ("已到期期数占比", "share of the term elapsed"),
    "principal_cny": ("贷款金额", "amount lent"),
    "annual_rate": ("年利率", "annual rate"),
    "balance_share": ("剩余本金占比", "share of principal outstanding"),
    "instalments_due": ("已到期期数", "instalments due so far"),
    "late_count": ("逾期还款期数", "number of late instalments"),
    "late_share": ("逾期还款期数占比", "share of instalments paid late"),
    "late_over_7": ("逾期超过7天的期数", "instalments more than 7 days late"),
    "late_over_30": ("逾期超过30天的期数", "instalments more than 30 days late"),
    "max_days_late": ("最长逾期天数", "longest delay (days)"),
    "mean_days_late": ("平均逾期天数", "average delay (days)"),
    "late_last3": ("最近三期逾期期数", "late instalments among the last three"),
    "mean_days_late_last3": ("最近三期平均逾期天数", "average delay of the last three instalments"),
    "late_trend": ("近期逾期趋势", "recent lateness trend"),
    "days_since_late": ("距上次逾期（或放款）天数", "days since the last late instalment (or disbursement)"),
    "payments": ("还款笔数", "number of payments"),
    "partial_payments": ("部分还款笔数", "number of partial payments"),
    "partial_share": ("部分还款占比", "share of partial payments"),
    "days_since_payment": ("距上次还款（或放款）天数", "days since the last payment (or disbursement)"),
    "paid_ahead": ("提前还款期数", "instalments paid in advance"),
    "product": ("产品", "product"),
    "method": ("还款方式", "repayment method"),
}

STATUS_COLUMNS = ("dpd", "settled", "outstanding_principal_fen", "next_due_on", "next_due_fen")
LOAN_COLUMNS = ("loan_id", "product", "principal_fen", "annual_rate", "term_months", "method", "disbursed_on")
INSTALMENT_COLUMNS = ("loan_id", "seq", "due_date", "principal_due_fen", "interest_due_fen")
PAYMENT_COLUMNS = ("loan_id", "paid_on", "amount_fen")
NEVER = np.iinfo(np.int32).max
PARTIAL_SHARE = 0.95


def day_number(d: date) -> int:
    return (d - EPOCH).days


def _as_frame(frame: pl.DataFrame | pl.LazyFrame, columns: Sequence[str]) -> pl.DataFrame:
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    return lazy.select(columns).collect()


@dataclass
class _Book:
    """Instalments and payments of ``n`` loans, sorted by loan (then seq / paid day), as NumPy arrays.

    Loan ``i`` owns instalment rows ``inst_off[i]:inst_off[i + 1]`` and payment rows
    ``pay_off[i]:pay_off[i + 1]`` of the arrays; rows of other loans may sit between them and are never read.
    """

    n: int
    inst_off: np.ndarray
    due: np.ndarray  # due day number
    ip: np.ndarray  # principal due
    it: np.ndarray  # interest due
    pay_off: np.ndarray
    pday: np.ndarray
    pamt: np.ndarray


def _days(col: pl.Series) -> np.ndarray:
    return col.cast(pl.Date).cast(pl.Int32).to_numpy().astype(np.int64)


def _owned_rows(sorted_loan: np.ndarray, loan_ids: np.ndarray) -> np.ndarray:
    """Where the rows of each of ``loan_ids`` start and end in rows sorted by loan (shape ``(2, n)``)."""
    return np.stack([np.searchsorted(sorted_loan, loan_ids, side="left"),
                     np.searchsorted(sorted_loan, loan_ids, side="right")])


def _book(loan_ids: np.ndarray, installments: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame,
          up_to: int) -> _Book:
    """The rows of the loans ``loan_ids`` (sorted, unique); payments after day ``up_to`` are never read.

    The store keeps rows sorted by loan (then seq / payment day): they are used in place, other loans'
    rows skipped by offset. Other input is sorted here.
    """
    inst = _as_frame(installments, INSTALMENT_COLUMNS)
    inst_loan = inst["loan_id"].to_numpy()
    seq = inst["seq"].to_numpy()
    if len(inst_loan) > 1 and not (np.all(inst_loan[1:] >= inst_loan[:-1])
                                   and np.all((inst_loan[1:] > inst_loan[:-1]) | (seq[1:] > seq[:-1]))):
        inst = inst.sort("loan_id", "seq")
        inst_loan = inst["loan_id"].to_numpy()
    pays = _as_frame(payments, PAYMENT_COLUMNS)
    pay_loan = pays["loan_id"].to_numpy()
    pday = _days(pays["paid_on"])
    if len(pay_loan) > 1 and not (np.all(pay_loan[1:] >= pay_loan[:-1])
                                  and np.all((pay_loan[1:] > pay_loan[:-1]) | (pday[1:] >= pday[:-1]))):
        pays = pays.sort("loan_id", "paid_on", maintain_order=True)
        pay_loan, pday = pays["loan_id"].to_numpy(), _days(pays["paid_on"])
    return _Book(
        n=len(loan_ids), inst_off=_owned_rows(inst_loan, loan_ids), due=_days(inst["due_date"]),
        ip=inst["principal_due_fen"].to_numpy().astype(np.int64, copy=False),
        it=inst["interest_due_fen"].to_numpy().astype(np.int64, copy=False),
        pay_off=_owned_rows(pay_loan, loan_ids), pday=pday,
        pamt=pays["amount_fen"].to_numpy().astype(np.int64, copy=False))


@njit(cache=True, nogil=True, inline="always")
def _paid_days(i0: int, i1: int, ip: np.ndarray, it: np.ndarray, p0: int, p1: int, pday: np.ndarray,
               pamt: np.ndarray, up_to: int, out: np.ndarray) -> int:  # pragma: no cover - compiled
    """Fill ``out[k - i0]`` with the day instalment ``k`` was fully paid (:data:`NEVER`: not by ``up_to``):
    the day of the first payment that brings the loan's total to ``C_k``. Returns the total paid by ``up_to``
    (payments of 0 fen or less are not payments)."""
    j = p0
    paid = 0  # paid by payment j - 1
    cum = 0
    for k in range(i0, i1):
        cum += ip[k] + it[k]
        day = NEVER
        while j < p1 and pday[j] <= up_to:
            if pamt[j] > 0 and paid + pamt[j] >= cum:
                day = pday[j]
                break
            if pamt[j] > 0:
                paid += pamt[j]
            j += 1
        out[k - i0] = day  # payment j stays unconsumed: a later instalment it also completes gets its day
    total = 0
    for j in range(p0, p1):
        if pday[j] <= up_to and pamt[j] > 0:
            total += pamt[j]
    return total


# the per-loan sums behind the features: the columns of the matrix the compiled pass returns, in order
SUM_NAMES = ("n_inst", "n_due", "late", "late7", "late30", "max_late", "sum_late", "sum_recent", "n_recent",
             "sum_before", "n_before", "last_late_due", "n_pay", "partial", "last_pay", "paid", "total", "due_amount",
             "outstanding", "first_unpaid_due", "first_unpaid_cum", "late_recent")
(_N_INST, _N_DUE, _LATE, _LATE7, _LATE30, _MAX_LATE, _SUM_LATE, _SUM_RECENT, _N_RECENT, _SUM_BEFORE, _N_BEFORE,
 _LAST_LATE_DUE, _N_PAY, _PARTIAL, _LAST_PAY, _PAID, _TOTAL, _DUE_AMOUNT, _OUTSTANDING, _FIRST_UNPAID_DUE,
 _FIRST_UNPAID_CUM, _LATE_RECENT) = range(22)


@njit(cache=True, nogil=True)
def _feature_pass(inst_off: np.ndarray, due: np.ndarray, ip: np.ndarray, it: np.ndarray, pay_off: np.ndarray,
                  pday: np.ndarray, pamt: np.ndarray, t: int, partial_share: float) -> np.ndarray:  # pragma: no cover
    """Per-loan sums, counts and extremes behind the features on day ``t`` (one compiled pass per loan)."""
    n = inst_off.shape[1]
    out = np.full((n, 22), np.nan)
    longest = 0
    for i in range(n):
        longest = max(longest, inst_off[1, i] - inst_off[0, i])
    paid_day = np.empty(longest, dtype=np.int64)
    for i in range(n):
        i0, i1, p0, p1 = inst_off[0, i], inst_off[1, i], pay_off[0, i], pay_off[1, i]
        paid = _paid_days(i0, i1, ip, it, p0, p1, pday, pamt, t, paid_day)
        n_due = 0
        for k in range(i0, i1):
            if due[k] <= t:
                n_due += 1
        late = late7 = late30 = n_recent = n_before = late_recent = 0
        sum_late = sum_recent = sum_before = 0
        max_late = -1
        last_late_due = -1
        total = due_amount = principal = principal_paid = cum = 0
        first_unpaid_due = NEVER
        first_unpaid_cum = -1
        for k in range(i0, i1):
            amt = ip[k] + it[k]
            cum += amt
            total += amt
            principal += ip[k]
            principal_paid += min(max(paid - (cum - amt) - it[k], 0), ip[k])
            pd = paid_day[k - i0]
            if pd > t:  # not fully paid by t
                first_unpaid_due = min(first_unpaid_due, due[k])
                first_unpaid_cum = cum if first_unpaid_cum < 0 else min(first_unpaid_cum, cum)
            if due[k] > t:
                continue
            days_late = max(pd - due[k], 0) if pd <= t else t - due[k]
            due_amount += amt
            sum_late += days_late
            max_late = max(max_late, days_late)
            if days_late > 0:
                late += 1
                last_late_due = max(last_late_due, due[k])
            late7 += days_late > 7
            late30 += days_late > 30
            if k - i0 >= n_due - 3:
                sum_recent += days_late
                n_recent += 1
                late_recent += days_late > 0
            else:
                sum_before += days_late
                n_before += 1
        n_inst = i1 - i0
        regular = total / n_inst if n_inst > 0 else np.nan
        n_pay = partial = 0
        last_pay = -1
        for j in range(p0, p1):
            if pday[j] <= t and pamt[j] > 0:
                n_pay += 1
                last_pay = max(last_pay, pday[j])
                partial += pamt[j] < partial_share * regular
        row = out[i]
        row[_N_INST], row[_N_DUE], row[_LATE], row[_LATE7], row[_LATE30] = n_inst, n_due, late, late7, late30
        row[_SUM_LATE], row[_SUM_RECENT], row[_N_RECENT] = sum_late, sum_recent, n_recent
        row[_SUM_BEFORE], row[_N_BEFORE], row[_N_PAY], row[_PARTIAL] = sum_before, n_before, n_pay, partial
        row[_PAID], row[_TOTAL], row[_DUE_AMOUNT] = paid, total, due_amount
        row[_OUTSTANDING], row[_LATE_RECENT] = principal - principal_paid, late_recent
        if max_late >= 0:
            row[_MAX_LATE] = max_late
        if last_late_due >= 0:
            row[_LAST_LATE_DUE] = last_late_due
        if last_pay >= 0:
            row[_LAST_PAY] = last_pay
        if first_unpaid_cum >= 0:
            row[_FIRST_UNPAID_DUE], row[_FIRST_UNPAID_CUM] = first_unpaid_due, first_unpaid_cum
    return out


@njit(cache=True, nogil=True)
def _label_pass(inst_off: np.ndarray, due: np.ndarray, ip: np.ndarray, it: np.ndarray, pay_off: np.ndarray,
                pday: np.ndarray, pamt: np.ndarray, t0: int, t1: int) -> np.ndarray:  # pragma: no cover
    """1 for a loan with an instalment ``k`` where ``t0 < due_k + 30 <= t1`` not fully paid by ``due_k + 30``."""
    n = inst_off.shape[1]
    label = np.zeros(n, dtype=np.int8)
    longest = 0
    for i in range(n):
        longest = max(longest, inst_off[1, i] - inst_off[0, i])
    paid_day = np.empty(longest, dtype=np.int64)
    for i in range(n):
        i0, i1 = inst_off[0, i], inst_off[1, i]
        _paid_days(i0, i1, ip, it, pay_off[0, i], pay_off[1, i], pday, pamt, t1, paid_day)
        for k in range(i0, i1):
            check = due[k] + 30
            if t0 < check <= t1 and paid_day[k - i0] > check:
                label[i] = 1
                break
    return label


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def loan_features(loans: pl.DataFrame | pl.LazyFrame, installments: pl.DataFrame | pl.LazyFrame,
                  payments: pl.DataFrame | pl.LazyFrame, *, as_of: date) -> pl.DataFrame:
    """One row per loan disbursed before ``as_of``: ``loan_id``, :data:`FEATURES` and :data:`STATUS_COLUMNS`.

    Only payments with ``paid_on <= as_of`` are read.
    """
    t = day_number(as_of)
    lf = _loans_disbursed_before(loans, t)
    ids = lf["loan_id"].to_numpy().astype(np.int64)
    b = _book(ids, installments, payments, t)
    f = _feature_pass(b.inst_off, b.due, b.ip, b.it, b.pay_off, b.pday, b.pamt, t, PARTIAL_SHARE).T
    return _features_frame(t, lf, dict(zip(SUM_NAMES, f, strict=True)))


def _loans_disbursed_before(loans: pl.DataFrame | pl.LazyFrame, t: int) -> pl.DataFrame:
    """The loans a feature row is about on day ``t``: disbursed before it, one row each, by id."""
    return (_as_frame(loans, LOAN_COLUMNS)
            .filter(pl.col("disbursed_on").cast(pl.Date).cast(pl.Int32) < t)
            .unique("loan_id", keep="first").sort("loan_id"))


def _features_frame(t: int, lf: pl.DataFrame, s: dict[str, np.ndarray]) -> pl.DataFrame:
    """The features and status columns of the loans ``lf`` on day ``t`` from their per-loan sums ``s``
    (:data:`SUM_NAMES`, NaN where a loan has none): the definitions of the module's table."""
    disbursed = _days(lf["disbursed_on"]).astype(np.float64)
    principal = lf["principal_fen"].to_numpy().astype(np.float64)
    n_inst, n_due, late_count, paid_fen = s["n_inst"], s["n_due"], s["late"], s["paid"]
    regular = _ratio(s["total"], n_inst)  # the loan's typical instalment
    mean_last3 = _ratio(s["sum_recent"], s["n_recent"])
    first_unpaid_due = s["first_unpaid_due"]
    dpd = np.where(first_unpaid_due < t, t - np.nan_to_num(first_unpaid_due, nan=t), 0)
    cols: dict[str, np.ndarray] = {
        "tenure_days": t - disbursed,
        "term_months": lf["term_months"].to_numpy().astype(np.float64),
        "term_elapsed_share": _ratio(n_due, n_inst),
        "principal_cny": principal / 100.0,
        "annual_rate": lf["annual_rate"].to_numpy().astype(np.float64),
        "balance_share": _ratio(s["outstanding"], principal),
        "instalments_due": n_due,
        "late_count": late_count,
        "late_share": _ratio(late_count, n_due),
        "late_over_7": s["late7"],
        "late_over_30": s["late30"],
        "max_days_late": s["max_late"],
        "mean_days_late": _ratio(s["sum_late"], n_due),
        "late_last3": s["late_recent"],
        "mean_days_late_last3": mean_last3,
        "late_trend": mean_last3 - _ratio(s["sum_before"], s["n_before"]),
        "days_since_late": t - np.where(np.isnan(s["last_late_due"]), disbursed, s["last_late_due"]),
        "payments": s["n_pay"],
        "partial_payments": s["partial"],
        "partial_share": _ratio(s["partial"], s["n_pay"]),
        "days_since_payment": t - np.where(np.isnan(s["last_pay"]), disbursed, s["last_pay"]),
        "paid_ahead": _ratio(paid_fen - s["due_amount"], regular),
    }
    return pl.DataFrame({
        "loan_id": lf["loan_id"].to_numpy().astype(np.int64),
        **{c: pl.Series(c, cols[c], dtype=pl.Float64, nan_to_null=True) for c in NUMERIC_FEATURES},
        "product": lf["product"], "method": lf["method"],
        "dpd": pl.Series("dpd", dpd.astype(np.int32)),
        "settled": pl.Series("settled", (paid_fen >= s["total"]) & (n_inst > 0)),
        "outstanding_principal_fen": pl.Series("outstanding_principal_fen", s["outstanding"].astype(np.int64)),
        "next_due_on": pl.Series("next_due_on", first_unpaid_due, nan_to_null=True).cast(pl.Int32).cast(pl.Date),
        "next_due_fen": pl.Series("next_due_fen", s["first_unpaid_cum"] - paid_fen, nan_to_null=True).cast(pl.Int64),
    })

def label_30dpd(installments: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame, *,
                loan_ids: pl.Series | Sequence[int], start: date, end: date) -> pl.DataFrame:
    """``loan_id``, ``label``: 1 when the loan reaches 30 dpd on a day in ``(start, end]``.

    Meant for loans current (dpd 0) on ``start``; reads payments with ``paid_on <= end`` only.
    """
    ids = np.unique(np.asarray(loan_ids.to_numpy() if isinstance(loan_ids, pl.Series) else list(loan_ids),
                               dtype=np.int64))
    t0, t1 = day_number(start), day_number(end)
    b = _book(ids, installments, payments, t1)
    label = _label_pass(b.inst_off, b.due, b.ip, b.it, b.pay_off, b.pday, b.pamt, t0, t1)
    return pl.DataFrame({"loan_id": ids, "label": label})


def current_loans(features: pl.DataFrame) -> pl.DataFrame:
    """Loans an early warning is about: not settled, dpd 0, at least one instalment still to pay."""
    return features.filter(~pl.col("settled") & (pl.col("dpd") == 0) & pl.col("next_due_on").is_not_null())


# --------------------------------------------------------------------------------------- the store
class _Store(Protocol):
    """What the feature builders need of a store version (``fieldcollect.ingest.store.StoreVersion``)."""

    @property
    def partitions(self) -> int: ...

    def partition_file(self, table: str, part: int) -> Path: ...


def _partition_frames(version: _Store, part: int) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    return (pl.scan_parquet(version.partition_file("loans", part)),
            pl.scan_parquet(version.partition_file("installments", part)),
            pl.scan_parquet(version.partition_file("payments", part)))


def store_features(version: _Store, *, as_of: date, loan_filter: pl.Expr | None = None,
                   workers: int = 2) -> Iterator[pl.DataFrame]:
    """:func:`loan_features` of each stored partition (optionally only the loans ``loan_filter`` keeps),
    ``workers`` partitions at a time (NumPy and Polars release the GIL), in partition order."""
    from concurrent.futures import ThreadPoolExecutor

    def one(part: int) -> pl.DataFrame:
        loans, inst, pays = _partition_frames(version, part)
        if loan_filter is not None:
            loans = loans.filter(loan_filter)
        return loan_features(loans, inst, pays, as_of=as_of)

    if workers <= 1 or version.partitions == 1:
        for part in range(version.partitions):
            yield one(part)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(one, range(version.partitions))


def training_frame(version: _Store, *, as_of: date, snapshots: Iterable[date], horizon_months: int = 3,
                   sample_per_snapshot: int | None = None, seed: int = 0) -> pl.DataFrame:
    """Features at each snapshot ``T0`` of the loans current then, with ``label`` over ``(T0, T0 + horizon]``.

    Every window must end by ``as_of``. ``snapshot`` holds ``T0`` (for time-aware validation).
    With ``sample_per_snapshot`` at most that many current loans per snapshot are kept (random, seeded).
    """
    frames = []
    total = int(getattr(version, "counts", {}).get("loans", 0))
    # a large book is thinned before the features are built: a seeded hash keeps about four times
    # the sample in loans (of which the current ones are then sampled exactly)
    keep = min(1.0, 4 * sample_per_snapshot / total) if sample_per_snapshot and total else 1.0
    for i, t0 in enumerate(sorted(snapshots)):
        t1 = add_months(t0, horizon_months)
        if t1 > as_of:
            raise ValueError(f"the label window of snapshot {t0} ends after {as_of}")
        parts = []
        for part in range(version.partitions):
            loans, inst, pays = _partition_frames(version, part)
            if keep < 1.0:
                loans = loans.filter(pl.col("loan_id").hash(seed + i) % 1_000_000 < int(keep * 1_000_000))
            feats = current_loans(loan_features(loans, inst, pays, as_of=t0))
            if feats.height == 0:
                continue
            labels = label_30dpd(inst, pays, loan_ids=feats["loan_id"], start=t0, end=t1)
            parts.append(feats.join(labels, on="loan_id", how="left"))
        if not parts:
            continue
        snap = pl.concat(parts)
        if sample_per_snapshot is not None and snap.height > sample_per_snapshot:
            snap = snap.sample(n=sample_per_snapshot, seed=seed + i)
        frames.append(snap.with_columns(pl.lit(t0).alias("snapshot")))
    if not frames:
        raise ValueError("no current loans at any snapshot")
    return pl.concat(frames).sort("snapshot", "loan_id")


__all__ = ["CATEGORICAL_FEATURES", "FEATURES", "FEATURE_LABELS", "FEATURE_VERSION", "NUMERIC_FEATURES", "STATUS_COLUMNS",
           "current_loans", "label_30dpd", "loan_features", "store_features", "training_frame"]
