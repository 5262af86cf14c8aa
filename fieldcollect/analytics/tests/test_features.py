"""Behavioural features and the 30+ dpd label on a tiny named portfolio with hand-computed answers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fieldcollect.analytics.delinquency import compute_partition, day_number
from fieldcollect.analytics.features import FEATURES, current_loans, label_30dpd, loan_features
from fieldcollect.analytics.tests import reference_features

# Three loans disbursed 2025-01-10, 4 monthly instalments of 1,000 principal + 100 interest (1,100 fen),
# due 02-10, 03-10, 04-10, 05-10.
#   punctual (1): pays every instalment on its due date.
#   sloppy   (2): 02-10 paid 02-15 (5 days late); 03-10 paid in two parts 03-10 (500) and 03-30 (600):
#                 fully paid 03-30 (20 days late); 04-10 paid 04-10.
#   stops    (3): pays 02-10 on time, then nothing.
DUES = [date(2025, 2, 10), date(2025, 3, 10), date(2025, 4, 10), date(2025, 5, 10)]
LOANS = pl.DataFrame({
    "loan_id": [1, 2, 3], "customer_id": [11, 12, 13], "product": ["consumer", "consumer", "auto"],
    "principal_fen": [4000, 4000, 4000], "annual_rate": [0.12, 0.18, 0.24], "term_months": [4, 4, 4],
    "method": ["equal_principal"] * 3, "disbursed_on": [date(2025, 1, 10)] * 3,
}).with_columns(pl.col("term_months").cast(pl.Int32))
INST = pl.DataFrame({
    "loan_id": [i for i in (1, 2, 3) for _ in DUES], "seq": [1, 2, 3, 4] * 3, "due_date": DUES * 3,
    "principal_due_fen": [1000] * 12, "interest_due_fen": [100] * 12,
}).with_columns(pl.col("seq").cast(pl.Int32))
PAYS = pl.DataFrame({
    "payment_id": list(range(1, 10)),
    "loan_id": [1, 1, 1, 2, 2, 2, 2, 3, 1],
    "paid_on": [DUES[0], DUES[1], DUES[2], date(2025, 2, 15), date(2025, 3, 10), date(2025, 3, 30), DUES[2],
                DUES[0], DUES[3]],
    "amount_fen": [1100, 1100, 1100, 1100, 500, 600, 1100, 1100, 1100],
})


def feats(as_of: date, pays: pl.DataFrame = PAYS) -> dict[int, dict[str, object]]:
    frame = loan_features(LOANS, INST, pays, as_of=as_of)
    return {r["loan_id"]: r for r in frame.iter_rows(named=True)}


def test_known_answers_on_2025_04_20():
    f = feats(date(2025, 4, 20))
    punctual, sloppy, stops = f[1], f[2], f[3]
    assert punctual["instalments_due"] == 3 and punctual["late_count"] == 0 and punctual["max_days_late"] == 0
    assert punctual["dpd"] == 0 and punctual["next_due_on"] == DUES[3] and punctual["next_due_fen"] == 1100
    assert punctual["balance_share"] == pytest.approx(0.25)
    assert punctual["term_elapsed_share"] == pytest.approx(0.75)
    assert punctual["tenure_days"] == 100 and punctual["days_since_payment"] == 10
    assert punctual["partial_payments"] == 0 and punctual["paid_ahead"] == pytest.approx(0.0)

    assert sloppy["late_count"] == 2 and sloppy["late_over_7"] == 1 and sloppy["late_over_30"] == 0
    assert sloppy["max_days_late"] == 20 and sloppy["mean_days_late"] == pytest.approx(25 / 3)
    assert sloppy["late_share"] == pytest.approx(2 / 3)
    assert sloppy["payments"] == 4 and sloppy["partial_payments"] == 2  # 500 and 600 < 95 % of 1,100
    assert sloppy["partial_share"] == pytest.approx(0.5)
    assert sloppy["days_since_late"] == (date(2025, 4, 20) - DUES[1]).days
    assert punctual["days_since_late"] == punctual["tenure_days"] == 100  # never late: since disbursement
    assert sloppy["dpd"] == 0 and not sloppy["settled"]

    # stops: 03-10 unpaid for 41 days, 04-10 unpaid for 10 days
    assert stops["dpd"] == 41 and stops["late_count"] == 2 and stops["max_days_late"] == 41
    assert stops["late_over_30"] == 1 and stops["outstanding_principal_fen"] == 3000
    assert stops["next_due_on"] == DUES[1] and stops["days_since_payment"] == (date(2025, 4, 20) - DUES[0]).days
    assert sorted(current_loans(loan_features(LOANS, INST, PAYS, as_of=date(2025, 4, 20)))["loan_id"]) == [1, 2]


def test_last_three_and_trend():
    # on 2025-05-11 all four are due; sloppy's last three: 20 days, 0, and 05-10 unpaid (1 day)
    f = feats(date(2025, 5, 11))[2]
    assert f["late_last3"] == 2
    assert f["mean_days_late_last3"] == pytest.approx((20 + 0 + 1) / 3)
    assert f["late_trend"] == pytest.approx((20 + 0 + 1) / 3 - 5)
    assert f["dpd"] == 1
    assert feats(date(2025, 5, 11))[1]["settled"]


def test_no_leakage_payments_after_the_date_change_nothing():
    as_of = date(2025, 3, 20)
    later = pl.DataFrame({"payment_id": [100, 101], "loan_id": [3, 2], "paid_on": [date(2025, 3, 21), date(2025, 6, 1)],
                          "amount_fen": [5000, 9999]})
    base = loan_features(LOANS, INST, PAYS, as_of=as_of)
    more = loan_features(LOANS, INST, pl.concat([PAYS, later]), as_of=as_of)
    assert base.equals(more)
    # and the features are those of the truncated history
    cut = loan_features(LOANS, INST, PAYS.filter(pl.col("paid_on") <= as_of), as_of=as_of)
    assert base.equals(cut)


def kernel_status(loans: pl.DataFrame, inst: pl.DataFrame, pays: pl.DataFrame, as_of: date) -> dict[str, np.ndarray]:
    """The nightly kernel's columns (:func:`compute_partition`) for the frames' loans as of ``as_of``."""
    return compute_partition(
        loan_id=loans["loan_id"].to_numpy(), disbursed_day=np.array([day_number(d) for d in loans["disbursed_on"]]),
        principal_fen=loans["principal_fen"].to_numpy(), inst_loan_id=inst["loan_id"].to_numpy(),
        inst_seq=inst["seq"].to_numpy(), inst_due_day=np.array([day_number(d) for d in inst["due_date"]]),
        inst_principal=inst["principal_due_fen"].to_numpy(), inst_interest=inst["interest_due_fen"].to_numpy(),
        pay_loan_id=pays["loan_id"].to_numpy(), pay_day=np.array([day_number(d) for d in pays["paid_on"]]),
        pay_amount=pays["amount_fen"].to_numpy(), as_of=as_of).columns


def test_dpd_agrees_with_the_nightly_kernel():
    for as_of in (date(2025, 2, 11), date(2025, 3, 25), date(2025, 4, 20), date(2025, 6, 1)):
        mine = loan_features(LOANS, INST, PAYS, as_of=as_of).sort("loan_id")
        res = kernel_status(LOANS, INST, PAYS, as_of)
        assert mine["dpd"].to_list() == res["dpd"].tolist()
        assert mine["outstanding_principal_fen"].to_list() == res["outstanding_principal_fen"].tolist()
        assert mine["settled"].to_list() == res["settled"].tolist()


def test_label_window():
    # stops: 03-10 unpaid → 30 dpd on 04-09. Window (03-01, 06-01] catches it; (04-09, 07-09] catches 04-10+30.
    lab = label_30dpd(INST, PAYS, loan_ids=[1, 2, 3], start=date(2025, 3, 1), end=date(2025, 6, 1))
    assert dict(lab.iter_rows()) == {1: 0, 2: 0, 3: 1}
    # sloppy's 20-day delay never reaches 30; a window ending the day before 04-09 misses loan 3
    lab = label_30dpd(INST, PAYS, loan_ids=[3], start=date(2025, 1, 10), end=date(2025, 4, 8))
    assert dict(lab.iter_rows()) == {3: 0}
    lab = label_30dpd(INST, PAYS, loan_ids=[3], start=date(2025, 1, 10), end=date(2025, 4, 9))
    assert dict(lab.iter_rows()) == {3: 1}
    # a payment on day 30 cures it (payments on the day count, as in the kernel)
    cure = pl.concat([PAYS, pl.DataFrame({"payment_id": [50], "loan_id": [3], "paid_on": [date(2025, 4, 9)],
                                          "amount_fen": [1100]})])
    lab = label_30dpd(INST, cure, loan_ids=[3], start=date(2025, 1, 10), end=date(2025, 4, 20))
    assert dict(lab.iter_rows()) == {3: 0}


def test_every_feature_present_and_numeric_types():
    frame = loan_features(LOANS, INST, PAYS, as_of=date(2025, 4, 20))
    assert set(FEATURES) <= set(frame.columns)
    assert frame.schema["late_count"] == pl.Float64 and frame.schema["product"] == pl.String
    # loans disbursed on or after the date are left out
    assert loan_features(LOANS, INST, PAYS, as_of=date(2025, 1, 10)).height == 0


def test_days_since_payment_counts_from_disbursement_when_nothing_paid():
    f = feats(date(2025, 2, 5))  # before the first due date: nobody has paid
    assert all(f[i]["days_since_payment"] == 26 and f[i]["payments"] == 0 for i in (1, 2, 3))


def test_status_agrees_with_the_kernel_on_a_generated_book(tmp_path):
    from fieldcollect.demodata.generator import write_demo_portfolio

    write_demo_portfolio(tmp_path, n_loans=400, seed=5, as_of=date(2026, 6, 30), progress=False)
    loans, inst, pays = (pl.read_parquet(tmp_path / f"{t}.parquet") for t in ("loans", "installments", "payments"))
    for as_of in (date(2025, 9, 15), date(2026, 6, 30)):
        mine = loan_features(loans, inst, pays, as_of=as_of)
        res = kernel_status(loans, inst, pays, as_of)
        kernel = pl.DataFrame({"loan_id": res["loan_id"], "dpd_k": res["dpd"], "out_k": res["outstanding_principal_fen"],
                               "settled_k": res["settled"], "disb": res["disbursed_day"]})
        kernel = kernel.filter(pl.col("disb") < day_number(as_of))  # features leave out loans disbursed that day
        joined = mine.join(kernel, on="loan_id", how="full", coalesce=True)
        assert joined.height == mine.height == kernel.height
        assert (joined["dpd"] == joined["dpd_k"]).all()
        assert (joined["outstanding_principal_fen"] == joined["out_k"]).all()
        assert (joined["settled"] == joined["settled_k"]).all()


def test_training_frame_from_the_store(fc_home):
    from fieldcollect.analytics.features import training_frame
    from fieldcollect.ingest.store import publish, require_current, write_version

    publish(write_version({"loans": LOANS, "installments": INST, "payments": PAYS,
                           "customers": pl.DataFrame({"customer_id": [11, 12, 13], "province": ["p"] * 3,
                                                      "city": ["c"] * 3, "district": ["d"] * 3})}))
    frame = training_frame(require_current(), as_of=date(2025, 6, 1),
                           snapshots=[date(2025, 2, 20), date(2025, 3, 1)], horizon_months=3)
    # 02-20: all three current; 03-01: all three current (stops' 03-10 not yet due)
    assert frame.group_by("snapshot").len().sort("snapshot")["len"].to_list() == [3, 3]
    labels = {(r["snapshot"], r["loan_id"]): r["label"] for r in frame.iter_rows(named=True)}
    assert labels[(date(2025, 3, 1), 3)] == 1 and labels[(date(2025, 3, 1), 2)] == 0
    # features of a snapshot are those computed from the payments made by then
    row = frame.filter((pl.col("snapshot") == date(2025, 3, 1)) & (pl.col("loan_id") == 2)).row(0, named=True)
    alone = feats(date(2025, 3, 1), PAYS.filter(pl.col("paid_on") <= date(2025, 3, 1)))[2]
    assert all(row[c] == alone[c] for c in FEATURES)
    with pytest.raises(ValueError, match="ends after"):
        training_frame(require_current(), as_of=date(2025, 5, 1), snapshots=[date(2025, 3, 1)], horizon_months=3)


# ----------------------------------------------------------- the compiled pass against the NumPy reference
book_strategy = st.lists(st.fixed_dictionaries({
    "n": st.integers(0, 7),
    "start": st.integers(0, 400),
    "principal": st.lists(st.integers(0, 30_000), min_size=7, max_size=7),  # zero-amount instalments too
    "interest": st.lists(st.integers(0, 3_000), min_size=7, max_size=7),
    "gap": st.integers(1, 45),
    "payments": st.lists(st.tuples(st.integers(-5, 400), st.integers(-2_000, 40_000)), max_size=10),
}), min_size=1, max_size=8)


def _frames(book: list[dict], shuffle: bool) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    base = date(2024, 1, 1)
    loans, inst, pays = [], [], []
    for i, loan in enumerate(book):
        start = base + timedelta(days=loan["start"])
        loans.append({"loan_id": 500 - i, "product": "consumer", "principal_fen": sum(loan["principal"][:loan["n"]]),
                      "annual_rate": 0.1, "term_months": loan["n"], "method": "annuity", "disbursed_on": start})
        for k in range(loan["n"]):
            inst.append({"loan_id": 500 - i, "seq": k + 1, "due_date": start + timedelta(days=loan["gap"] * (k + 1)),
                         "principal_due_fen": loan["principal"][k], "interest_due_fen": loan["interest"][k]})
        pays += [{"loan_id": 500 - i, "paid_on": start + timedelta(days=d), "amount_fen": a} for d, a in loan["payments"]]
    frames = (pl.DataFrame(loans, schema_overrides={"term_months": pl.Int32}),
              pl.DataFrame(inst, schema={"loan_id": pl.Int64, "seq": pl.Int32, "due_date": pl.Date,
                                         "principal_due_fen": pl.Int64, "interest_due_fen": pl.Int64}),
              pl.DataFrame(pays, schema={"loan_id": pl.Int64, "paid_on": pl.Date, "amount_fen": pl.Int64}))
    if shuffle:
        return tuple(f.sample(fraction=1.0, shuffle=True, seed=3) for f in frames)  # type: ignore[return-value]
    return frames[0].sort("loan_id"), frames[1].sort("loan_id", "seq"), frames[2].sort("loan_id", "paid_on")


@settings(max_examples=120, deadline=None)
@given(book=book_strategy, at=st.integers(0, 500), horizon=st.integers(1, 120), shuffle=st.booleans())
def test_compiled_features_and_label_equal_the_numpy_reference(book, at, horizon, shuffle):
    """Every feature, status column and label, on books with zero-amount instalments, refunds (negative or
    zero payments), payments after the date, loans not yet disbursed, and rows in any order."""
    loans, inst, pays = _frames(book, shuffle)
    as_of = date(2024, 1, 1) + timedelta(days=at)
    mine = loan_features(loans, inst, pays, as_of=as_of)
    ref = reference_features.loan_features(loans, inst, pays, as_of=as_of)
    assert_frame_equal(mine, ref)
    if mine.height:
        end = as_of + timedelta(days=horizon)
        assert_frame_equal(label_30dpd(inst, pays, loan_ids=mine["loan_id"], start=as_of, end=end),
                           reference_features.label_30dpd(inst, pays, loan_ids=mine["loan_id"], start=as_of, end=end))


def test_compiled_features_equal_the_reference_on_a_generated_book(tmp_path):
    from fieldcollect.demodata.generator import write_demo_portfolio

    write_demo_portfolio(tmp_path, n_loans=600, seed=11, as_of=date(2026, 6, 30), progress=False)
    loans, inst, pays = (pl.read_parquet(tmp_path / f"{t}.parquet") for t in ("loans", "installments", "payments"))
    for as_of in (date(2025, 3, 1), date(2026, 6, 30)):
        assert_frame_equal(loan_features(loans, inst, pays, as_of=as_of),
                           reference_features.loan_features(loans, inst, pays, as_of=as_of))
