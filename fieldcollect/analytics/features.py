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
``days_since_late``          days since the due date of the most recent late instalment
``payments``                 payments received
``partial_payments``         payments smaller than 95 % of the loan's regular instalment
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
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl

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
    "days_since_late": ("距上次逾期天数", "days since the last late instalment"),
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


def _full_payment_days(inst: pl.DataFrame, pays: pl.DataFrame) -> np.ndarray:
    """Day (number) each instalment was fully paid, ``NEVER`` when not yet.

    ``inst`` sorted by (loan, seq) with ``cum`` (cumulative due per loan); ``pays`` sorted by
    (loan, day) with ``pcum`` (cumulative paid per loan).
    """
    il = inst["loan_id"].to_numpy().astype(np.int64)
    if len(il) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(pays) == 0:
        return np.full(len(il), NEVER, dtype=np.int64)
    pl_ = pays["loan_id"].to_numpy().astype(np.int64)
    cum = inst["cum"].to_numpy().astype(np.int64)
    pcum = pays["pcum"].to_numpy().astype(np.int64)
    if cum.max(initial=0) >= 1 << _CUM_BITS or pcum.max(initial=0) >= 1 << _CUM_BITS:
        raise ValueError("cumulative amount of a loan too large for the feature kernel")
    ikey = (il << _CUM_BITS) | cum
    pkey = (pl_ << _CUM_BITS) | pcum
    pos = np.searchsorted(pkey, ikey, side="left")
    inside = pos < len(pkey)
    safe = np.minimum(pos, len(pkey) - 1)
    found = inside & (pl_[safe] == il)
    pday = pays["day"].to_numpy().astype(np.int64)
    return np.where(found, pday[safe], NEVER)


