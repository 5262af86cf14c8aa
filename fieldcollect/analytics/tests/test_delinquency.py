"""The dpd contract on hand-made edge cases and against a brute-force waterfall."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcollect.analytics.delinquency import (
    DEFAULT_RANGES,
    EPOCH,
    NO_DATE,
    DelinquencyRange,
    bucket_labels,
    compute_partition,
    day_number,
    validate_ranges,
)

# one loan disbursed 2024-01-31: dues clamp to 2024-02-29 (leap day), 03-31, 04-30
DUES = [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
PRINCIPAL = [1000, 1000, 1000]
INTEREST = [100, 100, 100]


def status(payments: list[tuple[date, int]], as_of: date, *, previous: date | None = None,
           disbursed: date = date(2024, 1, 31)) -> dict[str, object]:
    res = compute_partition(
        loan_id=np.array([7]),
        disbursed_day=np.array([day_number(disbursed)]),
        principal_fen=np.array([3000]),
        inst_loan_id=np.array([7, 7, 7]),
        inst_seq=np.array([1, 2, 3]),
        inst_due_day=np.array([day_number(d) for d in DUES]),
        inst_principal=np.array(PRINCIPAL),
        inst_interest=np.array(INTEREST),
        pay_loan_id=np.array([7] * len(payments), dtype=np.int64),
        pay_day=np.array([day_number(d) for d, _ in payments], dtype=np.int64),
        pay_amount=np.array([a for _, a in payments], dtype=np.int64),
        as_of=as_of,
        previous=previous,
    )
    rows = res.to_arrow().to_pylist()
    return rows[0] if rows else {}


def test_unpaid_after_leap_day_due_date():
    s = status([], date(2024, 3, 1))
    assert s["dpd"] == 1 and s["bucket"] == "M1"
    assert s["overdue_fen"] == 1100 and s["outstanding_principal_fen"] == 3000


def test_due_today_is_not_overdue():
    s = status([], date(2024, 2, 29))
    assert s["dpd"] == 0 and s["overdue_fen"] == 0 and s["bucket"] == "M0"


def test_paid_on_the_due_date():
    s = status([(date(2024, 2, 29), 1100)], date(2024, 2, 29))
    assert s["dpd"] == 0 and s["outstanding_principal_fen"] == 2000 and s["paid_total_fen"] == 1100


def test_paid_early():
    s = status([(date(2024, 2, 10), 1100)], date(2024, 3, 10))
    assert s["dpd"] == 0 and s["overdue_fen"] == 0 and s["outstanding_principal_fen"] == 2000


def test_partial_payment_interest_first():
    s = status([(date(2024, 2, 29), 1050)], date(2024, 3, 10))
    assert s["dpd"] == 10 and s["overdue_fen"] == 50
    assert s["outstanding_principal_fen"] == 2050  # 1050 - 100 interest = 950 principal repaid


def test_small_partial_payment_covers_interest_only():
    s = status([(date(2024, 3, 2), 60)], date(2024, 3, 10))
    assert s["dpd"] == 10 and s["overdue_fen"] == 1040 and s["outstanding_principal_fen"] == 3000


def test_overpayment_prepays_the_next_instalments():
    s = status([(date(2024, 2, 20), 2500)], date(2024, 4, 5))
    assert s["dpd"] == 0 and s["overdue_fen"] == 0
    assert s["outstanding_principal_fen"] == 800  # third instalment: 100 interest + 200 principal paid


def test_payment_after_as_of_is_ignored():
    s = status([(date(2024, 3, 5), 1100)], date(2024, 3, 4))
    assert s["dpd"] == 4 and s["overdue_fen"] == 1100


def test_month_end_and_bucket_m4():
    s = status([], date(2024, 5, 31))
    assert s["dpd"] == 92 and s["bucket"] == "M4" and s["overdue_fen"] == 3300


def test_oldest_unpaid_instalment_sets_dpd():
    # first instalment paid late on 2024-04-10, second still unpaid → dpd counts from 03-31
    s = status([(date(2024, 4, 10), 1100)], date(2024, 4, 20))
    assert s["dpd"] == 20 and s["overdue_fen"] == 1100


def test_fully_paid_is_settled():
    s = status([(date(2024, 2, 29), 1100), (date(2024, 3, 31), 1100), (date(2024, 4, 30), 1100)], date(2024, 6, 1))
    assert s["settled"] is True and s["outstanding_principal_fen"] == 0 and s["dpd"] == 0


def test_overpaid_beyond_schedule():
    s = status([(date(2024, 2, 1), 5000)], date(2024, 6, 1))
    assert s["settled"] is True and s["outstanding_principal_fen"] == 0 and s["overdue_fen"] == 0


def test_not_yet_disbursed_loan_is_left_out():
    assert status([], date(2024, 1, 30)) == {}


def test_previous_date_and_first_30dpd():
    s = status([], date(2024, 5, 31), previous=date(2024, 4, 30))
    assert s["prev_dpd"] == 61 and s["prev_bucket"] == "M3"
    assert s["first_30dpd_day"] == day_number(date(2024, 2, 29) + timedelta(days=30))


def test_bucket_boundaries():
    dpd = np.array([0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181, 2000])
    assert list(bucket_labels(dpd)) == ["M0", "M1", "M1", "M2", "M2", "M3", "M3", "M4", "M4", "M5", "M5", "M6",
                                        "M6", "M6+", "M6+"]


def test_configurable_ranges():
    ranges = validate_ranges([DelinquencyRange("current", 0, 0), DelinquencyRange("early", 1, 89),
                              DelinquencyRange("npl", 90, None)])
    assert list(bucket_labels(np.array([0, 5, 89, 90]), ranges)) == ["current", "early", "early", "npl"]
    with pytest.raises(ValueError, match="contiguous"):
        validate_ranges([DelinquencyRange("a", 0, 0), DelinquencyRange("b", 2, None)])
    with pytest.raises(ValueError, match="open-ended"):
        validate_ranges([DelinquencyRange("a", 0, 10)])


# ----------------------------------------------------------------------- brute force, property test
def brute_force(dues, principal, interest, payments, as_of):
    """Allocate each payment (by date) to instalments oldest first, interest before principal."""
    paid_i = [0] * len(dues)
    paid_p = [0] * len(dues)
    for _, amount in sorted(p for p in payments if p[0] <= as_of):
        for k in range(len(dues)):
            take = min(amount, interest[k] - paid_i[k])
            paid_i[k] += take
            amount -= take
            take = min(amount, principal[k] - paid_p[k])
            paid_p[k] += take
            amount -= take
    unpaid = [interest[k] + principal[k] - paid_i[k] - paid_p[k] for k in range(len(dues))]
    late = [dues[k] for k in range(len(dues)) if unpaid[k] > 0 and dues[k] < as_of]
    return {
        "dpd": (as_of - min(late)).days if late else 0,
        "overdue_fen": sum(unpaid[k] for k in range(len(dues)) if dues[k] < as_of),
        "outstanding_principal_fen": sum(principal) - sum(paid_p),
        "paid_total_fen": sum(a for d, a in payments if d <= as_of),
        "settled": sum(unpaid) == 0,
    }


def brute_first_30dpd(dues, principal, interest, payments, as_of):
    """The first day by ``as_of`` on which the loan was 30 or more days past due, day by day."""
    candidates = sorted(d + timedelta(days=30) for d in dues if d + timedelta(days=30) <= as_of)
    for day in candidates:
        if brute_force(dues, principal, interest, payments, day)["dpd"] >= 30:
            return day_number(day)
    return NO_DATE


loan_strategy = st.fixed_dictionaries({
    "n": st.integers(1, 6),
    "start": st.dates(date(2023, 1, 1), date(2024, 12, 31)),
    "principal": st.lists(st.integers(0, 50_000), min_size=6, max_size=6),
    "interest": st.lists(st.integers(0, 5_000), min_size=6, max_size=6),
    "payments": st.lists(st.tuples(st.integers(0, 250), st.integers(1, 60_000)), max_size=8),
})


@settings(max_examples=150, deadline=None)
@given(loans=st.lists(loan_strategy, min_size=1, max_size=6), offset=st.integers(0, 260),
       back=st.integers(1, 60), shuffle_dues=st.booleans(), store_order=st.booleans())
def test_kernel_matches_brute_force(loans, offset, back, shuffle_dues, store_order):
    """Every column on ``as_of`` and ``previous``, and the first 30-dpd day, against the waterfall by hand.

    ``shuffle_dues`` gives instalments due dates out of seq order (the compiled kernel walks payments
    again when a due date goes back). ``store_order`` hands the rows over as the store keeps them (sorted by
    loan, then seq or paid day: nothing is sorted again) with rows of loans that are not in the partition
    before, between and after them (they must count for no loan).
    """
    as_of = date(2023, 1, 1) + timedelta(days=offset + 200)
    previous = as_of - timedelta(days=back)
    ids, disb, ppal = [], [], []
    inst = {"l": [], "s": [], "d": [], "p": [], "i": []}
    pays = {"l": [], "d": [], "a": []}
    expected = {}
    for j, loan in enumerate(loans):
        lid = 100 + 2 * j  # odd ids between them are not in the partition
        dues = [loan["start"] + timedelta(days=30 * (k + 1)) for k in range(loan["n"])]
        if shuffle_dues:
            dues = dues[1::2] + dues[0::2]
        pr, it = loan["principal"][: loan["n"]], loan["interest"][: loan["n"]]
        pp = [(loan["start"] + timedelta(days=d), a) for d, a in loan["payments"]]
        ids.append(lid)
        disb.append(day_number(loan["start"]))
        ppal.append(sum(pr))
        for k in reversed(range(loan["n"])):  # unsorted on purpose
            for key, value in (("l", lid), ("s", k + 1), ("d", day_number(dues[k])), ("p", pr[k]), ("i", it[k])):
                inst[key].append(value)
        for d, a in pp:
            for key, value in (("l", lid), ("d", day_number(d)), ("a", a)):
                pays[key].append(value)
        if loan["start"] <= as_of:
            now, before = brute_force(dues, pr, it, pp, as_of), brute_force(dues, pr, it, pp, previous)
            active = loan["start"] <= previous
            expected[lid] = {**now, "first_30dpd_day": brute_first_30dpd(dues, pr, it, pp, as_of),
                             "prev_active": active, "prev_dpd": before["dpd"] if active else -1,
                             "prev_settled": active and before["settled"],
                             "prev_outstanding_principal_fen": before["outstanding_principal_fen"] if active else 0}
    if store_order:
        for stray in (99, 101, 100 + 2 * len(loans)):  # ids not in ``loan_id``
            for key, value in (("l", stray), ("s", 1), ("d", day_number(as_of) - 400), ("p", 10**6), ("i", 7)):
                inst[key].append(value)
            for key, value in (("l", stray), ("d", day_number(as_of) - 300), ("a", 5_000)):
                pays[key].append(value)
        o = np.lexsort((inst["s"], inst["l"]))
        inst = {k: [v[i] for i in o] for k, v in inst.items()}
        o = np.lexsort((pays["d"], pays["l"]))
        pays = {k: [v[i] for i in o] for k, v in pays.items()}
    cols = compute_partition(
        loan_id=np.array(ids[::-1]), disbursed_day=np.array(disb[::-1]), principal_fen=np.array(ppal[::-1]),
        inst_loan_id=np.array(inst["l"]), inst_seq=np.array(inst["s"]), inst_due_day=np.array(inst["d"]),
        inst_principal=np.array(inst["p"]), inst_interest=np.array(inst["i"]),
        pay_loan_id=np.array(pays["l"], dtype=np.int64), pay_day=np.array(pays["d"], dtype=np.int64),
        pay_amount=np.array(pays["a"], dtype=np.int64), as_of=as_of, previous=previous,
    ).columns
    keys = ("dpd", "overdue_fen", "outstanding_principal_fen", "paid_total_fen", "first_30dpd_day", "prev_dpd",
            "prev_outstanding_principal_fen")
    flags = ("settled", "prev_active", "prev_settled")
    got = {int(cols["loan_id"][i]): {**{k: int(cols[k][i]) for k in keys}, **{k: bool(cols[k][i]) for k in flags}}
           for i in range(len(cols["loan_id"]))}
    assert got == expected
    assert all(cols["first_unpaid_day"][i] == NO_DATE or cols["first_unpaid_day"][i] > 0 for i in range(len(got)))


def test_default_ranges_are_valid():
    assert validate_ranges(list(DEFAULT_RANGES)) == DEFAULT_RANGES


def test_first_30dpd_ignores_an_instalment_of_nothing_due_before_an_unpaid_one():
    """Found by the property test: seq 2 (nothing due) falls due before seq 1 (1 fen unpaid). On seq 2's
    day + 30 the loan is not 30 days past due (seq 1 fell due that very day); it is 30 days later."""
    d1, d2 = 19418, 19388
    cols = compute_partition(
        loan_id=np.array([100]), disbursed_day=np.array([19358]), principal_fen=np.array([0]),
        inst_loan_id=np.array([100, 100]), inst_seq=np.array([1, 2]), inst_due_day=np.array([d1, d2]),
        inst_principal=np.array([0, 0]), inst_interest=np.array([1, 0]),
        pay_loan_id=np.array([], dtype=np.int64), pay_day=np.array([], dtype=np.int64),
        pay_amount=np.array([], dtype=np.int64), as_of=EPOCH + timedelta(days=19558)).columns
    assert int(cols["first_30dpd_day"][0]) == d1 + 30
    assert int(cols["dpd"][0]) == 19558 - d1
