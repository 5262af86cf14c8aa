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

from fieldcollect.analytics.dates import add_months
from fieldcollect.analytics.delinquency import EPOCH, _locate

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
_CUM_BITS = 36  # cumulative amounts per loan below 2**36 fen (687 million CNY)
PARTIAL_SHARE = 0.95


def day_number(d: date) -> int:
    return (d - EPOCH).days


def _as_frame(frame: pl.DataFrame | pl.LazyFrame, columns: Sequence[str]) -> pl.DataFrame:
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    return lazy.select(columns).collect()


@dataclass
class _Book:
    """Instalments and payments of ``n`` loans as NumPy arrays sorted by (loan index, seq / day)."""

    n: int
    ii: np.ndarray  # loan index of each instalment
    due: np.ndarray  # due day number
    amt: np.ndarray  # principal + interest due
    ip: np.ndarray  # principal due
    it: np.ndarray  # interest due
    cum: np.ndarray  # cumulative amount due of the loan up to this instalment (C_k)
    k: np.ndarray  # position of the instalment in its loan (0-based)
    pi: np.ndarray  # loan index of each payment
    pday: np.ndarray
    pamt: np.ndarray
    paid_day: np.ndarray  # day the instalment was fully paid (NEVER: not by the cut-off)


def _days(col: pl.Series) -> np.ndarray:
    return col.cast(pl.Date).cast(pl.Int32).to_numpy().astype(np.int64)


def _book(loan_ids: np.ndarray, installments: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame,
          up_to: int) -> _Book:
    """Arrays of the loans ``loan_ids`` (sorted, unique); payments after day ``up_to`` are dropped.

    Rows of other loans are ignored. The store keeps rows sorted by loan (then seq / payment day);
    other input is sorted here.
    """
    n = len(loan_ids)
    inst = _as_frame(installments, INSTALMENT_COLUMNS)
    inst_loan = inst["loan_id"].to_numpy()
    seq = inst["seq"].to_numpy()
    if len(inst_loan) > 1 and not (np.all(inst_loan[1:] >= inst_loan[:-1])
                                   and np.all((inst_loan[1:] > inst_loan[:-1]) | (seq[1:] > seq[:-1]))):
        inst = inst.sort("loan_id", "seq")
        inst_loan = inst["loan_id"].to_numpy()
    ii, ok = _locate(loan_ids, inst_loan)
    due = _days(inst["due_date"])
    ip = inst["principal_due_fen"].to_numpy().astype(np.int64)
    it = inst["interest_due_fen"].to_numpy().astype(np.int64)
    if not ok.all():
        ii, due, ip, it = ii[ok], due[ok], ip[ok], it[ok]
    amt = ip + it

    pays = _as_frame(payments, PAYMENT_COLUMNS)
    pday = _days(pays["paid_on"])
    pamt = pays["amount_fen"].to_numpy().astype(np.int64)
    pay_loan = pays["loan_id"].to_numpy()
    keep = (pday <= up_to) & (pamt > 0)
    pi, pok = _locate(loan_ids, pay_loan)
    keep &= pok
    if not keep.all():
        pi, pday, pamt = pi[keep], pday[keep], pamt[keep]
    pkey_day = (pi.astype(np.int64) << 20) | (pday - pday.min(initial=0))
    if len(pkey_day) > 1 and not np.all(pkey_day[1:] >= pkey_day[:-1]):
        o = np.argsort(pkey_day, kind="stable")
        pi, pday, pamt = pi[o], pday[o], pamt[o]

    starts = np.searchsorted(ii, np.arange(n))
    cs = np.cumsum(amt)
    base = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0) if len(cs) else np.zeros(n, dtype=np.int64)
    cum = cs - base[ii] if len(cs) else cs
    k = np.arange(len(ii)) - starts[ii] if len(ii) else np.zeros(0, dtype=np.int64)
    pstarts = np.searchsorted(pi, np.arange(n))
    pcs = np.cumsum(pamt)
    pbase = np.where(pstarts > 0, pcs[np.maximum(pstarts - 1, 0)], 0) if len(pcs) else np.zeros(n, dtype=np.int64)
    pcum = pcs - pbase[pi] if len(pcs) else pcs
    paid_day = np.full(len(ii), NEVER, dtype=np.int64)
    if len(ii) and len(pi):
        if max(int(cum.max()), int(pcum.max())) >= 1 << _CUM_BITS:
            raise ValueError("cumulative amount of a loan too large for the feature kernel")
        ikey = (ii.astype(np.int64) << _CUM_BITS) | cum
        pkey = (pi.astype(np.int64) << _CUM_BITS) | pcum
        pos = np.searchsorted(pkey, ikey, side="left")  # first payment bringing the total to C_k
        safe = np.minimum(pos, len(pkey) - 1)
        found = (pos < len(pkey)) & (pi[safe] == ii)
        paid_day = np.where(found, pday[safe], NEVER)
    return _Book(n=n, ii=ii, due=due, amt=amt, ip=ip, it=it, cum=cum, k=k, pi=pi, pday=pday, pamt=pamt,
                 paid_day=paid_day)


