from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from fieldcollect.demodata.generator import (
    add_months_clamped,
    customer_chunk,
    gb11643_check_digit,
    schedule_arrays,
    write_demo_portfolio,
)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    counts = write_demo_portfolio(out, n_loans=3000, seed=7, as_of=date(2026, 6, 30), progress=False)
    return out, counts


def test_known_resident_id_check_digit():
    # the standard worked example of GB 11643-1999
    assert gb11643_check_digit("11010519491231002") == "X"
    assert gb11643_check_digit("44052418800101001") == "4"


def test_every_id_number_is_valid(book):
    out, _ = book
    ids = pl.read_parquet(out / "customers.parquet")["id_number"].to_list()
    assert all(len(i) == 18 and gb11643_check_digit(i[:17]) == i[17] for i in ids)


def test_id_numbers_are_unique_in_a_large_book():
    # the book of 100,000 loans with seed 11 (86,956 customers) had 3 repeated ID numbers before
    n = int(100_000 / 1.15)
    ids = pl.concat([customer_chunk(seed=11, lo=lo, hi=min(n, lo + 40_000)) for lo in range(0, n, 40_000)])["id_number"]
    assert ids.len() == n
    assert ids.n_unique() == n
    assert ids.str.contains(r"^\d{17}[\dX]$").all()
    assert all(gb11643_check_digit(i[:17]) == i[17] for i in ids.to_list())
    births = ids.str.slice(6, 8).str.to_date("%Y%m%d")  # a real calendar date, ages 20-60
    assert births.min() >= date(1966, 1, 1) and births.max() < date(2006, 1, 1)
    # seeded: the same numbers again; birth date and sequence do not depend on the chunking
    assert customer_chunk(seed=11, lo=40_000, hi=80_000)["id_number"].equals(ids[40_000:80_000])
    assert (customer_chunk(seed=11, lo=40_000, hi=40_010)["id_number"].str.slice(6, 11).to_list()
            == ids[40_000:40_010].str.slice(6, 11).to_list())
    assert customer_chunk(seed=12, lo=0, hi=10)["id_number"].to_list() != ids[:10].to_list()


def test_months_are_clamped_to_month_end():
    start = np.array([(date(2024, 1, 31) - date(1970, 1, 1)).days])
    got = [add_months_clamped(start, k)[0] for k in (1, 2, 3, 13)]
    assert got == [(d - date(1970, 1, 1)).days for d in (date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30),
                                                          date(2025, 2, 28))]


def test_schedules_repay_principal_exactly():
    principal = np.array([1_200_000, 999_999, 500_000])
    sched = schedule_arrays(principal, np.array([1800, 700, 0]), np.array([12, 7, 3]),
                            np.array([True, False, True]), np.array([20000, 20000, 20000]))
    sums = np.bincount(sched["idx"], weights=sched["principal"])
    assert sums.tolist() == principal.tolist()
    assert (sched["principal"] >= 0).all() and (sched["interest"] >= 0).all()
    # equal instalment: every payment but the last is the same
    first = sched["idx"] == 0
    pay = (sched["principal"] + sched["interest"])[first]
    assert len(set(pay[:-1].tolist())) == 1


def test_book_is_realistic_and_seeded(book, tmp_path):
    out, counts = book
    loans = pl.read_parquet(out / "loans.parquet")
    assert counts["loans"] == 3000 and loans["loan_id"].n_unique() == 3000
    assert loans["principal_fen"].min() >= 100_000 and loans["principal_fen"].max() <= 20_000_000
    assert loans["annual_rate"].min() >= 0.07 and loans["annual_rate"].max() <= 0.24
    assert set(loans["term_months"].unique().to_list()) <= {3, 6, 9, 12, 18, 24, 36}
    assert loans["disbursed_on"].min() >= date(2023, 6, 30)
    pays = pl.read_parquet(out / "payments.parquet")
    assert pays["paid_on"].max() <= date(2026, 6, 30) and (pays["amount_fen"] > 0).all()
    again = tmp_path / "again"
    write_demo_portfolio(again, n_loans=3000, seed=7, as_of=date(2026, 6, 30), progress=False)
    assert pl.read_parquet(again / "payments.parquet").equals(pays)


def test_csv_format(tmp_path):
    counts = write_demo_portfolio(tmp_path, n_loans=50, seed=1, as_of=date(2026, 6, 30), fmt="csv", progress=False)
    frame = pl.read_csv(tmp_path / "installments.csv")
    assert frame.height == counts["installments"]
