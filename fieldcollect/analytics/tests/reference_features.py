"""The early-warning features as a dozen vectorised NumPy passes: the reference the compiled pass is held to.

This was the production implementation until the nightly cycle needed it faster; it stays, unchanged,
as an independent oracle for ``fieldcollect.analytics.features`` (tests only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from fieldcollect.analytics.features import (
    INSTALMENT_COLUMNS,
    NEVER,
    PARTIAL_SHARE,
    PAYMENT_COLUMNS,
    _as_frame,
    _features_frame,
    _loans_disbursed_before,
    day_number,
)

_CUM_BITS = 36


def _locate(sorted_ids: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each query id in ``sorted_ids`` and whether it is there (runs of equal ids looked up once)."""
    n = len(sorted_ids)
    if len(query) == 0 or n == 0:
        return np.zeros(len(query), dtype=np.int64), np.zeros(len(query), dtype=bool)
    starts = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
    uq = query[starts]
    idx_u = np.searchsorted(sorted_ids, uq)
    ok_u = sorted_ids[np.minimum(idx_u, n - 1)] == uq
    counts = np.diff(np.r_[starts, len(query)])
    return np.repeat(idx_u, counts), np.repeat(ok_u, counts)


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


def loan_features(loans: pl.DataFrame | pl.LazyFrame, installments: pl.DataFrame | pl.LazyFrame,
                  payments: pl.DataFrame | pl.LazyFrame, *, as_of: date) -> pl.DataFrame:
    """One row per loan disbursed before ``as_of``: ``loan_id``, :data:`FEATURES` and :data:`STATUS_COLUMNS`.

    Only payments with ``paid_on <= as_of`` are read.
    """
    t = day_number(as_of)
    lf = _loans_disbursed_before(loans, t)
    ids = lf["loan_id"].to_numpy().astype(np.int64)
    b = _book(ids, installments, payments, t)
    n, ii, pi = b.n, b.ii, b.pi

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
    total_fen = _sum(ii, b.amt, n)
    regular = np.where(n_inst > 0, total_fen / np.where(n_inst > 0, n_inst, 1), np.nan)
    principal_paid = np.clip(paid_fen[ii] - (b.cum - b.amt) - b.it, 0, b.ip)  # waterfall
    sums = {
        "n_inst": n_inst, "n_due": n_due, "late": _count(ii, late, n),
        "late7": _count(ii, is_due & (late_days > 7), n), "late30": _count(ii, is_due & (late_days > 30), n),
        "max_late": _extreme(ii, late_days, n, is_due, largest=True), "sum_late": _sum(ii, late_days, n, is_due),
        "sum_recent": _sum(ii, late_days, n, recent), "n_recent": _count(ii, recent, n),
        "sum_before": _sum(ii, late_days, n, before), "n_before": _count(ii, before, n),
        "last_late_due": _extreme(ii, b.due, n, late, largest=True),
        "n_pay": np.bincount(pi, minlength=n).astype(np.float64),
        "partial": _count(pi, b.pamt < PARTIAL_SHARE * regular[pi], n) if len(pi) else np.zeros(n),
        "last_pay": _extreme(pi, b.pday, n, np.ones(len(pi), dtype=bool), largest=True),
        "paid": paid_fen, "total": total_fen, "due_amount": _sum(ii, b.amt, n, is_due),
        "outstanding": _sum(ii, b.ip, n) - _sum(ii, principal_paid, n),
        "first_unpaid_due": _extreme(ii, b.due, n, unpaid, largest=False),
        "first_unpaid_cum": _extreme(ii, b.cum, n, unpaid, largest=False),
        "late_recent": _count(ii, recent & late, n),
    }
    return _features_frame(t, lf, sums)

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