def _prepare(installments: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame,
             loan_ids: pl.Series, up_to: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    inst = (_as_frame(installments, INSTALMENT_COLUMNS)
            .filter(pl.col("loan_id").is_in(loan_ids.implode()))
            .sort("loan_id", "seq")
            .with_columns(pl.col("due_date").cast(pl.Int32).cast(pl.Int64).alias("due"),
                          (pl.col("principal_due_fen") + pl.col("interest_due_fen")).alias("amt"))
            .with_columns(pl.col("amt").cum_sum().over("loan_id").alias("cum")))
    pays = (_as_frame(payments, PAYMENT_COLUMNS)
            .with_columns(pl.col("paid_on").cast(pl.Int32).cast(pl.Int64).alias("day"))
            .filter((pl.col("day") <= up_to) & (pl.col("amount_fen") > 0)
                    & pl.col("loan_id").is_in(loan_ids.implode()))
            .sort("loan_id", "day")
            .with_columns(pl.col("amount_fen").cum_sum().over("loan_id").alias("pcum")))
    return inst, pays


def loan_features(loans: pl.DataFrame | pl.LazyFrame, installments: pl.DataFrame | pl.LazyFrame,
                  payments: pl.DataFrame | pl.LazyFrame, *, as_of: date) -> pl.DataFrame:
    """One row per loan disbursed before ``as_of``: ``loan_id``, :data:`FEATURES` and :data:`STATUS_COLUMNS`.

    Only payments with ``paid_on <= as_of`` are read.
    """
    t = day_number(as_of)
    lf = (_as_frame(loans, LOAN_COLUMNS)
          .with_columns(pl.col("disbursed_on").cast(pl.Int32).cast(pl.Int64).alias("disbursed"))
          .filter(pl.col("disbursed") < t)
          .sort("loan_id"))
    inst, pays = _prepare(installments, payments, lf["loan_id"], t)
    inst = inst.with_columns(pl.Series("paid_day", _full_payment_days(inst, pays), dtype=pl.Int64))

    due_now = pl.col("due") <= t
    late_days = (pl.when(~due_now).then(None)
                 .when(pl.col("paid_day") <= t).then((pl.col("paid_day") - pl.col("due")).clip(lower_bound=0))
                 .otherwise(t - pl.col("due")))
    inst = inst.with_columns(late_days.alias("late_days"), due_now.alias("is_due"),
                             pl.int_range(pl.len()).over("loan_id").alias("k"),
                             (pl.col("due") <= t).sum().over("loan_id").alias("n_due"))
    inst = inst.with_columns((pl.col("is_due") & (pl.col("k") >= pl.col("n_due") - 3)).alias("recent"))
    late = pl.col("late_days") > 0
    unpaid = pl.col("paid_day") > t
    per_inst = inst.group_by("loan_id").agg(
        pl.len().alias("n_inst"),
        pl.col("is_due").sum().cast(pl.Int64).alias("instalments_due"),
        late.sum().cast(pl.Int64).alias("late_count"),
        (pl.col("late_days") > 7).sum().cast(pl.Int64).alias("late_over_7"),
        (pl.col("late_days") > 30).sum().cast(pl.Int64).alias("late_over_30"),
        pl.col("late_days").max().alias("max_days_late"),
        pl.col("late_days").mean().alias("mean_days_late"),
        (late & pl.col("recent")).sum().cast(pl.Int64).alias("late_last3"),
        pl.col("late_days").filter(pl.col("recent")).mean().alias("mean_days_late_last3"),
        pl.col("late_days").filter(pl.col("is_due") & ~pl.col("recent")).mean().alias("_mean_before"),
        pl.col("due").filter(late).max().alias("_last_late_due"),
        pl.col("due").filter(unpaid).min().alias("_first_unpaid_due"),
        pl.col("cum").filter(unpaid).min().alias("_first_unpaid_cum"),
        pl.col("amt").filter(pl.col("is_due")).sum().alias("_due_fen"),
        pl.col("amt").sum().alias("_total_fen"),
        pl.col("amt").median().alias("_regular_fen"),
        pl.col("principal_due_fen").sum().alias("_total_principal"),
    )
    paid_total = pays.group_by("loan_id").agg(pl.col("amount_fen").sum().alias("_paid_fen"),
                                               pl.len().cast(pl.Int64).alias("payments"),
                                               pl.col("day").max().alias("_last_pay"))
    # principal repaid under the waterfall: instalment k's principal part is paid
    # clip(T - C_{k-1} - interest_k, 0, principal_k)
    princ = (inst.select("loan_id", "cum", "amt", "interest_due_fen", "principal_due_fen")
             .join(paid_total.select("loan_id", "_paid_fen"), on="loan_id", how="left")
             .with_columns(pl.col("_paid_fen").fill_null(0))
             .with_columns((pl.col("_paid_fen") - (pl.col("cum") - pl.col("amt")) - pl.col("interest_due_fen"))
                           .clip(lower_bound=0).alias("_pp"))
             .with_columns(pl.min_horizontal("_pp", "principal_due_fen").alias("_pp"))
             .group_by("loan_id").agg(pl.col("_pp").sum().alias("_principal_paid")))
    regular = per_inst.select("loan_id", "_regular_fen")
    partial = (pays.join(regular, on="loan_id", how="left")
               .group_by("loan_id")
               .agg((pl.col("amount_fen") < PARTIAL_SHARE * pl.col("_regular_fen")).sum().cast(pl.Int64)
                    .alias("partial_payments")))
    out = (lf.join(per_inst, on="loan_id", how="left")
           .join(paid_total, on="loan_id", how="left")
           .join(partial, on="loan_id", how="left")
           .join(princ, on="loan_id", how="left")
           .with_columns(pl.col("_paid_fen").fill_null(0), pl.col("payments").fill_null(0),
                         pl.col("partial_payments").fill_null(0), pl.col("_principal_paid").fill_null(0),
                         pl.col("n_inst").fill_null(0), pl.col("instalments_due").fill_null(0)))
    first_unpaid = pl.col("_first_unpaid_due")
    out = out.with_columns(
        (t - pl.col("disbursed")).alias("tenure_days"),
        (pl.col("instalments_due") / pl.col("n_inst")).alias("term_elapsed_share"),
        (pl.col("principal_fen") / 100.0).alias("principal_cny"),
        ((pl.col("_total_principal") - pl.col("_principal_paid")) / pl.col("principal_fen"))
        .alias("balance_share"),
        (pl.col("late_count") / pl.col("instalments_due")).alias("late_share"),
        (pl.col("mean_days_late_last3") - pl.col("_mean_before")).alias("late_trend"),
        (t - pl.col("_last_late_due")).alias("days_since_late"),
        (pl.col("partial_payments") / pl.col("payments")).alias("partial_share"),
        (t - pl.col("_last_pay").fill_null(pl.col("disbursed"))).alias("days_since_payment"),
        ((pl.col("_paid_fen") - pl.col("_due_fen").fill_null(0)) / pl.col("_regular_fen")).alias("paid_ahead"),
        pl.when(first_unpaid < t).then(t - first_unpaid).otherwise(0).fill_null(0).cast(pl.Int32).alias("dpd"),
        (pl.col("_paid_fen") >= pl.col("_total_fen")).fill_null(False).alias("settled"),
        (pl.col("_total_principal") - pl.col("_principal_paid")).alias("outstanding_principal_fen"),
        first_unpaid.cast(pl.Int32).cast(pl.Date).alias("next_due_on"),
        (pl.col("_first_unpaid_cum") - pl.col("_paid_fen")).alias("next_due_fen"),
    )
    out = out.with_columns(pl.col(c).cast(pl.Float64) for c in NUMERIC_FEATURES)
    out = out.with_columns(pl.col(c).fill_nan(None) for c in NUMERIC_FEATURES)
    return out.select("loan_id", *FEATURES, *STATUS_COLUMNS).sort("loan_id")


def label_30dpd(installments: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame, *,
                loan_ids: pl.Series | Sequence[int], start: date, end: date) -> pl.DataFrame:
    """``loan_id``, ``label``: 1 when the loan reaches 30 dpd on a day in ``(start, end]``.

    Meant for loans current (dpd 0) on ``start``; reads payments with ``paid_on <= end`` only.
    """
    ids = loan_ids if isinstance(loan_ids, pl.Series) else pl.Series("loan_id", list(loan_ids), dtype=pl.Int64)
    t0, t1 = day_number(start), day_number(end)
    inst, pays = _prepare(installments, payments, ids, t1)
    inst = inst.with_columns(pl.Series("paid_day", _full_payment_days(inst, pays), dtype=pl.Int64))
    check = pl.col("due") + 30
    bad = (inst.filter((check > t0) & (check <= t1) & (pl.col("paid_day") > check))
           .select("loan_id").unique().with_columns(pl.lit(1, dtype=pl.Int8).alias("label")))
    return (pl.DataFrame({"loan_id": ids.cast(pl.Int64)}).unique(maintain_order=True)
            .join(bad, on="loan_id", how="left").with_columns(pl.col("label").fill_null(0)))


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


def store_features(version: _Store, *, as_of: date, loan_filter: pl.Expr | None = None) -> Iterator[pl.DataFrame]:
    """:func:`loan_features` of each stored partition (optionally only the loans ``loan_filter`` keeps)."""
    for part in range(version.partitions):
        loans, inst, pays = _partition_frames(version, part)
        if loan_filter is not None:
            loans = loans.filter(loan_filter)
        yield loan_features(loans, inst, pays, as_of=as_of)


def training_frame(version: _Store, *, as_of: date, snapshots: Iterable[date], horizon_months: int = 3,
                   sample_per_snapshot: int | None = None, seed: int = 0) -> pl.DataFrame:
    """Features at each snapshot ``T0`` of the loans current then, with ``label`` over ``(T0, T0 + horizon]``.

    Every window must end by ``as_of``. ``snapshot`` holds ``T0`` (for time-aware validation).
    With ``sample_per_snapshot`` at most that many current loans per snapshot are kept (random, seeded).
    """
    from fieldcollect.daily.cycle import add_months

    frames = []
    for i, t0 in enumerate(sorted(snapshots)):
        t1 = add_months(t0, horizon_months)
        if t1 > as_of:
            raise ValueError(f"the label window of snapshot {t0} ends after {as_of}")
        parts = []
        for part in range(version.partitions):
            loans, inst, pays = _partition_frames(version, part)
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


__all__ = ["CATEGORICAL_FEATURES", "FEATURES", "FEATURE_LABELS", "NUMERIC_FEATURES", "STATUS_COLUMNS",
           "current_loans", "label_30dpd", "loan_features", "store_features", "training_frame"]