def _count(idx: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(idx[mask], minlength=n).astype(np.float64)


def _sum(idx: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    if mask is not None:
        idx, values = idx[mask], values[mask]
    return np.bincount(idx, weights=values.astype(np.float64), minlength=n)


def _extreme(idx: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray, *, largest: bool) -> np.ndarray:
    """Max (or min) of ``values[mask]`` per loan; NaN where none."""
    out = np.full(n, -np.inf if largest else np.inf)
    (np.maximum if largest else np.minimum).at(out, idx[mask], values[mask].astype(np.float64))
    out[np.isinf(out)] = np.nan
    return out


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def loan_features(loans: pl.DataFrame | pl.LazyFrame, installments: pl.DataFrame | pl.LazyFrame,
                  payments: pl.DataFrame | pl.LazyFrame, *, as_of: date) -> pl.DataFrame:
    """One row per loan disbursed before ``as_of``: ``loan_id``, :data:`FEATURES` and :data:`STATUS_COLUMNS`.

    Only payments with ``paid_on <= as_of`` are read.
    """
    t = day_number(as_of)
    lf = (_as_frame(loans, LOAN_COLUMNS)
          .filter(pl.col("disbursed_on").cast(pl.Date).cast(pl.Int32) < t)
          .unique("loan_id", keep="first").sort("loan_id"))
    ids = lf["loan_id"].to_numpy().astype(np.int64)
    b = _book(ids, installments, payments, t)
    n, ii, pi = b.n, b.ii, b.pi
    disbursed = _days(lf["disbursed_on"]).astype(np.float64)

    is_due = b.due <= t
    paid_by_t = b.paid_day <= t
    late_days = np.where(paid_by_t, np.maximum(b.paid_day - b.due, 0), t - b.due).astype(np.float64)
    late = is_due & (late_days > 0)
    n_inst = np.bincount(ii, minlength=n).astype(np.float64)
    n_due = _count(ii, is_due, n)
    recent = is_due & (b.k >= n_due[ii] - 3)
    before = is_due & ~recent
    unpaid = ~paid_by_t

    paid_fen = _sum(pi, b.pamt, n)
    n_pay = np.bincount(pi, minlength=n).astype(np.float64)
    last_pay = _extreme(pi, b.pday, n, np.ones(len(pi), dtype=bool), largest=True)
    total_fen = _sum(ii, b.amt, n)
    regular = _ratio(total_fen, n_inst)  # the loan's typical instalment
    partial = _count(pi, b.pamt < PARTIAL_SHARE * regular[pi], n) if len(pi) else np.zeros(n)
    principal_paid = np.clip(paid_fen[ii] - (b.cum - b.amt) - b.it, 0, b.ip)  # waterfall
    total_principal = _sum(ii, b.ip, n)
    outstanding = total_principal - _sum(ii, principal_paid, n)
    first_unpaid_due = _extreme(ii, b.due, n, unpaid, largest=False)
    first_unpaid_cum = _extreme(ii, b.cum, n, unpaid, largest=False)
    mean_last3 = _ratio(_sum(ii, late_days, n, recent), _count(ii, recent, n))
    mean_before = _ratio(_sum(ii, late_days, n, before), _count(ii, before, n))
    last_late_due = _extreme(ii, b.due, n, late, largest=True)
    late_count = _count(ii, late, n)
    principal = lf["principal_fen"].to_numpy().astype(np.float64)
    dpd = np.where(first_unpaid_due < t, t - np.nan_to_num(first_unpaid_due, nan=t), 0)

    cols: dict[str, np.ndarray] = {
        "tenure_days": t - disbursed,
        "term_months": lf["term_months"].to_numpy().astype(np.float64),
        "term_elapsed_share": _ratio(n_due, n_inst),
        "principal_cny": principal / 100.0,
        "annual_rate": lf["annual_rate"].to_numpy().astype(np.float64),
        "balance_share": _ratio(outstanding, principal),
        "instalments_due": n_due,
        "late_count": late_count,
        "late_share": _ratio(late_count, n_due),
        "late_over_7": _count(ii, is_due & (late_days > 7), n),
        "late_over_30": _count(ii, is_due & (late_days > 30), n),
        "max_days_late": _extreme(ii, late_days, n, is_due, largest=True),
        "mean_days_late": _ratio(_sum(ii, late_days, n, is_due), n_due),
        "late_last3": _count(ii, recent & late, n),
        "mean_days_late_last3": mean_last3,
        "late_trend": mean_last3 - mean_before,
        "days_since_late": t - np.where(np.isnan(last_late_due), disbursed, last_late_due),
        "payments": n_pay,
        "partial_payments": partial,
        "partial_share": _ratio(partial, n_pay),
        "days_since_payment": t - np.where(np.isnan(last_pay), disbursed, last_pay),
        "paid_ahead": _ratio(paid_fen - _sum(ii, b.amt, n, is_due), regular),
    }
    return pl.DataFrame({
        "loan_id": ids,
        **{c: pl.Series(c, cols[c], dtype=pl.Float64, nan_to_null=True) for c in NUMERIC_FEATURES},
        "product": lf["product"], "method": lf["method"],
        "dpd": pl.Series("dpd", dpd.astype(np.int32)),
        "settled": pl.Series("settled", (paid_fen >= total_fen) & (n_inst > 0)),
        "outstanding_principal_fen": pl.Series("outstanding_principal_fen", outstanding.astype(np.int64)),
        "next_due_on": pl.Series("next_due_on", first_unpaid_due, nan_to_null=True).cast(pl.Int32).cast(pl.Date),
        "next_due_fen": pl.Series("next_due_fen", first_unpaid_cum - paid_fen, nan_to_null=True).cast(pl.Int64),
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
    check = b.due + 30
    bad = (check > t0) & (check <= t1) & (b.paid_day > check)
    label = np.bincount(b.ii[bad], minlength=b.n) > 0
    return pl.DataFrame({"loan_id": ids, "label": label.astype(np.int8)})


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
